//! One story per anomaly class (docs/DOMAIN.md 1–14) that must raise it, and a near-miss that must
//! not. Stories run through the real ledger; classes the rules already prevent on append (a broken
//! chain, a teleport) are shown on events taken out of a real log, as a bundle from an untrusted
//! source would present them.

mod support;

use custody::ItemId;
use custody::Timestamp;
use custody::audit::{self, Finding, Severity};
use custody::casefile::{self, Scope};
use serde_json::json;
use support::*;

const BAG: &str = "BB-AUD-0001";
const SEAL: &str = "SEG-AUD-0001";

fn at(w: &World, hours_from_now: i64) -> Timestamp {
    use custody::Clock as _;
    w.clock.now().plus_ms(hours_from_now * 3_600_000)
}

fn findings(w: &World, as_of: Timestamp) -> Vec<Finding> {
    let scope = Scope::Item(ItemId::parse(BAG).expect("valid"));
    casefile::audit(&w.ledger, &scope, as_of, &mut |_, _| {})
        .expect("audit")
        .findings
}

fn classes(f: &[Finding]) -> Vec<u8> {
    f.iter().map(|f| f.class).collect()
}

fn has(f: &[Finding], class: u8, severity: Severity) -> bool {
    f.iter().any(|x| {
        x.class == class
            && x.severity == severity
            && !x.english.is_empty()
            && !x.indonesian.is_empty()
    })
}

/// A bag found by A (witness B), sealed with photos, handed to the investigator.
fn story() -> World {
    story_in(World::new())
}

/// A ledger recorded under rules version 4, before version 5 refused at record time what some
/// classes find (a reused seal, an act dated before its item's find) and asked for a
/// confirmation of others (a late receipt, a weight drift): the audit still finds them in the
/// ledgers recorded before (tests/impossible_facts.rs shows the refusals).
fn before_v5() -> World {
    World::with_rules(Some(4))
}

/// The story in `w`.
fn story_in(w: World) -> World {
    w.find(BAG, GATE_A, GATE_B).expect("find");
    w.act("item_sealed", &[("actor", GATE_A), ("witness", SECURITY)], &[BAG], json!({
        "item": BAG, "seals_applied": [SEAL], "packaging": "bag", "photos": [format!("sha256:{}", "ab".repeat(32))]})).expect("seal");
    w.release(BAG, GATE_A, [GATE_B, SECURITY], INVESTIGATOR, &[SEAL])
        .expect("release");
    w.receive(BAG, INVESTIGATOR, &[SEAL], true)
        .expect("receive");
    w
}

fn weigh(w: &World, net: u64, witness: usize) {
    w.weigh(BAG, INVESTIGATOR, witness, net).expect("weigh");
}

fn order_destroy(w: &World) {
    w.act(
        "status_determined",
        &[("prosecutor", PROSECUTOR)],
        &[BAG],
        json!({
        "order_number": "PRINT-9/2025", "items": [{"item": BAG, "status": "destroy"}]}),
    )
    .expect("order");
}

fn destroy(w: &World, mass: u64) {
    w.act("destroyed", &[("actor", INVESTIGATOR), ("witness", INVESTIGATOR_2), ("witness", SECURITY), ("official", PROSECUTOR)], &[BAG], json!({
        "item": BAG, "order_ref": "PRINT-9/2025", "mass_destroyed_mg": mass, "method": "incinerated",
        "media": [format!("sha256:{}", "cd".repeat(32))]})).expect("destroy");
}

#[test]
fn a_clean_story_has_no_findings() {
    let w = story();
    weigh(&w, 11_200, INVESTIGATOR_2);
    order_destroy(&w);
    weigh(&w, 11_200, INVESTIGATOR_2);
    destroy(&w, 11_200);
    let f = findings(&w, at(&w, 1));
    assert!(f.is_empty(), "unexpected findings: {f:#?}");
}

#[test]
fn class_1_a_broken_item_chain() {
    let w = story();
    let gathered = casefile::gather(
        &w.ledger,
        &Scope::Item(ItemId::parse(BAG).expect("valid")),
        &mut |_, _| {},
    )
    .expect("gather");
    let state = w.ledger.state();
    let whole = audit::audit(&gathered.events, &state, at(&w, 1), audit::THRESHOLDS);
    assert!(!classes(&whole).contains(&1), "near-miss: the intact chain");
    let mut dropped = gathered.events.clone();
    dropped.remove(1); // the sealing is missing from what a bundle shows
    let f = audit::audit(&dropped, &state, at(&w, 1), audit::THRESHOLDS);
    assert!(has(&f, 1, Severity::Critical), "{f:#?}");
}

#[test]
fn class_2_a_release_never_received_and_a_long_transit() {
    let w = before_v5();
    w.find(BAG, GATE_A, GATE_B).expect("find");
    w.release(BAG, GATE_A, [GATE_B, SECURITY], INVESTIGATOR, &[])
        .expect("release");
    assert!(
        !classes(&findings(&w, at(&w, 23))).contains(&2),
        "near-miss: 23 hours in transit"
    );
    assert!(has(&findings(&w, at(&w, 25)), 2, Severity::Serious));
    w.clock.advance_ms(30 * 3_600_000);
    w.receive(BAG, INVESTIGATOR, &[], true).expect("receive");
    assert!(
        has(&findings(&w, at(&w, 1)), 2, Severity::Warning),
        "received, but after 30 hours"
    );
}

#[test]
fn class_3_a_release_by_someone_who_is_not_the_holder() {
    let w = story();
    w.release(
        BAG,
        INVESTIGATOR,
        [INVESTIGATOR_2, SECURITY],
        INVESTIGATOR_2,
        &[SEAL],
    )
    .expect("release");
    let gathered = casefile::gather(
        &w.ledger,
        &Scope::Item(ItemId::parse(BAG).expect("valid")),
        &mut |_, _| {},
    )
    .expect("gather");
    let state = w.ledger.state();
    assert!(
        !classes(&audit::audit(
            &gathered.events,
            &state,
            at(&w, 1),
            audit::THRESHOLDS
        ))
        .contains(&3)
    );
    // Without the investigator's receipt, the second release comes from a non-holder.
    let mut events = gathered.events.clone();
    events.retain(|e| e.statement.kind.as_str() != "custody_received");
    let f = audit::audit(&events, &state, at(&w, 1), audit::THRESHOLDS);
    assert!(has(&f, 3, Severity::Critical), "{f:#?}");
}

#[test]
fn class_4_the_finder_weighs_with_the_same_sole_witness() {
    let near = World::new();
    near.find(BAG, GATE_A, GATE_B).expect("find");
    near.weigh(BAG, GATE_A, SECURITY, 11_000).expect("weigh");
    assert!(!classes(&findings(&near, at(&near, 1))).contains(&4));
    let w = World::new();
    w.find(BAG, GATE_A, GATE_B).expect("find");
    w.weigh(BAG, GATE_A, GATE_B, 11_000).expect("weigh");
    assert!(has(&findings(&w, at(&w, 1)), 4, Severity::Warning));
}

#[test]
fn class_5_mass_that_does_not_balance() {
    let run = |destroyed: u64| {
        let w = story();
        weigh(&w, 11_200, INVESTIGATOR_2);
        order_destroy(&w);
        weigh(&w, 11_200, INVESTIGATOR_2);
        destroy(&w, destroyed);
        findings(&w, at(&w, 1))
    };
    assert!(
        !classes(&run(11_198)).contains(&5),
        "near-miss: 2 mg within 2 weighings × 1 mg"
    );
    let f = run(11_000);
    assert!(has(&f, 5, Severity::Serious), "{f:#?}");
    let detail = f
        .iter()
        .find(|x| x.class == 5)
        .and_then(|x| x.detail.clone())
        .expect("the arithmetic");
    assert!(
        detail.contains("= 200 mg") && detail.contains("N·d"),
        "{detail}"
    );
}

#[test]
fn class_6_weight_drift_under_an_intact_seal() {
    let run = |second: u64| {
        let w = story_in(before_v5());
        weigh(&w, 11_200, INVESTIGATOR_2);
        weigh(&w, second, INVESTIGATOR_2);
        findings(&w, at(&w, 1))
    };
    assert!(!classes(&run(11_202)).contains(&6), "near-miss: within 2·d");
    assert!(has(&run(11_150), 6, Severity::Serious));
}

#[test]
fn class_7_a_broken_seal_at_receipt_and_a_reused_seal() {
    let near = story();
    assert!(!classes(&findings(&near, at(&near, 1))).contains(&7));
    let w = before_v5();
    w.find(BAG, GATE_A, GATE_B).expect("find");
    w.seal(BAG, GATE_A, GATE_B, SEAL).expect("seal");
    w.release(BAG, GATE_A, [GATE_B, SECURITY], INVESTIGATOR, &[SEAL])
        .expect("release");
    w.receive(BAG, INVESTIGATOR, &[SEAL], false)
        .expect("received with a broken seal");
    assert!(has(&findings(&w, at(&w, 1)), 7, Severity::Serious));
    // The same seal number on another item.
    let other = "BB-AUD-0002";
    w.find(other, GATE_A, GATE_B).expect("find");
    w.seal(other, GATE_A, GATE_B, SEAL)
        .expect("seal with a used number");
    let all = casefile::audit(&w.ledger, &Scope::All, at(&w, 1), &mut |_, _| {})
        .expect("audit")
        .findings;
    assert!(
        all.iter()
            .any(|f| f.class == 7 && f.english.contains("was used on item")),
        "{all:#?}"
    );
}

#[test]
fn class_8_a_missed_statutory_clock() {
    let seize = |w: &World| {
        w.act("seizure_recorded", &[("investigator", INVESTIGATOR), ("witness", INVESTIGATOR_2), ("witness", SECURITY)], &[BAG], json!({
            "item": BAG, "case": "LP-9", "warrant": {"number": "PRIN-9", "issued_by": "PN", "date": "2025-08-04"},
            "legal_basis": ["UU 35/2009 art. 87"], "description": "sachets", "count": 14,
            "possessor": subject("inmate", 9), "possessor_acknowledgement": "signed", "photos": [format!("sha256:{}", "ef".repeat(32))]})).expect("seize");
    };
    let w = story();
    seize(&w);
    assert!(
        !classes(&findings(&w, at(&w, 71))).contains(&8),
        "near-miss: the notice is not yet due"
    );
    let f = findings(&w, at(&w, 80));
    assert!(
        f.iter().any(|x| x.class == 8
            && x.english.contains("notice of the seizure")
            && x.english.contains("UU 35/2009 art. 87")),
        "{f:#?}"
    );
}

#[test]
fn class_9_destruction_without_a_reweigh_after_the_last_handover() {
    let w = story();
    weigh(&w, 11_200, INVESTIGATOR_2);
    order_destroy(&w);
    w.release(
        BAG,
        INVESTIGATOR,
        [INVESTIGATOR_2, SECURITY],
        INVESTIGATOR_2,
        &[SEAL],
    )
    .expect("release");
    w.receive(BAG, INVESTIGATOR_2, &[SEAL], true)
        .expect("receive");
    w.act("destroyed", &[("actor", INVESTIGATOR_2), ("witness", INVESTIGATOR), ("witness", SECURITY), ("official", PROSECUTOR)], &[BAG], json!({
        "item": BAG, "order_ref": "PRINT-9/2025", "mass_destroyed_mg": 11_200, "method": "incinerated",
        "media": [format!("sha256:{}", "cd".repeat(32))]})).expect("destroy");
    assert!(has(&findings(&w, at(&w, 1)), 9, Severity::Serious));
    // Near-miss: the clean story re-weighs after the last handover.
    let near = story();
    weigh(&near, 11_200, INVESTIGATOR_2);
    order_destroy(&near);
    weigh(&near, 11_200, INVESTIGATOR_2);
    destroy(&near, 11_200);
    assert!(!classes(&findings(&near, at(&near, 1))).contains(&9));
}

#[test]
fn class_10_a_back_dated_record() {
    let note = |w: &World, hours_before: i64| {
        use custody::Clock as _;
        let when = w
            .clock
            .now()
            .plus_ms(-hours_before * 3_600_000)
            .to_seconds_text();
        w.act(
            "note_added",
            &[("author", INVESTIGATOR)],
            &[BAG],
            json!({"item": BAG, "text": "late entry", "occurred_at": when}),
        )
        .expect("note");
    };
    let near = story();
    note(&near, 0);
    assert!(!classes(&findings(&near, at(&near, 1))).contains(&10));
    let w = story_in(before_v5());
    note(&w, 100);
    let f = findings(&w, at(&w, 1));
    assert!(
        f.iter()
            .any(|x| x.class == 10 && x.english.contains("hours after the act")),
        "{f:#?}"
    );
}

#[test]
fn class_11_an_officer_handles_evidence_while_the_subject_of_a_search() {
    let search = |w: &World, outcome: &str| {
        w.act("search_conducted", &[("actor", SECURITY), ("witness", GATE_B)], &[], json!({
            "incident": "INS-AUD-1", "kind": "officer", "subject": {"kind": "officer", "officer": w.officer(GATE_A).id.as_str()},
            "location": "Pos P2U", "body_search": true, "same_gender_searcher": true, "outcome": outcome})).expect("search");
    };
    let near = World::new();
    search(&near, "nothing_found");
    near.find(BAG, GATE_A, GATE_B).expect("find");
    let all = |w: &World| {
        casefile::audit(&w.ledger, &Scope::All, at(w, 1), &mut |_, _| {})
            .expect("audit")
            .findings
    };
    assert!(!classes(&all(&near)).contains(&11));
    let w = World::new();
    search(&w, "contraband_found");
    w.find(BAG, GATE_A, GATE_B).expect("find");
    assert!(has(&all(&w), 11, Severity::Serious));
}

#[test]
fn class_12_a_find_never_handed_over() {
    let w = World::new();
    w.find(BAG, GATE_A, GATE_B).expect("find");
    assert!(!classes(&findings(&w, at(&w, 48))).contains(&12));
    assert!(has(&findings(&w, at(&w, 96)), 12, Severity::Warning));
}

#[test]
fn class_13_a_seal_without_a_photo() {
    let near = story();
    assert!(!classes(&findings(&near, at(&near, 1))).contains(&13));
    let w = World::new();
    w.find(BAG, GATE_A, GATE_B).expect("find");
    w.seal(BAG, GATE_A, GATE_B, SEAL)
        .expect("seal with no photo");
    assert!(has(&findings(&w, at(&w, 1)), 13, Severity::Warning));
}

#[test]
fn class_14_repeated_corrections_of_mass() {
    let run = |n: usize| {
        let w = story();
        let seq = w
            .weigh(BAG, INVESTIGATOR, INVESTIGATOR_2, 11_200)
            .expect("weigh")
            .seq;
        for i in 0..n {
            w.act("correction", &[("author", INVESTIGATOR), ("supervisor", INVESTIGATOR_2)], &[BAG], json!({
                "refers_to": seq, "item": BAG, "fields": {"/net_mass_mg": 11_100 - i as u64}, "reason": "re-read the slip"})).expect("correct");
        }
        findings(&w, at(&w, 1))
    };
    assert!(!classes(&run(2)).contains(&14));
    assert!(has(&run(3), 14, Severity::Serious));
}

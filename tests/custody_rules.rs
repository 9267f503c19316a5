//! The custody rules in the domain's words: given a story so far, when an officer records an
//! act, then it is accepted with the expected effect, or refused with a message naming the item,
//! the rule and the seq that set the conflicting state — and the refusal changes nothing.

mod support;

use serde_json::json;
use support::*;

const BAG: &str = "BB-TEST-0001";
const SEAL: &str = "SEG-TEST-0001";

/// Given a bag found at the gate by officer A (witness B) and sealed.
fn found_and_sealed() -> World {
    let w = World::new();
    w.find(BAG, GATE_A, GATE_B).expect("find");
    w.seal(BAG, GATE_A, GATE_B, SEAL).expect("seal");
    w
}

/// Given the sealed bag handed to the investigator, who received it.
fn with_police() -> World {
    let w = found_and_sealed();
    w.release(BAG, GATE_A, [GATE_B, SECURITY], INVESTIGATOR, &[SEAL])
        .expect("release");
    w.receive(BAG, INVESTIGATOR, &[SEAL], true)
        .expect("receive");
    w
}

/// Asserts the act was refused with words naming the rule, and that nothing changed.
fn refused(w: &World, result: Result<custody::Receipt, custody::AppendError>, words: &[&str]) {
    let size = w.size();
    let item = w.item(BAG);
    let why = refusal(result);
    for word in words {
        assert!(why.contains(word), "refusal should mention {word:?}: {why}");
    }
    assert_eq!(w.size(), size, "a refused act changed the log");
    assert_eq!(w.item(BAG), item, "a refused act changed the item");
}

#[test]
fn a_find_creates_the_item_held_by_the_finder() {
    let w = World::new();
    w.find(BAG, GATE_A, GATE_B).expect("find");
    let item = w.item(BAG).expect("created");
    assert_eq!(item.holder.as_ref(), Some(&w.officer(GATE_A).id));
    assert_eq!(item.status.as_str(), "held");
    assert_eq!(item.count, Some(14));
    assert_eq!(
        item.persons,
        vec![format!("subj-{}", "01".repeat(16))],
        "the person is named by subject id"
    );
}

#[test]
fn the_same_label_cannot_be_found_twice() {
    let w = found_and_sealed();
    let again = w.act_with_after("contraband_found", &[("finder", GATE_B), ("witness", GATE_A)], json!({ BAG: null }), json!({
        "incident": "INS-TEST-2", "item": BAG, "description": {"name": "x", "form": "other"}, "category": "phone",
        "count": 1, "concealment": "sock", "persons": [], "photos": []}));
    refused(&w, again, &[BAG, "already exists", "seq"]);
}

#[test]
fn a_stale_view_is_refused_with_the_current_head() {
    let w = found_and_sealed();
    let head_now = w.item(BAG).expect("exists").head;
    // The officers signed what they saw before the sealing: the find's leaf hash.
    let stale = custody::queries::history(
        w.ledger.store(),
        &custody::ItemId::parse(BAG).expect("valid"),
    )
    .expect("reads")[0]
        .leaf_hash
        .clone();
    let r = w.act_with_after(
        "note_added",
        &[("author", GATE_A)],
        json!({ BAG: stale }),
        json!({"item": BAG, "text": "late"}),
    );
    refused(&w, r, &["stale view", BAG, &head_now]);
}

#[test]
fn after_must_name_exactly_the_items_touched() {
    let w = found_and_sealed();
    let r = w.act_with_after(
        "note_added",
        &[("author", GATE_A)],
        json!({}),
        json!({"item": BAG, "text": "x"}),
    );
    refused(&w, r, &["after must name item", BAG]);
    let r = w.act_with_after("search_conducted", &[("actor", GATE_A), ("witness", GATE_B)], json!({ BAG: w.head(BAG) }), json!({
        "incident": "INS-TEST-3", "kind": "cell", "subject": {"kind": "area", "area": "Blok C"}, "location": "Blok C",
        "body_search": false, "outcome": "nothing_found"}));
    refused(&w, r, &["does not touch", BAG]);
}

#[test]
fn only_the_current_holder_may_release() {
    let w = found_and_sealed();
    let r = w.release(BAG, GATE_B, [GATE_A, SECURITY], INVESTIGATOR, &[SEAL]);
    refused(
        &w,
        r,
        &[
            "only the current holder",
            BAG,
            w.officer(GATE_B).id.as_str(),
        ],
    );
}

#[test]
fn a_release_is_pending_until_the_named_receiver_receives_it() {
    let w = found_and_sealed();
    w.release(BAG, GATE_A, [GATE_B, SECURITY], INVESTIGATOR, &[SEAL])
        .expect("release");
    assert_eq!(w.item(BAG).expect("exists").status.as_str(), "in_transit");
    let pending = custody::queries::pending(w.ledger.store()).expect("reads");
    assert_eq!(pending.len(), 1);
    // Nothing else may happen to it in transit.
    refused(
        &w,
        w.weigh(BAG, GATE_A, GATE_B, 11_000),
        &["in transit", BAG],
    );
    // Someone else (another unit) may not receive it.
    refused(
        &w,
        w.receive(BAG, LAB_EXAMINER, &[SEAL], true),
        &["may not receive", BAG],
    );
    // An officer of the named unit may.
    w.receive(BAG, INVESTIGATOR_2, &[SEAL], true)
        .expect("same unit receives");
    let item = w.item(BAG).expect("exists");
    assert_eq!(item.holder.as_ref(), Some(&w.officer(INVESTIGATOR_2).id));
    assert!(
        custody::queries::pending(w.ledger.store())
            .expect("reads")
            .is_empty()
    );
}

#[test]
fn seals_declared_intact_must_match_the_last_sealing() {
    let w = found_and_sealed();
    w.release(BAG, GATE_A, [GATE_B, SECURITY], INVESTIGATOR, &[SEAL])
        .expect("release");
    refused(
        &w,
        w.receive(BAG, INVESTIGATOR, &["SEG-OTHER-9"], true),
        &["do not match the last sealing", SEAL],
    );
    // A broken seal is recorded honestly, not refused: the audit will raise it.
    w.receive(BAG, INVESTIGATOR, &["SEG-OTHER-9"], false)
        .expect("recorded with seals_intact false");
}

#[test]
fn the_holder_must_sign_acts_on_the_item() {
    let w = with_police();
    refused(
        &w,
        w.weigh(BAG, GATE_A, GATE_B, 11_000),
        &[
            "held by officer",
            w.officer(INVESTIGATOR).id.as_str(),
            "must sign",
        ],
    );
    w.weigh(BAG, INVESTIGATOR, INVESTIGATOR_2, 11_200)
        .expect("the holder weighs");
    assert_eq!(w.item(BAG).expect("exists").net_mass_mg, Some(11_200));
}

#[test]
fn a_seal_can_only_be_removed_if_it_is_on_the_item() {
    let w = found_and_sealed();
    let r = w.act("item_sealed", &[("actor", GATE_A), ("witness", GATE_B)], &[BAG], json!({
        "item": BAG, "seals_applied": ["SEG-TEST-0002"], "seals_removed": ["SEG-NOT-ON-IT"], "open_reason": "re-count",
        "packaging": "bag", "photos": []}));
    refused(&w, r, &["SEG-NOT-ON-IT", "is not on item"]);
    w.act("item_sealed", &[("actor", GATE_A), ("witness", GATE_B)], &[BAG], json!({
        "item": BAG, "seals_applied": ["SEG-TEST-0002"], "seals_removed": [SEAL], "open_reason": "re-count",
        "packaging": "bag", "photos": []})).expect("reseal");
    assert_eq!(
        w.item(BAG).expect("exists").seals,
        vec!["SEG-TEST-0002".to_owned()]
    );
}

#[test]
fn a_sample_becomes_a_child_item_whose_mass_is_taken_from_the_parent() {
    let w = with_police();
    w.weigh(BAG, INVESTIGATOR, INVESTIGATOR_2, 11_200)
        .expect("weigh");
    let sample = |mg: u64| {
        w.act_with_after("sample_set_aside", &[("investigator", INVESTIGATOR), ("witness", INVESTIGATOR_2)], json!({ BAG: w.head(BAG), "BB-TEST-0001-S1": null }), json!({
            "item": BAG, "sample": "BB-TEST-0001-S1", "rule": "statistical", "sample_count": 2, "sample_net_mass_mg": mg,
            "sample_seals": ["SEG-S-1"], "parent_seals": ["SEG-P-2"], "suspect_acknowledgement": "refused"}))
    };
    refused(&w, sample(20_000), &["more than the net mass", "11200 mg"]);
    sample(410).expect("sample");
    let parent = w.item(BAG).expect("exists");
    let child = w.item("BB-TEST-0001-S1").expect("sample exists");
    assert_eq!(parent.net_mass_mg, Some(10_790));
    assert_eq!(parent.count, Some(12));
    assert_eq!(parent.seals, vec!["SEG-P-2".to_owned()]);
    assert_eq!(child.net_mass_mg, Some(410));
    assert_eq!(child.parent.as_ref().map(|p| p.as_str()), Some(BAG));
    assert_eq!(child.holder, parent.holder);
}

#[test]
fn destruction_needs_a_prosecutors_order_and_closes_the_item() {
    let w = with_police();
    let destroy = |w: &World| {
        w.act("destroyed", &[("actor", INVESTIGATOR), ("witness", INVESTIGATOR_2), ("witness", SECURITY), ("official", PROSECUTOR)], &[BAG], json!({
            "item": BAG, "order_ref": "PRINT-1/2025", "mass_destroyed_mg": 11_000, "method": "incinerated", "media": []}))
    };
    refused(&w, destroy(&w), &["no destruction order", BAG]);
    w.act(
        "status_determined",
        &[("prosecutor", PROSECUTOR)],
        &[BAG],
        json!({
        "order_number": "PRINT-1/2025", "items": [{"item": BAG, "status": "destroy"}]}),
    )
    .expect("order");
    destroy(&w).expect("destroyed");
    assert_eq!(w.item(BAG).expect("exists").status.as_str(), "destroyed");
    // After the end, only notes and corrections.
    refused(
        &w,
        w.weigh(BAG, INVESTIGATOR, INVESTIGATOR_2, 1),
        &["destroyed", "only notes and corrections"],
    );
    w.note(BAG, INVESTIGATOR)
        .expect("a note after destruction is allowed");
}

#[test]
fn a_lab_result_updates_mass_and_seals() {
    let w = with_police();
    w.release(
        BAG,
        INVESTIGATOR,
        [INVESTIGATOR_2, SECURITY],
        LAB_EXAMINER,
        &[SEAL],
    )
    .expect("to the lab");
    w.act(
        "lab_received",
        &[("lab_intake", LAB_EXAMINER)],
        &[BAG],
        json!({
        "item": BAG, "lab_case": "LAB-1", "seals": [SEAL], "seals_intact": true}),
    )
    .expect("lab intake");
    w.act("lab_result", &[("examiner", LAB_EXAMINER), ("lab_head", LAB_HEAD)], &[BAG], json!({
        "item": BAG, "report_number": "BA-LAB/1", "result": "positive", "substance": "methamphetamine", "narcotic_class": "I",
        "method": "GC-MS", "net_mass_mg": 390, "consumed_mass_mg": 50, "residue_mass_mg": 340, "residue_seals": ["SEG-LAB-1"],
        "report_digest": format!("sha256:{}", "ab".repeat(32))})).expect("result");
    let item = w.item(BAG).expect("exists");
    assert_eq!(item.net_mass_mg, Some(340));
    assert_eq!(item.seals, vec!["SEG-LAB-1".to_owned()]);
    assert_eq!(
        item.lab.as_ref().map(|l| l.substance.as_str()),
        Some("methamphetamine")
    );
}

#[test]
fn storage_loans_and_returns_follow_the_custodian() {
    let w = with_police();
    w.act("stored", &[("custodian", CUSTODIAN), ("deliverer", INVESTIGATOR)], &[BAG], json!({
        "item": BAG, "location": {"store": "Rupbasan Jakarta Timur", "room": "R2", "shelf": "A-3"}, "authority": "SP-1"})).expect("stored");
    assert_eq!(
        w.item(BAG).expect("exists").holder.as_ref(),
        Some(&w.officer(CUSTODIAN).id)
    );
    w.act("checked_out", &[("custodian", CUSTODIAN), ("borrower", INVESTIGATOR)], &[BAG], json!({
        "item": BAG, "purpose": "hearing", "authority": "PN-1", "expected_return": "2025-09-01T08:00:00Z"})).expect("loan");
    let back_without_borrower = w.act(
        "returned",
        &[("custodian", CUSTODIAN)],
        &[BAG],
        json!({
        "item": BAG, "to": "storage", "seals": [SEAL], "seals_intact": true}),
    );
    refused(&w, back_without_borrower, &["borrower"]);
    w.act(
        "returned",
        &[("custodian", CUSTODIAN), ("borrower", INVESTIGATOR)],
        &[BAG],
        json!({
        "item": BAG, "to": "storage", "seals": [SEAL], "seals_intact": true}),
    )
    .expect("returned");
    assert_eq!(
        w.item(BAG).expect("exists").holder.as_ref(),
        Some(&w.officer(CUSTODIAN).id)
    );
}

#[test]
fn acts_on_unknown_items_are_refused() {
    let w = World::new();
    let r = w.act_with_after("weighed", &[("weigher", GATE_A), ("witness", GATE_B)], json!({"BB-NOWHERE-1": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}), json!({
        "item": "BB-NOWHERE-1", "gross_mass_mg": 1, "net_mass_mg": 1, "balance_id": "B", "readability_mg": 1,
        "calibration_ref": "K", "seals_intact": true}));
    let why = refusal(r);
    assert!(
        why.contains("BB-NOWHERE-1") && why.contains("not in this ledger"),
        "{why}"
    );
}

#[test]
fn roles_decide_who_may_act() {
    let w = found_and_sealed();
    // A prosecutor may not seize; a gate officer may not record a seizure.
    let r = w.act("seizure_recorded", &[("investigator", GATE_A), ("witness", GATE_B), ("witness", SECURITY)], &[BAG], json!({
        "item": BAG, "case": "LP-1", "warrant": {"number": "PRIN-1", "issued_by": "PN", "date": "2025-08-05"},
        "legal_basis": ["UU 35/2009 art. 87"], "description": "x", "count": 14,
        "possessor": subject("visitor", 1), "possessor_acknowledgement": "refused", "photos": []}));
    refused(&w, r, &["needs one of [investigator]"]);
    // A witness may not also be the actor.
    let r = w.act(
        "item_sealed",
        &[("actor", GATE_A), ("witness", GATE_A)],
        &[BAG],
        json!({
        "item": BAG, "seals_applied": ["SEG-X-1"], "packaging": "bag", "photos": []}),
    );
    refused(&w, r, &["listed twice"]);
}

#[test]
fn a_correction_supersedes_the_known_mass_without_editing_the_log() {
    let w = with_police();
    let weighing = w
        .weigh(BAG, INVESTIGATOR, INVESTIGATOR_2, 11_200)
        .expect("weigh")
        .seq;
    let correct = |refers_to: u64| {
        w.act("correction", &[("author", INVESTIGATOR), ("supervisor", INVESTIGATOR_2)], &[BAG], json!({
            "refers_to": refers_to, "item": BAG, "fields": {"/net_mass_mg": 11_150}, "reason": "transcription error on the balance slip"}))
    };
    refused(&w, correct(1), &["correction of seq 1", BAG, "from seq"]);
    correct(weighing).expect("corrected");
    let item = w.item(BAG).expect("exists");
    assert_eq!(item.net_mass_mg, Some(11_150));
    assert_eq!(item.corrections.len(), 1);
    // The original weighing is still in the history, unchanged.
    let history = custody::queries::history(
        w.ledger.store(),
        &custody::ItemId::parse(BAG).expect("valid"),
    )
    .expect("reads");
    let original = history
        .iter()
        .find(|e| e.seq == weighing)
        .expect("the weighing is kept");
    assert_eq!(original.net_mass_mg, Some(11_200));
}

/// The three impossible facts of tests/fixtures/v4-impossible-facts, recorded in `w`: a find dated
/// after the ledger records it, a weighing dated before the find, one seal number on two held
/// items. Answers whether each was admitted.
fn impossible_facts(w: &World) -> [bool; 3] {
    const OTHER: &str = "BB-TEST-0002";
    let find = |item: &str, at: &str| {
        w.act(
            "contraband_found",
            &[("finder", GATE_A), ("witness", GATE_B)],
            &[item],
            json!({
            "occurred_at": at, "incident": "INS-TEST-1", "item": item,
            "description": {"name": "phone", "form": "device"}, "category": "phone", "count": 1,
            "concealment": "bread", "persons": [], "photos": []}),
        )
    };
    let future = find(BAG, "2025-08-09T00:00:00Z").is_ok();
    if !future {
        find(BAG, "2025-08-04T01:00:00Z").expect("a find dated now");
    }
    let early = w.act("weighed", &[("weigher", GATE_A), ("witness", GATE_B)], &[BAG], json!({
        "occurred_at": "2025-08-01T00:00:00Z", "item": BAG, "gross_mass_mg": 2000, "net_mass_mg": 1000,
        "balance_id": "B-1", "readability_mg": 1, "calibration_ref": "K-1", "seals_intact": false}));
    find(OTHER, "2025-08-04T01:00:00Z").expect("another find");
    w.seal(OTHER, GATE_A, GATE_B, SEAL).expect("sealed");
    let reused = w.seal(BAG, GATE_A, GATE_B, SEAL);
    if let Err(custody::AppendError::Rule(e)) = &reused {
        assert!(e.to_string().contains("/seals_applied"), "{e}");
    }
    [future, early.is_ok(), reused.is_ok()]
}

#[test]
fn impossible_facts_are_admitted_under_rules_version_4_and_refused_under_5() {
    assert_eq!(impossible_facts(&World::with_rules(Some(4))), [true; 3]);
    assert_eq!(impossible_facts(&World::new()), [false; 3]);
}

//! Write scope (rules version 2): an officer acts only on items within their reach, at a facility
//! where they may act; a refusal about an item the officer may not read says exactly what it
//! would say if the item did not exist. A ledger written before write scope existed
//! (tests/fixtures/v1-ledger, with a cross-facility write at seq 29) keeps verifying, auditing and
//! rebuilding, because the rules in force at each entry's position decide — and once it adopts
//! version 2, cross-facility writes are refused from that entry on.

mod common;
mod support;

use common::{copy_dir, custody, run_json};
use custody::ManualClock;
use custody::SecretKey;
use custody::compose;
use custody::rules::RuleError;
use custody::scope::{self, Officer, Placement};
use custody::{AppendError, Ledger};
use custody::{OfficerId, OfficerRole, Origin, SignerRole};
use custody::{Signer, StatementType};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use support::*;

/// The ledger a version without write scope wrote (tests/fixtures/v1-ledger/README.md).
const V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1-ledger");
/// The Jakarta sample the Bandung officer wrote into at seq 29.
const V1_SAMPLE: &str = "BB-LPN-2025-0418-S1";
const V1_ADMIN: &str = "197905112005011002";
const V1_BANDUNG: &str = "199203152015031004";

const BAG: &str = "BB-TEST-0001";
const SEAL: &str = "SEG-TEST-0001";
const BANDUNG: &str = "LPN-BANDUNG";
const BANDUNG_UNIT: &str = "P2U Lapas Narkotika Bandung";
const POLRES: &str = "POLRES-JAKTIM";
const POLRES_UNIT: &str = "Satresnarkoba Polres Jakarta Timur";
const LABFOR: &str = "LABFOR-POLRI";
const LABFOR_UNIT: &str = "Labfor Polri";
/// A head no item has: what an officer who cannot read an item would have to guess.
const GUESSED_HEAD: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A copy of the old ledger directory (opening one takes its lock and may sign a checkpoint),
/// brought to this version's storage layout (tests/upgrade.rs checks the upgrade itself).
fn v1_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("ledger");
    copy_dir(&Path::new(V1).join("ledger"), &dir);
    custody::upgrade(&dir, &mut |_, _, _| {}).expect("the old ledger upgrades");
    (tmp, dir)
}

/// The rule error of a refused act, or a panic naming what happened instead.
fn rule_error(result: Result<custody::Receipt, AppendError>) -> RuleError {
    match result {
        Err(AppendError::Rule(e)) => e,
        Err(other) => panic!("expected a rule refusal, got another error: {other}"),
        Ok(r) => panic!(
            "expected a rule refusal, but it was appended at seq {}",
            r.seq
        ),
    }
}

/// A world with an officer of Lapas Narkotika Bandung (a gate officer, enrolled there).
fn with_bandung() -> (World, usize) {
    let mut w = World::new();
    let bandung = w.enroll_at(
        "199203152015031004",
        OfficerRole::GateOfficer,
        BANDUNG_UNIT,
        BANDUNG,
    );
    (w, bandung)
}

/// `author`'s note on `item`, naming `head` as its latest event, recorded at `facility`.
fn note_on(
    w: &World,
    facility: &str,
    author: usize,
    item: &str,
    head: Value,
) -> Result<custody::Receipt, AppendError> {
    w.act_at(
        facility,
        "note_added",
        &[("author", author)],
        json!({ item: head }),
        json!({
        "item": item, "text": "Catatan / note"}),
    )
}

#[test]
fn an_item_the_officer_may_not_read_is_refused_exactly_as_a_missing_one() {
    let (w, bandung) = with_bandung();
    w.find(BAG, GATE_A, GATE_B).expect("find");
    w.seal(BAG, GATE_A, GATE_B, SEAL).expect("seal");
    // Before anything else happens, gate officer B signs a note on the bag to send later.
    let presigned = w.envelope_at(
        FACILITY,
        "note_added",
        &[("author", GATE_B)],
        json!({ BAG: w.head(BAG) }),
        json!({
        "item": BAG, "text": "Segel diperiksa / seal checked"}),
    );
    let (size, before) = (w.size(), w.item(BAG));
    let head = w.head(BAG);
    let guessed = rule_error(note_on(&w, BANDUNG, bandung, BAG, json!(GUESSED_HEAD)));
    let exact = rule_error(note_on(&w, BANDUNG, bandung, BAG, head.clone()));
    // The same acts in a ledger that never held the bag.
    let (empty, bandung_there) = with_bandung();
    let missing = rule_error(note_on(
        &empty,
        BANDUNG,
        bandung_there,
        BAG,
        json!(GUESSED_HEAD),
    ));
    assert_eq!(guessed, RuleError::UnknownItem { item: BAG.into() });
    assert_eq!(guessed, missing);
    assert_eq!(exact, missing);
    assert_eq!(guessed.to_string(), missing.to_string());
    let text = guessed.to_string();
    let head = head.as_str().expect("a head").to_owned();
    for leak in [head.as_str(), "seq", FACILITY, "stale", "latest event"] {
        assert!(!text.contains(leak), "the refusal leaks {leak:?}: {text}");
    }
    assert_eq!(w.size(), size, "a refused act changed the log");
    assert_eq!(w.item(BAG), before, "a refused act changed the item");
    // The attempts moved nothing: the pre-signed note still names the bag's head.
    w.ledger
        .submit_envelope(presigned)
        .expect("the in-scope note is accepted");
    // An officer who may read the bag is still told which event is its latest.
    let stale = refusal(note_on(&w, FACILITY, GATE_A, BAG, json!(GUESSED_HEAD)));
    assert!(
        stale.contains("stale view") && stale.contains("seq"),
        "{stale}"
    );
}

/// A gate officer of Lapas Bandung in a unit named like the Jakarta gate officers' ("P2U"),
/// in a ledger on rules `version`: their enrollment, and then their note on a bag a Jakarta gate
/// officer holds.
fn same_unit_name_elsewhere(
    version: Option<u32>,
) -> (
    Result<usize, AppendError>,
    Option<Result<custody::Receipt, AppendError>>,
) {
    let mut w = World::with_rules(version);
    let unit = w.officer(GATE_A).unit.clone();
    let size = w.size();
    let enrolled = w.try_enroll_at(
        "199203152015031004",
        OfficerRole::GateOfficer,
        &unit,
        BANDUNG,
    );
    let Ok(bandung) = enrolled else {
        assert_eq!(w.size(), size, "a refused enrollment changed the log");
        return (enrolled, None);
    };
    w.find(BAG, GATE_A, GATE_B).expect("find");
    let head = w.head(BAG);
    (enrolled, Some(note_on(&w, BANDUNG, bandung, BAG, head)))
}

#[test]
fn a_unit_name_belongs_to_one_facility_and_reaches_only_there() {
    // Every Lapas has a "P2U": since rules version 3 a unit name belongs to the facility where it
    // was first enrolled, so the Bandung officer's enrollment into Jakarta's "P2U" is refused,
    // naming the field and the facility.
    let (enrolled, _) = same_unit_name_elsewhere(None);
    let e = match enrolled {
        Err(AppendError::Rule(e)) => e,
        other => panic!("expected the enrollment to be refused, got {other:?}"),
    };
    let text = e.to_string();
    assert!(
        matches!(e, RuleError::UnitElsewhere { .. })
            && text.contains("/officer/unit")
            && text.contains(FACILITY)
            && text.contains(BANDUNG),
        "{text}"
    );
    // A ledger made on rules version 2 keeps the rules of its time: the enrollment is accepted
    // and the unit reach goes by name alone.
    let (enrolled, note) = same_unit_name_elsewhere(Some(2));
    enrolled.expect("version 2 enrolled any unit name");
    note.expect("a note was tried")
        .expect("version 2 reached units by name");
}

#[test]
fn a_label_in_use_elsewhere_is_refused_without_its_seq() {
    let (mut w, bandung) = with_bandung();
    let witness = w.enroll_at(
        "199305202016032005",
        OfficerRole::GateOfficer,
        BANDUNG_UNIT,
        BANDUNG,
    );
    w.find(BAG, GATE_A, GATE_B).expect("find");
    let find = json!({
        "incident": "INS-BDG-1", "item": BAG, "description": {"name": "phone", "form": "device"},
        "category": "phone", "count": 1, "concealment": "shoe", "persons": [], "photos": []});
    let e = rule_error(w.act_at(
        BANDUNG,
        "contraband_found",
        &[("finder", bandung), ("witness", witness)],
        json!({ BAG: null }),
        find.clone(),
    ));
    assert_eq!(
        e,
        RuleError::LabelTaken {
            item: custody::ItemId::parse(BAG).expect("valid")
        }
    );
    let text = e.to_string();
    assert!(!text.contains("seq") && !text.contains(FACILITY), "{text}");
    // An officer who may read the bag is told where it began.
    let e = refusal(w.act_with_after(
        "contraband_found",
        &[("finder", GATE_B), ("witness", GATE_A)],
        json!({ BAG: null }),
        find,
    ));
    assert!(e.contains("already exists (created at seq"), "{e}");
}

#[test]
fn the_receiver_a_release_names_may_receive_and_act_across_facilities() {
    let mut w = World::new();
    let polres = w.enroll_at("88020345", OfficerRole::Investigator, POLRES_UNIT, POLRES);
    w.find(BAG, GATE_A, GATE_B).expect("find");
    w.seal(BAG, GATE_A, GATE_B, SEAL).expect("seal");
    // Not yet sent to him: the bag is not his to see.
    let e = rule_error(note_on(&w, POLRES, polres, BAG, w.head(BAG)));
    assert_eq!(e, RuleError::UnknownItem { item: BAG.into() });
    w.release(BAG, GATE_A, [GATE_B, SECURITY], polres, &[SEAL])
        .expect("release to the police");
    w.act_at(
        POLRES,
        "custody_received",
        &[("receiver", polres)],
        json!({ BAG: w.head(BAG) }),
        json!({
        "item": BAG, "seals": [SEAL], "seals_intact": true}),
    )
    .expect("the named receiver receives at his own facility");
    // He holds it now: he weighs it, and may record at the facility that holds it.
    w.act_at(
        FACILITY,
        "weighed",
        &[("weigher", polres), ("witness", INVESTIGATOR)],
        json!({ BAG: w.head(BAG) }),
        json!({
        "item": BAG, "gross_mass_mg": 12840, "net_mass_mg": 11200, "balance_id": "B-1",
        "readability_mg": 1, "calibration_ref": "K-1", "seals_intact": true}),
    )
    .expect("the holder weighs it");
    // The officers of Lapas Jakarta still act on it: it is held at their facility.
    note_on(&w, FACILITY, GATE_B, BAG, w.head(BAG)).expect("a note by its facility");
}

#[test]
fn the_lab_may_act_on_an_item_sent_to_it() {
    let mut w = World::new();
    let examiner = w.enroll_at(
        "198805052010012001",
        OfficerRole::LabExaminer,
        LABFOR_UNIT,
        LABFOR,
    );
    let head = w.enroll_at("71030456", OfficerRole::LabHead, LABFOR_UNIT, LABFOR);
    let other_lab = w.enroll_at(
        "198906062011012003",
        OfficerRole::LabExaminer,
        "Laboratorium BNN",
        "LAB-BNN",
    );
    w.find(BAG, GATE_A, GATE_B).expect("find");
    w.seal(BAG, GATE_A, GATE_B, SEAL).expect("seal");
    let e = rule_error(note_on(&w, LABFOR, examiner, BAG, w.head(BAG)));
    assert_eq!(
        e,
        RuleError::UnknownItem { item: BAG.into() },
        "not sent yet"
    );
    // Sent to the lab as a unit, no officer named: any officer of the lab may take it in.
    w.act(
        "custody_released",
        &[
            ("giver", GATE_A),
            ("witness", GATE_B),
            ("witness", SECURITY),
        ],
        &[BAG],
        json!({
        "item": BAG, "to_unit": LABFOR_UNIT, "purpose": "pemeriksaan laboratoris / lab examination",
        "seals": [SEAL], "seals_intact": true}),
    )
    .expect("release to the lab");
    note_on(&w, LABFOR, examiner, BAG, w.head(BAG))
        .expect("the lab it is sent to sees and notes it");
    w.act_at(
        LABFOR,
        "lab_received",
        &[("lab_intake", head)],
        json!({ BAG: w.head(BAG) }),
        json!({
        "item": BAG, "lab_case": "LAB-2025-0001", "seals": [SEAL], "seals_intact": true}),
    )
    .expect("the lab head takes it in");
    // The examiner reports on an item his unit holds; the lab head, its holder, countersigns.
    w.act_at(LABFOR, "lab_result", &[("examiner", examiner), ("lab_head", head)], json!({ BAG: w.head(BAG) }), json!({
        "item": BAG, "report_number": "BA-LAB/1", "result": "positive", "substance": "methamphetamine",
        "narcotic_class": "I", "method": "GC-MS", "net_mass_mg": 390, "consumed_mass_mg": 50,
        "residue_mass_mg": 340, "residue_seals": ["SEG-LAB-1"], "report_digest": format!("sha256:{}", "ab".repeat(32))}))
        .expect("the examiner reports");
    // Another lab was never sent it.
    let e = rule_error(note_on(&w, "LAB-BNN", other_lab, BAG, w.head(BAG)));
    assert_eq!(e, RuleError::UnknownItem { item: BAG.into() });
}

#[test]
fn a_facility_outside_the_acting_officers_reach_is_refused_naming_the_field() {
    let (w, bandung) = with_bandung();
    let note = json!({"text": "Shift P2U dimulai / shift begins"});
    let e = refusal(w.act_at(
        FACILITY,
        "note_added",
        &[("author", bandung)],
        json!({}),
        note.clone(),
    ));
    for word in ["field facility", FACILITY, BANDUNG, "199203152015031004"] {
        assert!(e.contains(word), "the refusal should name {word:?}: {e}");
    }
    w.act_at(
        BANDUNG,
        "note_added",
        &[("author", bandung)],
        json!({}),
        note,
    )
    .expect("at his own facility");
    // A Jakarta officer on a Jakarta item, claiming to act at Bandung.
    w.find(BAG, GATE_A, GATE_B).expect("find");
    let e = refusal(note_on(&w, BANDUNG, GATE_A, BAG, w.head(BAG)));
    assert!(e.contains("field facility is LPN-BANDUNG"), "{e}");
    // A witness need not be in scope: a Bandung officer may witness a Jakarta act.
    w.seal(BAG, GATE_A, bandung, SEAL)
        .expect("witnessed by a visitor from Bandung");
}

#[test]
fn a_prosecutor_orders_the_status_of_any_item_of_a_case() {
    let mut w = World::new();
    let kejari = w.enroll_at(
        "198601012010011001",
        OfficerRole::Prosecutor,
        "Kejari Jakarta Timur",
        "KEJARI-JAKTIM",
    );
    w.find(BAG, GATE_A, GATE_B).expect("find");
    w.seal(BAG, GATE_A, GATE_B, SEAL).expect("seal");
    let order =
        json!({"order_number": "PRINT-1/2025", "items": [{"item": BAG, "status": "evidence"}]});
    // Not seized yet: no case, so not his office's item; prosecutors read every item, so the
    // refusal may say why.
    let e = rule_error(w.act_at(
        "KEJARI-JAKTIM",
        "status_determined",
        &[("prosecutor", kejari)],
        json!({ BAG: w.head(BAG) }),
        order.clone(),
    ));
    assert!(matches!(e, RuleError::OutOfScope { .. }), "{e}");
    let text = e.to_string();
    for word in [BAG, "198601012010011001", "prosecutor", "case"] {
        assert!(
            text.contains(word),
            "the refusal should name {word:?}: {text}"
        );
    }
    w.release(BAG, GATE_A, [GATE_B, SECURITY], INVESTIGATOR, &[SEAL])
        .expect("release");
    w.receive(BAG, INVESTIGATOR, &[SEAL], true)
        .expect("receive");
    w.act("seizure_recorded", &[("investigator", INVESTIGATOR), ("witness", INVESTIGATOR_2), ("witness", SECURITY)], &[BAG], json!({
        "item": BAG, "case": "LP-1", "warrant": {"number": "PRIN-1", "issued_by": "PN", "date": "2025-08-05"},
        "legal_basis": ["UU 35/2009 art. 87"], "description": "x", "count": 14,
        "possessor": subject("visitor", 1), "possessor_acknowledgement": "refused", "photos": []}))
        .expect("seizure");
    w.act_at(
        "KEJARI-JAKTIM",
        "status_determined",
        &[("prosecutor", kejari)],
        json!({ BAG: w.head(BAG) }),
        order,
    )
    .expect("an order on an item of a case");
    // Outside the acts of his office he is an officer like any other.
    let e = rule_error(note_on(&w, "KEJARI-JAKTIM", kejari, BAG, w.head(BAG)));
    assert!(matches!(e, RuleError::OutOfScope { .. }), "{e}");
}

#[test]
fn a_custodian_takes_an_item_into_the_store_beside_its_holder() {
    let mut w = World::new();
    let rupbasan = w.enroll_at(
        "198702022011012002",
        OfficerRole::Custodian,
        "Rupbasan Jakarta Timur",
        "RUPBASAN-JAKTIM",
    );
    w.find(BAG, GATE_A, GATE_B).expect("find");
    let e = rule_error(note_on(&w, "RUPBASAN-JAKTIM", rupbasan, BAG, w.head(BAG)));
    assert_eq!(
        e,
        RuleError::UnknownItem { item: BAG.into() },
        "not his yet"
    );
    // The holder brings it and signs beside him.
    w.act_at("RUPBASAN-JAKTIM", "stored", &[("custodian", rupbasan), ("deliverer", GATE_A)], json!({ BAG: w.head(BAG) }), json!({
        "item": BAG, "location": {"store": "Rupbasan Jakarta Timur", "room": "R2", "shelf": "A-3"}, "authority": "SP-1"}))
        .expect("stored beside the holder");
    note_on(&w, "RUPBASAN-JAKTIM", rupbasan, BAG, w.head(BAG)).expect("he holds it now");
}

/// A `rules_adopted` statement naming `version`, signed by `signer` (the administrator if None).
fn adopt(w: &World, version: u64, signer: Option<usize>) -> Result<custody::Receipt, AppendError> {
    let (officer, key) = match signer {
        None => (&w.admin.id, &w.admin.key),
        Some(i) => (&w.officer(i).id, &w.officer(i).key),
    };
    w.clock.advance_ms(60_000);
    let st = json!({
        "type": "rules_adopted", "id": compose::new_statement_id(w.clock.as_ref()).expect("id").to_string(),
        "occurred_at": w.clock.now_text(), "facility": FACILITY, "after": {},
        "signers": [{"role": "admin", "officer": officer.as_str()}], "version": version});
    let env =
        compose::sign_statement(serde_json::to_vec(&st).expect("json"), &[key]).expect("sign");
    w.ledger.submit_envelope(env)
}

#[test]
fn rules_adopted_names_a_newer_known_version_and_is_the_administrators() {
    let w = World::new();
    assert_eq!(
        w.ledger.state().rules_version(),
        custody::rules::RULES_VERSION_NEWEST,
        "a new ledger starts on the newest rules"
    );
    let newest = u64::from(custody::rules::RULES_VERSION_NEWEST);
    let e = refusal(adopt(&w, newest, None));
    assert!(
        e.contains(&format!("field version is {newest}"))
            && e.contains("already in force (since seq 0)"),
        "{e}"
    );
    let e = refusal(adopt(&w, newest + 1, None));
    assert!(
        e.contains(&format!("field version is {}", newest + 1))
            && e.contains(&format!("versions 1 to {newest}")),
        "{e}"
    );
    let e = refusal(adopt(&w, newest + 1, Some(GATE_A)));
    assert!(e.contains("needs one of [admin]"), "{e}");
    match adopt(&w, 1, None) {
        Err(AppendError::Statement(e)) => assert_eq!(e.field_path(), Some("/version"), "{e}"),
        other => panic!("version 1 is refused by the schema, got {other:?}"),
    }
}

#[test]
fn a_genesis_names_a_rules_version_this_software_knows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new(
        custody::Timestamp::parse("2025-08-04T01:00:00Z").expect("valid"),
    ));
    let key = SecretKey::from_seed(&[7; 32]);
    let admin = compose::OfficerInput {
        id: OfficerId::parse("197905112005011002").expect("valid"),
        name: "Admin".into(),
        agency: "imipas".into(),
        unit: "TU".into(),
        roles: vec![OfficerRole::Admin],
        public_key: key.public(),
        rank: None,
    };
    let origin = Origin::parse("custody.test/ledger").expect("valid");
    let made = Ledger::init(&dir.path().join("l"), &origin, clock.clone(), |vkey| {
        let bytes = compose::genesis(
            clock.as_ref(),
            FACILITY,
            origin.as_str(),
            &vkey.to_string(),
            &admin,
        )
        .map_err(|e| AppendError::Stopped(custody::words::Explain::explain(&e)))?;
        let mut v: Value = serde_json::from_slice(&bytes).expect("json");
        v["rules"] = json!(9);
        compose::sign_statement(serde_json::to_vec(&v).expect("json"), &[&key])
            .map_err(|e| AppendError::Stopped(custody::words::Explain::explain(&e)))
    });
    let e = made
        .err()
        .expect("a genesis with an unknown rules version is refused")
        .to_string();
    assert!(e.contains("field rules is 9"), "{e}");
}

#[test]
fn the_old_export_still_verifies_with_its_verifier_key() {
    let vkey = std::fs::read_to_string(Path::new(V1).join("vkey")).expect("vkey");
    let tiles = Path::new(V1).join("tiles");
    custody()
        .args(["verify", "--tiles", s(&tiles), "--vkey", vkey.trim()])
        .assert()
        .success();
}

#[test]
fn the_old_ledger_verifies_audits_and_rebuilds_to_the_same_views() {
    let (_tmp, dir) = v1_copy();
    let l = s(&dir);
    let verified = run_json(&["verify", "--ledger", l]);
    assert_eq!(verified["size"], 31, "{verified}");
    let audit = run_json(&[
        "audit",
        "--ledger",
        l,
        "--all",
        "--as-of",
        "2025-08-22T01:00:00Z",
    ]);
    assert_eq!(audit["log_verified"], true, "{audit}");
    let rebuilt = run_json(&["rebuild", "--ledger", l]);
    assert_eq!(rebuilt["identical"], true, "{rebuilt}");
    let history = run_json(&["history", V1_SAMPLE, "--ledger", l]);
    let last = history["events"]
        .as_array()
        .and_then(|h| h.last())
        .expect("the sample has a history");
    assert_eq!(last["seq"], 29, "{last}");
    assert_eq!(last["facility"], "LPN-BANDUNG", "{last}");
}

/// Records `statement` in the ledger `l` (written to `name`.json beside it), signed with the
/// fixture's key file `key`, filling a missing `after` with the heads the ledger holds.
fn record(l: &str, key: &str, name: &str, statement: &Value) -> std::process::Output {
    let file = Path::new(l).with_file_name(format!("{name}.json"));
    std::fs::write(&file, serde_json::to_vec(statement).expect("json")).expect("write");
    let key = Path::new(V1).join("keys").join(key);
    custody()
        .args([
            "record",
            "--ledger",
            l,
            "--fill-after",
            "--json",
            "--key",
            s(&key),
        ])
        .arg(&file)
        .output()
        .expect("runs")
}

fn recorded_seq(out: &std::process::Output) -> u64 {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    v["seq"].as_u64().expect("seq")
}

#[test]
fn an_old_ledger_that_adopts_version_2_refuses_cross_facility_writes_from_then_on() {
    let (_tmp, dir) = v1_copy();
    let l = s(&dir);
    let into_sample = json!({"type": "note_added", "facility": BANDUNG, "item": V1_SAMPLE,
        "signers": [{"role": "author", "officer": V1_BANDUNG}], "text": "Catatan lagi / another note"});
    assert_eq!(
        recorded_seq(&record(l, "bandung.pem", "n1", &into_sample)),
        31,
        "still version 1"
    );
    let adoption = json!({"type": "rules_adopted", "facility": "LPN-JAKARTA", "after": {},
        "signers": [{"role": "admin", "officer": V1_ADMIN}], "version": 2});
    assert_eq!(
        recorded_seq(&record(l, "admin.pem", "adopt", &adoption)),
        32
    );
    // Every command opens the ledger again: the adoption is replayed with the identity leaves.
    let out = record(l, "bandung.pem", "n2", &into_sample);
    assert_eq!(out.status.code(), Some(1), "refused under version 2");
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(
        why.contains(&format!("item {V1_SAMPLE} is not in this ledger")),
        "{why}"
    );
    let own = json!({"type": "note_added", "facility": BANDUNG, "after": {},
        "signers": [{"role": "author", "officer": V1_BANDUNG}], "text": "Di Bandung / at Bandung"});
    assert_eq!(recorded_seq(&record(l, "bandung.pem", "n3", &own)), 33);
    // The whole log verifies: seqs 29-31 under version 1, the rest under version 2.
    assert_eq!(run_json(&["verify", "--ledger", l])["size"], 34);
    assert_eq!(run_json(&["rebuild", "--ledger", l])["identical"], true);
    // A bundle of the sample carries the adoption, so its verifier folds under the same rules.
    let out = dir.with_file_name("bundle.json");
    custody()
        .args([
            "bundle",
            "export",
            "--ledger",
            l,
            "--item",
            V1_SAMPLE,
            "--out",
            s(&out),
        ])
        .assert()
        .success();
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(&out).expect("bundle")).expect("json");
    let seqs: Vec<u64> = bundle["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    assert!(seqs.contains(&32) && seqs.contains(&31), "{seqs:?}");
    let vkey = std::fs::read_to_string(Path::new(V1).join("vkey")).expect("vkey");
    custody()
        .args([
            "bundle",
            "verify",
            s(&out),
            "--vkey",
            vkey.trim(),
            "--as-of",
            "2025-08-22T01:00:00Z",
        ])
        .assert()
        .success();
}

// The property: whoever may act on an item alone may read it.

const IDS: [&str; 3] = ["85071234", "90030456", "76010123"];
const FACILITIES: [&str; 3] = ["LPN-JAKARTA", "LPN-BANDUNG", "POLRES-JAKTIM"];
const UNITS: [&str; 3] = ["P2U", "KPLP", "Satresnarkoba"];

/// An officer and an item placed among a few ids, facilities and units, so that they meet often.
#[derive(Debug, Clone)]
struct Case {
    officer: usize,
    facility: usize,
    unit: usize,
    roles: Vec<OfficerRole>,
    item_facility: usize,
    item_unit: Option<usize>,
    holder: Option<usize>,
    holder_facility: usize,
    release_to: Option<(Option<usize>, usize)>,
    case: bool,
    kind: StatementType,
    others: Vec<usize>,
}

fn cases() -> impl Strategy<Value = Case> {
    let officer = (
        0..3usize,
        0..3usize,
        0..3usize,
        proptest::sample::subsequence(OfficerRole::ALL.to_vec(), 1..=3),
    );
    let item = (
        0..3usize,
        proptest::option::of(0..3usize),
        proptest::option::of((0..3usize, 0..3usize)),
        proptest::option::of((proptest::option::of(0..3usize), 0..3usize)),
        any::<bool>(),
    );
    let act = (
        proptest::sample::select(StatementType::ALL.to_vec()),
        proptest::sample::subsequence(vec![0usize, 1, 2], 0..=2),
    );
    (officer, item, act).prop_map(
        |(
            (officer, facility, unit, roles),
            (item_facility, item_unit, held, release_to, case),
            (kind, others),
        )| Case {
            officer,
            facility,
            unit,
            roles,
            item_facility,
            item_unit,
            holder: held.map(|(h, _)| h),
            holder_facility: held.map_or(0, |(_, f)| f),
            release_to,
            case,
            kind,
            others,
        },
    )
}

proptest! {
    /// Every reach of the write scope but one is a read reach, or belongs to a role that reads
    /// everything: an officer who may act on an item alone may read it. The exception is by
    /// design: an officer signing beside the item's holder (a custodian taking it into the store)
    /// may act on an item they could not read before; the holder, who reads it, signs the same
    /// statement.
    #[test]
    fn whoever_may_act_on_an_item_alone_may_read_it(c in cases(), version in 2u32..=custody::rules::RULES_VERSION_NEWEST) {
        let ids: Vec<OfficerId> = IDS.iter().map(|i| OfficerId::parse(i).expect("valid")).collect();
        let officer = Officer { id: &ids[c.officer], facility: FACILITIES[c.facility], unit: UNITS[c.unit], roles: &c.roles };
        let place = Placement {
            facility: FACILITIES[c.item_facility],
            unit: c.item_unit.map(|u| UNITS[u]),
            holder_facility: c.holder.map(|_| FACILITIES[c.holder_facility]),
            holder: c.holder.map(|h| &ids[h]),
            release_to: c.release_to.map(|(to, unit)| (to.map(|t| &ids[t]), UNITS[unit])),
            case: c.case.then_some("LP-1"),
        };
        let role = custody::rules::acting_role(c.kind);
        let mut signers = vec![Signer { role, officer: ids[c.officer].clone() }];
        // Others sign beside the acting officer, never the item's holder: acting alone.
        signers.extend(c.others.iter().filter(|o| Some(**o) != c.holder).map(|o| Signer { role: SignerRole::Witness, officer: ids[*o].clone() }));
        let item_act = matches!(scope::write_rule(c.kind).reach, scope::Where::Items(_));
        if item_act && scope::may_act(c.kind, &officer, &place, &signers, version) {
            prop_assert!(scope::may_read_under(&officer, &place, version), "{c:?}");
        }
        // Beside the holder, the same officer may act without reading: the one exception.
        if let Some(h) = c.holder {
            signers.push(Signer { role: SignerRole::Witness, officer: ids[h].clone() });
            if item_act && !scope::may_read_under(&officer, &place, version) {
                prop_assert!(scope::may_act(c.kind, &officer, &place, &signers, version), "{c:?}");
                prop_assert!(scope::Reach::BesideHolder.reaches(&officer, &place, &signers, version));
            }
        }
    }
}

#[test]
fn the_old_ledgers_views_are_rebuilt_in_the_current_format_when_it_opens() {
    let (_tmp, dir) = v1_copy();
    let ledger = Ledger::open(&dir).expect("the old ledger opens");
    let said: Vec<String> = ledger.repairs().iter().map(ToString::to_string).collect();
    assert!(said.iter().any(|r| r.contains("view format 1")), "{said:?}");
    let store = ledger.store();
    let items = custody::queries::items(store, None, None).expect("items");
    let mut holders: Vec<OfficerId> = items.iter().filter_map(|s| s.holder.clone()).collect();
    holders.sort();
    holders.dedup();
    assert!(!holders.is_empty(), "the demo leaves items held");
    // The holdings answered from the rebuilt entries are the held items' states.
    for officer in &holders {
        let held: Vec<_> = items
            .iter()
            .filter(|s| s.status == custody::Status::Held && s.holder.as_ref() == Some(officer))
            .cloned()
            .collect();
        let answer = custody::queries::holdings_of_officer(store, officer).expect("holdings");
        assert_eq!(answer, held, "{officer}");
    }
    drop(ledger);
    let again = Ledger::open(&dir).expect("opens again");
    assert!(again.repairs().is_empty(), "nothing left to rebuild");
}

//! `custody refound`: a ledger recorded with persons in the clear (tests/fixtures/v1-ledger) is
//! re-recorded into a new ledger whose log and export hold none of them, while its items, audit
//! and history say what the old one says, each event marked as attested by the administrator;
//! and the rules that bound a re-founding: inside it every entry is attested, at its own seq, by
//! the attesting administrator's key alone; outside it no entry may claim an attestation.

mod common;

use common::{ADMIN, Fixture, copy_dir, custody, note_by, run_json, split_bundle, stderr_of};
use custody::compose::{self, OfficerInput};
use custody::{
    AppendError, Leaf, Ledger, ManualClock, OfficerId, OfficerRole, Origin, SecretKey, Timestamp,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1-ledger");
/// The visitor the fixture names in the clear (its README).
const NIK: &str = "3174055708900003";
const NAME: &str = "Siti Aminah";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A layout-3 copy of the fixture, and a re-founding of it at `new`.
fn refounded() -> (tempfile::TempDir, PathBuf, PathBuf, Value) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let old = tmp.path().join("old");
    copy_dir(&Path::new(V1).join("ledger"), &old);
    run_json(&["upgrade", "--ledger", s(&old)]);
    let new = tmp.path().join("new");
    let key = format!("{V1}/keys/admin.pem");
    let report = run_json(&[
        "refound",
        "--from",
        s(&old),
        "--ledger",
        s(&new),
        "--origin",
        "custody.test.go.id/refounded",
        "--admin-id",
        ADMIN,
        "--admin-key",
        &key,
        "--reason",
        "UU 27/2022: identitas pengunjung dikeluarkan dari log",
    ]);
    (tmp, old, new, report)
}

/// Every statement of a ledger's tlog-tiles export, decoded from its DSSE envelope.
fn exported_statements(ledger: &Path, out: &Path) -> String {
    run_json(&["export", "--ledger", s(ledger), "--out", s(out)]);
    let mut files = Vec::new();
    let mut stack = vec![out.join("tile/entries")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p)
            } else {
                files.push(p)
            }
        }
    }
    files.sort();
    let mut text = String::new();
    for f in files {
        for leaf in split_bundle(&std::fs::read(&f).expect("bundle")) {
            let leaf = Leaf::decode(&leaf).expect("a leaf");
            text.push_str(std::str::from_utf8(leaf.envelope.payload()).expect("utf-8"));
            text.push('\n');
        }
    }
    text
}

/// (class, severity, item) of every audit finding, counted.
fn findings(ledger: &Path) -> BTreeMap<String, usize> {
    let audit = run_json(&["audit", "--ledger", s(ledger), "--all"]);
    let mut out = BTreeMap::new();
    for f in audit["findings"].as_array().expect("findings") {
        let k = format!("{} {} {}", f["class"], f["severity"], f["item"]);
        *out.entry(k).or_default() += 1;
    }
    out
}

/// Each item's id, status, masses, count and holder.
fn items(ledger: &Path) -> Vec<Value> {
    let items = run_json(&["items", "--ledger", s(ledger)]);
    let fields = [
        "id",
        "status",
        "net_mass_mg",
        "gross_mass_mg",
        "count",
        "holder",
    ];
    items["items"]
        .as_array()
        .or(items.as_array())
        .expect("items")
        .iter()
        .map(|i| {
            Value::Object(
                fields
                    .iter()
                    .map(|f| (f.to_string(), i[*f].clone()))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn a_refounded_ledger_says_what_the_old_one_said_with_no_person_in_its_log() {
    let (tmp, old, new, report) = refounded();
    assert_eq!(report["entries_rerecorded"], 30, "{report}");
    assert_eq!(report["persons_moved"], 3, "{report}");
    assert!(report["rules_adopted"].as_u64() >= Some(4), "{report}");
    let verified = run_json(&["verify", "--ledger", s(&new)]);
    assert_eq!(verified["ok"], true);
    assert_eq!(verified["size"], 32);
    assert_eq!(verified["refounds"]["attested_by"], ADMIN);
    assert_eq!(verified["refounds"]["size"], 31);

    let before = exported_statements(&old, &tmp.path().join("old-export"));
    assert!(
        before.contains(NIK) && before.contains(NAME),
        "the oracle can fail"
    );
    let after = exported_statements(&new, &tmp.path().join("new-export"));
    assert!(!after.contains(NIK) && !after.contains(NAME), "{after}");
    assert_eq!(after.matches("\"attests\"").count(), 30);

    assert!(!items(&old).is_empty());
    assert_eq!(items(&old), items(&new));
    assert!(!findings(&old).is_empty());
    assert_eq!(findings(&old), findings(&new));
    let history = run_json(&["history", "--ledger", s(&new), "BB-LPN-2025-0418"]);
    let events = history["events"]
        .as_array()
        .or(history.as_array())
        .expect("events");
    assert!(!events.is_empty());
    for e in events {
        assert_eq!(e["attested_by"]["officer"], ADMIN, "{e}");
        assert_eq!(e["attested_by"]["seq"], e["seq"], "{e}");
    }
}

#[test]
fn the_refounded_register_finds_the_person_the_old_log_named_in_the_clear() {
    let (_tmp, old, new, _) = refounded();
    let key = format!("{V1}/keys/admin.pem");
    let asker = [
        "--officer",
        ADMIN,
        "--key",
        key.as_str(),
        "--ledger",
        s(&new),
    ];
    let found = run_json(&[&["subject", "lookup", "--nik", NIK][..], &asker].concat());
    let subject = found["subject"]
        .as_str()
        .expect("the visitor is in the register");
    let person = run_json(&["person", "--ledger", s(&new), subject]);
    assert!(
        person.to_string().contains("BB-LPN-2025-0418"),
        "the subject is the possessor of the lot: {person}"
    );
    let old_cp = run_json(&["checkpoint", "--ledger", s(&old)]);
    let again = run_json(&["verify", "--ledger", s(&old)]);
    assert_eq!(again["size"], 31, "the old ledger is unchanged: {old_cp}");
}

#[test]
fn an_attestation_outside_a_refounding_is_refused_and_changes_nothing() {
    let f = Fixture::new();
    let size = f.size();
    let attests = r#","attests":{"seq":3,"leaf":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","recorded_at":"2025-08-04T02:19:00Z"}"#;
    let path = f.write("attested.json", note_by(ADMIN, attests).as_bytes());
    let out = custody()
        .args(["record", "--ledger", f.ledger_str()])
        .arg(&path)
        .args(["--key", s(&f.key("admin"))])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("attests"), "{}", stderr_of(&out));
    f.assert_unchanged(size);
}

/// A re-founded genesis of `size` entries, its attesting administrator's key, and the ledger.
fn refounding_of(dir: &Path, size: u64) -> (Ledger, SecretKey) {
    let key = SecretKey::generate().expect("key");
    let admin = OfficerInput {
        id: OfficerId::parse(ADMIN).expect("id"),
        name: "Admin".into(),
        agency: "imipas".into(),
        unit: "Ledger administration".into(),
        roles: vec![OfficerRole::Admin],
        public_key: key.public(),
        rank: None,
    };
    let clock = Arc::new(ManualClock::new(
        Timestamp::parse("2025-08-04T00:00:00Z").expect("t"),
    ));
    let origin = Origin::parse("custody.test.go.id/new").expect("origin");
    let c = Arc::clone(&clock);
    let (ledger, _) = Ledger::init(dir, &origin, clock, |vkey| {
        let bytes = compose::genesis(
            c.as_ref(),
            "LPN-JAKARTA",
            origin.as_str(),
            &vkey.to_string(),
            &admin,
        )
        .expect("genesis");
        let mut v: Value = serde_json::from_slice(&bytes).expect("json");
        v["refounds"] = json!({"origin": "custody.test.go.id/old", "size": size,
            "root": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "by": ADMIN,
            "key": key.public().to_base64(), "reason": "tes"});
        Ok(compose::sign_statement(serde_json::to_vec(&v).expect("json"), &[&key]).expect("signs"))
    })
    .expect("the re-founded genesis is admitted");
    (ledger, key)
}

/// A note by the administrator, attesting old entry `seq` if given, signed by `key`.
fn note(ledger: &Ledger, seq: Option<u64>, key: &SecretKey) -> Result<u64, AppendError> {
    let id = OfficerId::parse(ADMIN).expect("id");
    let bytes = compose::note(ledger.clock(), "LPN-JAKARTA", &id, "Catatan", None).expect("note");
    let mut v: Value = serde_json::from_slice(&bytes).expect("json");
    if let Some(seq) = seq {
        v["attests"] = json!({"seq": seq, "leaf": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "recorded_at": "2025-08-04T02:19:00Z"});
    }
    let envelope =
        compose::sign_statement(serde_json::to_vec(&v).expect("json"), &[key]).expect("signs");
    ledger.submit_envelope(envelope).map(|r| r.seq)
}

#[test]
fn inside_a_refounding_every_entry_is_attested_at_its_seq_by_the_attesting_key_alone() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (ledger, key) = refounding_of(&tmp.path().join("l"), 3);
    let stranger = SecretKey::generate().expect("key");
    let refused = |r: Result<u64, AppendError>, what: &str| match r {
        Err(AppendError::Rule(e)) => assert!(e.to_string().contains(what), "{e}"),
        other => panic!("expected a refusal naming {what}, got {other:?}"),
    };
    refused(note(&ledger, None, &key), "must carry attests");
    refused(note(&ledger, Some(2), &key), "attests/seq is 2");
    refused(
        note(&ledger, Some(1), &stranger),
        "signed by the attesting administrator",
    );
    assert_eq!(ledger.checkpoint().size, 1, "a refusal changes nothing");
    assert_eq!(note(&ledger, Some(1), &key).expect("attested"), 1);
    assert_eq!(note(&ledger, Some(2), &key).expect("attested"), 2);
    refused(note(&ledger, Some(3), &key), "not inside a re-founding");
    assert_eq!(
        note(&ledger, None, &key).expect("an ordinary note after it"),
        3
    );
}

/// A ledger already under rules version 4 (the demo): its subjects are copied with their salts,
/// so that a court bundle of the re-founded ledger still discloses and proves the possessor.
#[test]
fn a_refounded_demo_still_discloses_its_possessor_to_a_court() {
    let (tmp, demo) = common::demo_ledger();
    let new = tmp.path().join("new");
    let keys = demo.join("demo-keys");
    let report = run_json(&[
        "refound",
        "--from",
        s(&demo),
        "--ledger",
        s(&new),
        "--origin",
        "custody.test.go.id/refounded-demo",
        "--admin-id",
        ADMIN,
        "--admin-key",
        s(&keys.join("admin.pem")),
        "--reason",
        "tes",
    ]);
    assert_eq!(report["persons_moved"], 0, "{report}");
    assert!(report["subjects_copied"].as_u64() >= Some(1), "{report}");
    assert_eq!(
        report["rules_adopted"],
        Value::Null,
        "the demo is under the newest rules"
    );
    let court = tmp.path().join("court.json");
    run_json(&[
        "bundle",
        "export",
        "--ledger",
        s(&new),
        "--item",
        "BB-LPN-2025-0418",
        "--out",
        s(&court),
        "--disclose",
        "--officer",
        "85071234",
        "--key",
        s(&keys.join("investigator.pem")),
    ]);
    let vkey = common::vkey_of(&new);
    let verified = run_json(&["bundle", "verify", s(&court), "--vkey", &vkey]);
    assert_eq!(verified["disclosed"][0]["fields"]["nik"], NIK, "{verified}");
    assert!(
        verified.to_string().contains("re-record"),
        "the bundle says its entries are attested: {verified}"
    );
}

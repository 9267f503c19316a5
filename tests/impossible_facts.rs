//! Rules version 5: what cannot be true is refused when it is recorded, through `custody record`
//! on a ledger folder and over HTTP (`custody serve`, `record --server`), naming the field and
//! the rule, and changing nothing; what is suspicious but possible is recorded once `confirmed`
//! names it. A ledger written under rules version 4 with such facts keeps verifying, and its audit
//! keeps reporting them (tests/fixtures/v4-impossible-facts).

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::Path;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/v4-impossible-facts"
);
const ITEM: &str = "BB-LPN-2026-0007";
const SECURITY: &str = "198906142012122002";
const INVESTIGATOR: &str = "85071234";

/// A statement at LPN-JAKARTA by `signers` (role, officer), with `body` merged in.
fn statement(kind: &str, at: &str, signers: &[(&str, &str)], body: Value) -> Value {
    let mut st = json!({
        "type": kind, "occurred_at": at, "facility": "LPN-JAKARTA",
        "signers": signers.iter().map(|(r, o)| json!({"role": r, "officer": o})).collect::<Vec<_>>(),
    });
    if let (Value::Object(m), Value::Object(b)) = (&mut st, body) {
        m.extend(b);
    }
    st
}

fn find(at: &str) -> Value {
    statement(
        "contraband_found",
        at,
        &[("finder", GATE_A), ("witness", GATE_B)],
        json!({"incident": "INS-LPN-2026-0001", "item": ITEM,
            "description": {"name": "sachets of crystalline powder", "form": "crystal"},
            "category": "narcotic", "count": 4, "gross_mass_mg": 5000,
            "concealment": "shoe heel", "persons": [], "photos": []}),
    )
}

fn weigh(at: &str, net: u64, intact: bool, confirmed: Option<&str>) -> Value {
    let mut b = json!({"item": ITEM, "gross_mass_mg": net + 500, "net_mass_mg": net,
        "balance_id": "TIMB-01", "readability_mg": 10, "calibration_ref": "KAL-01",
        "seals_intact": intact});
    if let Some(c) = confirmed {
        b["confirmed"] = json!([c]);
    }
    statement(
        "weighed",
        at,
        &[("weigher", GATE_A), ("witness", GATE_B)],
        b,
    )
}

/// Where statements go: a ledger folder, or a server in front of it.
enum Via<'a> {
    Folder(&'a Path),
    Http(&'a str),
}

/// Records `st` signed with the demo keys `keys`; answers (exit code, stderr).
fn record(ledger: &Path, via: &Via, st: &Value, keys: &[&str]) -> (i32, String) {
    let file = ledger.with_extension(format!("st-{}.json", rand_suffix()));
    std::fs::write(&file, serde_json::to_vec(st).expect("JSON")).expect("write");
    let mut cmd = custody();
    cmd.arg("record").arg("--fill-after");
    match via {
        Via::Folder(l) => cmd.arg("--ledger").arg(l),
        Via::Http(url) => cmd.args(["--server", url]),
    };
    for k in keys {
        cmd.arg("--key").arg(ledger.join("demo-keys").join(k));
    }
    let out = cmd.arg(&file).output().expect("runs");
    (out.status.code().unwrap_or(-1), stderr_of(&out))
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The checkpoint size and root of the ledger at `ledger` (or behind the server).
fn checkpoint(ledger: &Path, via: &Via) -> (u64, String) {
    let v = match via {
        Via::Folder(l) => run_json(&["checkpoint", "--ledger", l.to_str().expect("utf-8")]),
        Via::Http(url) => run_json(&["checkpoint", "--server", url]),
    };
    let _ = ledger;
    (v["size"].as_u64().expect("size"), v["root"].to_string())
}

const GATES: &[&str] = &["gate-officer-a.pem", "gate-officer-b.pem"];

/// Asserts `st` is refused with exit code 1 (HTTP 422 behind `--server`), naming each of `words`,
/// and that the checkpoint did not move.
fn refused(ledger: &Path, via: &Via, st: &Value, keys: &[&str], words: &[&str]) {
    let before = checkpoint(ledger, via);
    let (code, err) = record(ledger, via, st, keys);
    assert_eq!(code, 1, "a refusal exits 1: {err}");
    for w in words {
        assert!(err.contains(w), "the refusal should name {w:?}: {err}");
    }
    assert_eq!(
        checkpoint(ledger, via),
        before,
        "a refusal changed the ledger"
    );
}

fn admitted(ledger: &Path, via: &Via, st: &Value, keys: &[&str]) {
    let (code, err) = record(ledger, via, st, keys);
    assert_eq!(code, 0, "expected it recorded: {err}");
}

/// Every refusal and confirmation of rules version 5, on the demo ledger (rules version 5).
fn every_rule(ledger: &Path, via: &Via) {
    refused(
        ledger,
        via,
        &find("2099-01-01T00:00:00Z"),
        GATES,
        &["/occurred_at", "recorded_at", "waktu kejadian"],
    );
    admitted(ledger, via, &find("2026-01-01T00:00:00Z"), GATES);
    refused(
        ledger,
        via,
        &weigh("2025-12-31T23:00:00Z", 4000, false, None),
        GATES,
        &["/occurred_at", ITEM, "before item"],
    );
    let reseal = statement(
        "item_sealed",
        "2026-01-01T00:30:00Z",
        &[("actor", GATE_A), ("witness", GATE_B)],
        json!({"item": ITEM, "seals_applied": ["SEG-2025-000418"], "packaging": "bag", "photos": []}),
    );
    refused(
        ledger,
        via,
        &reseal,
        GATES,
        &[
            "/seals_applied",
            "SEG-2025-000418",
            "BB-LPN-2025-0418",
            "segel",
        ],
    );
    let sample = statement(
        "sample_set_aside",
        "2026-01-01T00:40:00Z",
        &[("investigator", INVESTIGATOR), ("witness", GATE_A)],
        json!({"item": ITEM, "sample": "BB-LPN-2026-0007-S1", "rule": "whole", "sample_count": 1,
            "sample_net_mass_mg": 6000, "sample_seals": ["SEG-2026-0071"], "parent_seals": ["SEG-2026-0072"],
            "suspect_acknowledgement": "absent"}),
    );
    refused(
        ledger,
        via,
        &sample,
        &["investigator.pem", "gate-officer-a.pem"],
        &["/sample_net_mass_mg", "gross", "5000"],
    );
    confirmations(ledger, via);
}

/// What needs `confirmed`: refused without it, recorded with it.
fn confirmations(ledger: &Path, via: &Via) {
    admitted(
        ledger,
        via,
        &weigh("2026-01-01T01:00:00Z", 4000, true, None),
        GATES,
    );
    refused(
        ledger,
        via,
        &weigh("2026-01-01T02:00:00Z", 3000, true, None),
        GATES,
        &["/confirmed", "mass_difference", "dikonfirmasi"],
    );
    admitted(
        ledger,
        via,
        &weigh("2026-01-01T02:00:00Z", 3000, true, Some("mass_difference")),
        GATES,
    );
    let release = statement(
        "custody_released",
        "2026-01-02T00:00:00Z",
        &[
            ("giver", GATE_A),
            ("witness", GATE_B),
            ("witness", SECURITY),
        ],
        json!({"item": ITEM, "to_officer": GATE_B, "to_unit": "P2U Lapas Narkotika Jakarta",
            "purpose": "storage", "seals": [], "seals_intact": true}),
    );
    admitted(
        ledger,
        via,
        &release,
        &[
            "gate-officer-a.pem",
            "gate-officer-b.pem",
            "security-officer.pem",
        ],
    );
    let mut receipt = statement(
        "custody_received",
        "2026-01-03T02:00:00Z",
        &[("receiver", GATE_B)],
        json!({"item": ITEM, "seals": [], "seals_intact": true}),
    );
    refused(
        ledger,
        via,
        &receipt,
        &["gate-officer-b.pem"],
        &["/confirmed", "late_receipt", "26 hours"],
    );
    receipt["confirmed"] = json!(["late_receipt"]);
    admitted(ledger, via, &receipt, &["gate-officer-b.pem"]);
}

#[test]
fn version_5_refuses_impossible_facts_through_the_cli() {
    let (_tmp, ledger) = demo_ledger();
    every_rule(&ledger, &Via::Folder(&ledger));
    custody()
        .args(["verify", "--ledger"])
        .arg(&ledger)
        .assert()
        .success();
    // The audit still reports what was confirmed, and says it was seen at the time.
    let audit = common::run_json(&[
        "audit",
        "--ledger",
        ledger.to_str().expect("utf-8"),
        "--item",
        ITEM,
    ]);
    let confirmed: Vec<&Value> = audit["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["english"]
                .as_str()
                .is_some_and(|t| t.contains("confirmed it when they recorded it"))
        })
        .collect();
    let classes: Vec<&Value> = confirmed.iter().map(|f| &f["class"]).collect();
    assert!(
        classes.contains(&&json!(6)) && classes.contains(&&json!(2)),
        "{audit}"
    );
}

#[test]
fn version_5_refuses_impossible_facts_over_http() {
    let (_tmp, ledger) = demo_ledger();
    let server = Server::on_port_zero(&ledger);
    every_rule(&ledger, &Via::Http(&server.url));
    assert!(server.terminate(), "the server stops cleanly");
    custody()
        .args(["verify", "--ledger"])
        .arg(&ledger)
        .assert()
        .success();
}

#[test]
fn a_version_4_ledger_with_impossible_facts_still_verifies_and_its_audit_reports_them() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let copy = tmp.path().join("fx");
    copy_dir(Path::new(FIXTURE), &copy);
    let ledger = copy.join("ledger");
    custody()
        .args(["verify", "--ledger"])
        .arg(&ledger)
        .assert()
        .success();
    custody()
        .args(["verify", "--tiles"])
        .arg(copy.join("tiles"))
        .arg("--vkey")
        .arg(copy.join("vkey"))
        .assert()
        .success();
    let out = custody()
        .args([
            "audit",
            "--all",
            "--as-of",
            "2026-12-08T00:00:00Z",
            "--ledger",
        ])
        .arg(&ledger)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    for finding in [
        "Seq 28 says it happened at 2030-01-01T00:00:00.000Z, after it was recorded",
        "seq 29 says it happened before seq 28",
        "Seal SEG-2025-000501 was used on item",
    ] {
        assert!(
            text.contains(finding),
            "the audit should still report {finding:?}: {text}"
        );
    }
}

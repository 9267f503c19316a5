//! `custody import`: a ledger rebuilt from what a mirror holds (a ledger's `public/` folder, or a
//! `custody export`). Without the ledger key it is a read-only replica that answers as the
//! original does and refuses to record; with the key it is a restore that records again. An
//! export that does not verify, a verifier key that does not match, or a target that is not
//! empty is refused, and nothing is created.

mod common;

use common::{GATE_A, custody, demo_ledger, note_by, run_json};
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn vkey_of(ledger: &Path) -> String {
    run_json(&["vkey", "--ledger", s(ledger)])["vkey"]
        .as_str()
        .expect("vkey")
        .to_owned()
}

/// The answers an investigator reads, as JSON text: they must not depend on where the log came
/// from.
fn answers(ledger: &Path) -> Vec<String> {
    let l = s(ledger);
    [
        vec!["items", "--ledger", l],
        vec!["history", "BB-LPN-2025-0418", "--ledger", l],
        vec!["item", "BB-LPN-2025-0418-S1", "--ledger", l],
        vec!["pending", "--ledger", l],
        vec!["facilities", "--ledger", l],
        vec!["checkpoint", "--ledger", l],
    ]
    .iter()
    .map(|args| run_json(args).to_string())
    .collect()
}

fn record_note(ledger: &Path, key: &Path, scratch: &Path) -> std::process::Output {
    let note = scratch.join("note.json");
    std::fs::write(&note, note_by(GATE_A, "")).expect("write note");
    custody()
        .args(["record", "--ledger", s(ledger), "--key", s(key), s(&note)])
        .output()
        .expect("runs")
}

#[test]
fn a_replica_answers_as_the_original_and_refuses_to_record() {
    let (tmp, demo) = demo_ledger();
    let vkey = vkey_of(&demo);
    let replica = tmp.path().join("replica");
    let report = run_json(&[
        "import",
        "--tiles",
        s(&demo.join("public")),
        "--ledger",
        s(&replica),
        "--vkey",
        &vkey,
    ]);
    assert_eq!(report["replica"], true, "{report}");
    assert_eq!(report["entries"], 29);
    assert!(
        !replica.join("private/ledger-key.pem").exists(),
        "a replica has no key"
    );
    assert_eq!(answers(&replica), answers(&demo));
    assert_eq!(run_json(&["verify", "--ledger", s(&replica)])["ok"], true);

    let refused = record_note(
        &replica,
        &demo.join("demo-keys/gate-officer-a.pem"),
        tmp.path(),
    );
    assert_eq!(
        refused.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("read-only replica"));
    assert_eq!(
        answers(&replica),
        answers(&demo),
        "a refusal changes nothing"
    );
    // A replica cannot sign: only its latest checkpoint.
    let older = custody()
        .args(["checkpoint", "--ledger", s(&replica), "--size", "5"])
        .output()
        .expect("runs");
    assert_eq!(older.status.code(), Some(2));
}

#[test]
fn a_restore_with_the_key_records_again_under_the_same_verifier_key() {
    let (tmp, demo) = demo_ledger();
    let export = tmp.path().join("tiles");
    run_json(&["export", "--ledger", s(&demo), "--out", s(&export)]);
    let restored = tmp.path().join("restored");
    let report = run_json(&[
        "import",
        "--tiles",
        s(&export),
        "--ledger",
        s(&restored),
        "--ledger-key",
        s(&demo.join("private/ledger-key.pem")),
    ]);
    assert_eq!(report["replica"], false, "{report}");
    assert_eq!(vkey_of(&restored), vkey_of(&demo));
    assert_eq!(answers(&restored), answers(&demo));
    let recorded = record_note(
        &restored,
        &demo.join("demo-keys/gate-officer-a.pem"),
        tmp.path(),
    );
    assert!(
        recorded.status.success(),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    let verified = run_json(&["verify", "--ledger", s(&restored)]);
    assert_eq!(verified["size"], 30, "{verified}");
}

#[test]
fn an_export_that_does_not_verify_or_a_wrong_key_creates_nothing() {
    let (tmp, demo) = demo_ledger();
    let vkey = vkey_of(&demo);
    let target = tmp.path().join("target");
    let import = |tiles: &Path, extra: &[&str]| {
        custody()
            .args(["import", "--tiles", s(tiles), "--ledger", s(&target)])
            .args(extra)
            .output()
            .expect("runs")
    };
    // One flipped byte in an entry bundle.
    let copy = tmp.path().join("copy");
    common::copy_dir(&demo.join("public"), &copy);
    let bundle = copy.join("tile/entries/000.p/29");
    let mut bytes = std::fs::read(&bundle).expect("bundle");
    bytes[100] ^= 0x01;
    std::fs::write(&bundle, bytes).expect("write");
    let out = import(&copy, &["--vkey", &vkey]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !target.exists(),
        "nothing is created from an export that does not verify"
    );
    // Another ledger's verifier key, and a key that does not make the given verifier key.
    let (_other_tmp, other) = demo_ledger();
    let out = import(&demo.join("public"), &["--vkey", &vkey_of(&other)]);
    assert_eq!(out.status.code(), Some(1));
    let out = import(
        &demo.join("public"),
        &[
            "--vkey",
            &vkey,
            "--ledger-key",
            s(&other.join("private/ledger-key.pem")),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = import(&demo.join("public"), &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "neither --vkey nor --ledger-key"
    );
    let out = import(&tmp.path().join("no-such-export"), &["--vkey", &vkey]);
    assert_eq!(out.status.code(), Some(2), "a folder with no export in it");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tiles"));
    assert!(!target.exists());
    // A target that holds files is refused.
    let out = custody()
        .args([
            "import",
            "--tiles",
            s(&demo.join("public")),
            "--ledger",
            s(&demo),
        ])
        .args(["--vkey", &vkey])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

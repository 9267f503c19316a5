//! A person recorded on a device that cannot reach the server: the device mints the subject id
//! and salt, the statement can carry the person at once, and `custody sync` registers them later.
//! When the register already holds the same person under another id (recorded elsewhere), the
//! sync says so, and a signed `subjects_linked` act joins the two ids — after which the person
//! query of either id answers the events of both. Through the real binary and a real server.

mod common;

use common::{Server, custody, run_json};
use serde_json::Value;
use std::path::Path;

const NIK: &str = "3174055708900003";
const INVESTIGATOR: &str = "85071234";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// `custody subject record` of the demo's visitor as the investigator, with an outbox.
fn record_visitor(server: &str, outbox: &Path, key: &str) -> std::process::Output {
    custody()
        .args([
            "subject",
            "record",
            "--kind",
            "visitor",
            "--name",
            "Siti Aminah",
        ])
        .args(["--nik", NIK, "--server", server, "--outbox", s(outbox)])
        .args(["--officer", INVESTIGATOR, "--key", key, "--json"])
        .output()
        .expect("runs")
}

/// Signs and records, through the server, that subject ids `b` and `a` are one person.
fn link(dir: &Path, server: &str, key: &str, b: &str, a: &str) {
    let link = dir.join("link.json");
    let statement = serde_json::json!({
        "type": "subjects_linked", "subject": b, "same_as": a,
        "basis": "the same NIK in the register",
        "signers": [{"role": "actor", "officer": INVESTIGATOR}],
        "facility": "LPN-JAKARTA", "after": {}});
    std::fs::write(&link, statement.to_string()).expect("writes");
    let linked = custody()
        .args(["record", "--server", server, "--key", key, s(&link)])
        .output()
        .expect("runs");
    assert!(
        linked.status.success(),
        "{}",
        String::from_utf8_lossy(&linked.stderr)
    );
}

/// The demo's visitor recorded again offline, synced and linked: the ledger, the
/// investigator's key file, the demo's id of her and the id the device minted.
fn recorded_twice_and_linked() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    String,
    String,
    String,
) {
    let (tmp, ledger) = common::demo_ledger();
    let dir = tmp.path();
    let inv = s(&ledger.join("demo-keys/investigator.pem")).to_owned();
    let outbox = dir.join("outbox");
    // No server: the id is minted here and the person waits in the outbox (exit 8, queued).
    let offline = record_visitor("http://127.0.0.1:9", &outbox, &inv);
    assert_eq!(
        offline.status.code(),
        Some(8),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    let minted = json(&offline);
    let b = minted["subject"].as_str().expect("a minted id").to_owned();
    assert_eq!(minted["person"]["kind"], "subject");
    let waiting = outbox.join("subjects").join(format!("{b}.json"));
    assert!(waiting.is_file(), "the request waits in the outbox");

    let server = Server::on_port_zero(&ledger);
    let synced = json(
        &custody()
            .args([
                "sync",
                "--server",
                &server.url,
                "--outbox",
                s(&outbox),
                "--json",
            ])
            .output()
            .expect("runs"),
    );
    let first = &synced["results"][0];
    assert_eq!(first["outcome"], "subject_registered", "{synced}");
    assert!(!waiting.exists(), "the person's data left the device");
    // The register already had her (the demo's visitor): the sync names that id; join the two.
    let message = first["message"]
        .as_str()
        .expect("the same person was already there");
    let a = message
        .split_whitespace()
        .find(|w| w.starts_with("subj-"))
        .expect("the other id")
        .to_owned();
    assert_ne!(a, b);
    link(dir, &server.url, &inv, &b, &a);
    assert!(server.terminate());
    (tmp, ledger, inv, a, b)
}

#[test]
fn a_person_recorded_offline_is_registered_by_sync_and_linked_to_the_same_person() {
    let (_dir, ledger, inv, _, b) = recorded_twice_and_linked();
    let events = run_json(&["person", "--ledger", s(&ledger), &b]);
    let n = events["events"].as_array().expect("events").len();
    assert_eq!(
        n, 4,
        "her three acts under the first id and the link: {events}"
    );
    // The register holds the offline record under its own id, with the salt of its commitment.
    let asker = [
        "--officer",
        INVESTIGATOR,
        "--key",
        inv.as_str(),
        "--ledger",
        s(&ledger),
    ];
    let shown = run_json(&[&["subject", "show", b.as_str()][..], &asker].concat());
    assert_eq!(shown["fields"]["nik"], NIK);
    assert_eq!(shown["salts"], 1);
}

#[test]
fn erasing_a_person_erases_every_id_linked_to_them() {
    let (_dir, ledger, inv, a, b) = recorded_twice_and_linked();
    let l = s(&ledger);
    let admin_key = s(&ledger.join("demo-keys/admin.pem")).to_owned();
    let admin = [
        "--officer",
        "197905112005011002",
        "--key",
        admin_key.as_str(),
        "--ledger",
        l,
    ];
    let erase = [
        &[
            "subject",
            "erase",
            a.as_str(),
            "--basis",
            "court order (test)",
        ][..],
        &admin,
    ]
    .concat();
    let erased = run_json(&[&erase[..], &["--order", "PEN/7/PID/2026/PN.JKT"]].concat());
    assert_eq!(
        erased["acts"].as_array().map(Vec::len),
        Some(2),
        "one act per id: {erased}"
    );
    let asker = [
        "--officer",
        INVESTIGATOR,
        "--key",
        inv.as_str(),
        "--ledger",
        l,
    ];
    for id in [&a, &b] {
        let out = custody()
            .args(["subject", "show", id])
            .args(asker)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(4), "{id} erased");
    }
    let out = custody()
        .args(["subject", "lookup", "--nik", NIK])
        .args(asker)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(4), "nothing finds her");
    assert_eq!(run_json(&["verify", "--ledger", l])["ok"], true);
}

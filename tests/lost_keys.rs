//! A lost or stolen key: `custody replace-key` (an administrator and witnesses, never the officer)
//! gives the officer a new key from its log position on; what the old key signed before stays
//! valid and verifies, anything it signs after is refused and changes nothing. And the
//! administrator's acts (enroll, replace-key, revoke) work against a running server (`--server`)
//! as they do on the ledger folder.

mod common;

use common::{Server, custody, demo_ledger, note_by, run_json, stderr_of};
use std::path::{Path, PathBuf};

/// Agus Santoso, gate officer of the demo, whose phone is lost.
const GATE_A: &str = "198803222010121003";
/// Budi Rahmawati, gate officer of the demo.
const GATE_B: &str = "199001152014022001";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn key(ledger: &Path, who: &str) -> PathBuf {
    ledger.join("demo-keys").join(format!("{who}.pem"))
}

/// A new key file in `dir` and its public key.
fn new_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(format!("{name}.pem"));
    let made = run_json(&["key", "new", "--out", s(&path)]);
    (
        path,
        made["public_key"].as_str().expect("public key").to_owned(),
    )
}

/// Records a note by `officer` signed with `key` at `place` (`--ledger DIR` or `--server URL`).
fn note(place: &[&str], dir: &Path, officer: &str, key: &Path) -> std::process::Output {
    let path = dir.join(format!("note-{}.json", rand_suffix()));
    std::fs::write(&path, note_by(officer, "")).expect("writes");
    custody()
        .arg("record")
        .args(place)
        .arg(&path)
        .args(["--key", s(key)])
        .output()
        .expect("runs")
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos()
}

/// An officer as `custody officers` lists them.
fn officer(ledger: &Path, id: &str) -> serde_json::Value {
    let officers = run_json(&["officers", "--ledger", s(ledger)]);
    officers
        .as_array()
        .expect("officers")
        .iter()
        .find(|o| o["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is enrolled: {officers}"))
}

/// Runs `cmd` and asserts it succeeded.
fn ok(cmd: &mut assert_cmd::Command) {
    let out = cmd.output().expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
}

fn size(ledger: &Path) -> u64 {
    run_json(&["verify", "--ledger", s(ledger)])["size"]
        .as_u64()
        .expect("size")
}

#[test]
fn a_lost_key_is_replaced_without_it_and_what_it_signs_after_is_refused() {
    let (tmp, ledger) = demo_ledger();
    let place = ["--ledger", s(&ledger)];
    let old = key(&ledger, "gate-officer-a");
    assert!(note(&place, tmp.path(), GATE_A, &old).status.success());
    let (new, public) = new_key(tmp.path(), "gate-a-new");
    let replaced = custody()
        .args(["replace-key", "--ledger", s(&ledger)])
        .args(["--key", s(&key(&ledger, "admin")), "--officer", GATE_A])
        .args([
            "--public-key",
            &public,
            "--reason",
            "telepon dinas hilang di pos P2U",
        ])
        .args(["--report", "LP/B/123/VIII/2025/SPKT", "--witness-key"])
        .arg(key(&ledger, "head-of-security"))
        .output()
        .expect("runs");
    assert!(replaced.status.success(), "{}", stderr_of(&replaced));

    let before = size(&ledger);
    let stale = note(&place, tmp.path(), GATE_A, &old);
    assert_eq!(stale.status.code(), Some(1), "{}", stderr_of(&stale));
    assert!(
        stderr_of(&stale).contains("no signature by their current key"),
        "{}",
        stderr_of(&stale)
    );
    assert_eq!(size(&ledger), before, "a refusal changes nothing");
    assert!(note(&place, tmp.path(), GATE_A, &new).status.success());
    // What the old key signed before the replacement stays valid: the whole log verifies.
    assert_eq!(run_json(&["verify", "--ledger", s(&ledger)])["ok"], true);
    let agus = officer(&ledger, GATE_A);
    assert_eq!(agus["keys"].as_array().map(Vec::len), Some(2), "{agus}");
}

#[test]
fn the_officer_whose_key_is_lost_may_not_sign_its_replacement() {
    let (tmp, ledger) = demo_ledger();
    let (_, public) = new_key(tmp.path(), "gate-a-new");
    let before = size(&ledger);
    let out = custody()
        .args(["replace-key", "--ledger", s(&ledger)])
        .args(["--key", s(&key(&ledger, "admin")), "--officer", GATE_A])
        .args([
            "--public-key",
            &public,
            "--reason",
            "hilang",
            "--witness-key",
        ])
        .arg(key(&ledger, "gate-officer-a"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("their key is the one being replaced"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(size(&ledger), before);
}

#[test]
fn the_administrators_acts_work_against_a_running_server() {
    let (tmp, ledger) = demo_ledger();
    let server = Server::on_port_zero(&ledger);
    let at = ["--server", server.url.as_str()];
    let admin = key(&ledger, "admin");
    let (officer_key, public) = new_key(tmp.path(), "new-officer");
    ok(custody()
        .arg("enroll")
        .args(at)
        .args([
            "--key",
            s(&admin),
            "--officer",
            "199505052020121001",
            "--name",
            "Rina",
        ])
        .args([
            "--agency",
            "imipas",
            "--unit",
            "P2U Lapas Narkotika Jakarta",
        ])
        .args(["--roles", "gate_officer", "--public-key", &public, "--json"]));
    assert!(
        note(&at, tmp.path(), "199505052020121001", &officer_key)
            .status
            .success()
    );
    let (_, replacement) = new_key(tmp.path(), "gate-b-new");
    ok(custody()
        .arg("replace-key")
        .args(at)
        .args([
            "--key",
            s(&admin),
            "--officer",
            GATE_B,
            "--public-key",
            &replacement,
        ])
        .args(["--reason", "dicuri", "--witness-key"])
        .arg(key(&ledger, "head-of-security")));
    ok(custody().arg("revoke").args(at).args([
        "--key",
        s(&admin),
        "--officer",
        "199505052020121001",
        "--reason",
        "mutasi",
    ]));
    assert!(server.terminate());
    let rina = officer(&ledger, "199505052020121001");
    assert!(rina["revoked_at"].is_u64(), "{rina}");
    assert_eq!(
        rina["facility"], "LPN-JAKARTA",
        "the administrator's own facility"
    );
}

//! The README walkthrough, end to end through the real binary: keys, init, enrollment, recording
//! with local keys, signing on two devices, submitting, checkpoints, entries, proofs that verify
//! against the checkpoint, rotation, revocation, export and verification of the export.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::*;
use custody::merkle;

fn hash(v: &serde_json::Value) -> merkle::Hash {
    B64.decode(v.as_str().expect("base64 string"))
        .expect("base64")
        .try_into()
        .expect("32 bytes")
}

fn hashes(v: &serde_json::Value) -> Vec<merkle::Hash> {
    v.as_array().expect("array").iter().map(hash).collect()
}

#[test]
// The long form reads better here: the README's walkthrough, step by step, as a new user runs it.
#[allow(clippy::too_many_lines)]
fn walkthrough_from_keys_to_verified_export() {
    // Given a ledger with an admin and two gate officers
    let f = Fixture::new();
    let l = f.ledger_str();
    assert_eq!(f.size(), 3);

    // When officer A records a note with a local key (id and occurred_at are filled in)
    let note = f.write("note.json", note_by(GATE_A, "").as_bytes());
    let receipt = run_json(&[
        "record",
        "--ledger",
        l,
        "--key",
        f.key("gate-a").to_str().expect("path"),
        note.to_str().expect("path"),
    ]);
    // Then the receipt carries the seq, a checkpoint covering it and an inclusion proof
    assert_eq!(receipt["seq"], 3);
    assert_eq!(receipt["duplicate"], false);
    let cp_text = receipt["checkpoint"].as_str().expect("note");
    assert!(cp_text.starts_with(&format!("{ORIGIN}\n4\n")), "{cp_text}");
    let root = hash(&serde_json::Value::String(
        cp_text.lines().nth(2).expect("root line").to_owned(),
    ));
    let proof = &receipt["inclusion_proof"];
    merkle::verify_inclusion(
        3,
        4,
        &hash(&proof["leaf_hash"]),
        &hashes(&proof["hashes"]),
        &root,
    )
    .expect("the receipt's proof verifies against its checkpoint");

    // When a statement is signed on two devices and then submitted
    let two = f.write(
        "rotation.json",
        format!(
            r#"{{"type":"officer_key_rotated","facility":"{FACILITY}","signers":[{{"role":"admin","officer":"{ADMIN}"}},{{"role":"key_holder","officer":"{GATE_B}"}}],"after":{{}},"officer":"{GATE_B}","public_key":"{}","reason":"new phone"}}"#,
            f.public_key("spare")
        )
        .as_bytes(),
    );
    let first = custody()
        .args(["sign", "--key"])
        .arg(f.key("admin"))
        .arg(&two)
        .output()
        .expect("runs");
    assert!(first.status.success(), "{}", stderr_of(&first));
    let half = f.write("half.json", &first.stdout);
    // Then a half-signed envelope is refused, naming the missing signer
    let out = custody()
        .args(["submit", "--ledger", l])
        .arg(&half)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains(GATE_B), "{}", stderr_of(&out));
    // And the fully signed one is appended
    let second = custody()
        .args(["sign", "--key"])
        .arg(f.key("gate-b"))
        .arg(&half)
        .output()
        .expect("runs");
    assert!(second.status.success(), "{}", stderr_of(&second));
    let full = f.write("full.json", &second.stdout);
    let receipt = run_json(&["submit", "--ledger", l, full.to_str().expect("path")]);
    assert_eq!(receipt["seq"], 4);
    // And submitting it again appends nothing and answers the original seq
    let again = run_json(&["submit", "--ledger", l, full.to_str().expect("path")]);
    assert_eq!(again["seq"], 4);
    assert_eq!(again["duplicate"], true);
    assert_eq!(f.size(), 5);

    // When the entry is fetched, its hash is the leaf hash of the receipt
    let raw = custody()
        .args(["entry", "--ledger", l, "4"])
        .output()
        .expect("runs");
    assert!(raw.status.success());
    assert_eq!(merkle::leaf_hash(&raw.stdout), hash(&receipt["leaf_hash"]));
    let decoded = run_json(&["entry", "--ledger", l, "4"]);
    assert_eq!(decoded["statement"]["type"], "officer_key_rotated");

    // Then inclusion and consistency proofs from the CLI verify against checkpoint roots
    let old_root = root;
    let cp = run_json(&["checkpoint", "--ledger", l]);
    let new_root = hash(&cp["root"]);
    let inc = custody()
        .args(["prove", "inclusion", "--ledger", l, "2"])
        .output()
        .expect("runs");
    let inc: serde_json::Value = serde_json::from_slice(&inc.stdout).expect("json");
    assert_eq!(inc["tree_size"], 5);
    merkle::verify_inclusion(
        2,
        5,
        &hash(&inc["leaf_hash"]),
        &hashes(&inc["hashes"]),
        &new_root,
    )
    .expect("inclusion proof verifies");
    let con = custody()
        .args(["prove", "consistency", "--ledger", l, "4"])
        .output()
        .expect("runs");
    let con: serde_json::Value = serde_json::from_slice(&con.stdout).expect("json");
    assert_eq!(
        (con["old_size"].as_u64(), con["new_size"].as_u64()),
        (Some(4), Some(5))
    );
    merkle::verify_consistency(4, 5, &old_root, &new_root, &hashes(&con["hashes"]))
        .expect("consistency proof verifies");
    // And the raw checkpoint is the signed note, byte for byte
    let raw_cp = custody()
        .args(["checkpoint", "--ledger", l])
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8(raw_cp.stdout).expect("utf-8"),
        cp["note"].as_str().expect("note")
    );

    // When officer B's old key is used after the rotation, it is refused
    let note_b = f.write("note-b.json", note_by(GATE_B, "").as_bytes());
    let out = custody()
        .args(["record", "--ledger", l, "--key"])
        .arg(f.key("gate-b"))
        .arg(&note_b)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    // And the new key works
    custody()
        .args(["record", "--ledger", l, "--key"])
        .arg(f.key("spare"))
        .arg(&note_b)
        .assert()
        .success();

    // When officer A is revoked, A can no longer sign
    custody()
        .args(["revoke", "--ledger", l, "--key"])
        .arg(f.key("admin"))
        .args(["--officer", GATE_A, "--reason", "transferred"])
        .assert()
        .success();
    let out = custody()
        .args(["record", "--ledger", l, "--key"])
        .arg(f.key("gate-a"))
        .arg(&note)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("revoked"), "{}", stderr_of(&out));

    // Then the whole ledger verifies, and so does its tiles export, with the verifier key alone
    let v = run_json(&["verify", "--ledger", l]);
    assert_eq!(v["ok"], true);
    assert_eq!(v["size"], 7);
    let tiles = f.tmp.path().join("tiles");
    custody()
        .args(["export", "--ledger", l, "--out"])
        .arg(&tiles)
        .assert()
        .success();
    let vkey = String::from_utf8(
        custody()
            .args(["vkey", "--ledger", l])
            .output()
            .expect("runs")
            .stdout,
    )
    .expect("utf-8");
    let v = run_json(&[
        "verify",
        "--tiles",
        tiles.to_str().expect("path"),
        "--vkey",
        vkey.trim(),
    ]);
    assert_eq!(v["size"], 7);
    assert_eq!(v["root"], run_json(&["checkpoint", "--ledger", l])["root"]);

    // And the officer list shows the revocation and the rotation
    let officers = run_json(&["officers", "--ledger", l]);
    let b = officers
        .as_array()
        .expect("list")
        .iter()
        .find(|o| o["id"] == GATE_B)
        .expect("B listed");
    assert_eq!(b["keys"].as_array().expect("keys").len(), 2);
    let a = officers
        .as_array()
        .expect("list")
        .iter()
        .find(|o| o["id"] == GATE_A)
        .expect("A listed");
    assert_eq!(a["revoked_at"], 6);
}

#[test]
fn the_ledger_directory_may_come_from_the_environment() {
    let f = Fixture::new();
    let out = custody()
        .env("CUSTODY_LEDGER", &f.ledger)
        .args(["verify", "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn demo_builds_and_verifies_a_ledger() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("demo");
    let v = run_json(&["demo", "--ledger", dir.to_str().expect("path")]);
    assert_eq!(v["verify"]["ok"], true);
    custody()
        .args(["verify", "--ledger"])
        .arg(&dir)
        .assert()
        .success();
    // A second demo into the same directory is refused rather than mixing two ledgers
    let out = custody()
        .args(["demo", "--ledger"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert!(!out.status.success());
}

#[test]
fn key_files_are_private_and_never_overwritten() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = tmp.path().join("k.pem");
    custody()
        .args(["key", "new", "--out"])
        .arg(&path)
        .assert()
        .success();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    let before = std::fs::read(&path).expect("read");
    let out = custody()
        .args(["key", "new", "--out"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&path).expect("read"), before);
}

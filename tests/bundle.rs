//! Evidence bundles: the demo item's bundle verifies with only the verifier key and reports the
//! late destruction; dropping an event, flipping a byte anywhere, swapping a signature, replacing
//! the checkpoint with another validly signed one, and a wrong verifier key each fail with a
//! message naming what broke.

mod common;

use common::*;
use custody::Timestamp;
use custody::bundle::{self, Bundle};
use custody::note::VerifierKey;

const ITEM: &str = "BB-LPN-2025-0418";

struct Case {
    _tmp: tempfile::TempDir,
    ledger: String,
    bytes: Vec<u8>,
    vkey: VerifierKey,
}

fn case() -> Case {
    let (tmp, dir) = demo_ledger();
    let out = tmp.path().join("bundle.json");
    let l = dir.to_str().expect("utf-8").to_owned();
    custody()
        .args(["bundle", "export", "--ledger", &l, "--item", ITEM, "--out"])
        .arg(&out)
        .assert()
        .success();
    let vkey_text = String::from_utf8(
        custody()
            .args(["vkey", "--ledger", &l])
            .output()
            .expect("runs")
            .stdout,
    )
    .expect("utf-8");
    Case {
        bytes: std::fs::read(&out).expect("bundle"),
        vkey: VerifierKey::parse(vkey_text.trim()).expect("vkey"),
        ledger: l,
        _tmp: tmp,
    }
}

fn as_of() -> Timestamp {
    Timestamp::parse("2025-08-22T01:00:00Z").expect("valid")
}

fn refused(c: &Case, bytes: &[u8], words: &[&str]) {
    let err = bundle::verify(bytes, &c.vkey, as_of())
        .expect_err("the altered bundle is refused")
        .to_string();
    for w in words {
        assert!(err.contains(w), "error should mention {w:?}: {err}");
    }
}

#[test]
fn the_demo_bundle_verifies_offline_and_shows_the_late_destruction() {
    let c = case();
    let r = bundle::verify(&c.bytes, &c.vkey, as_of()).expect("verifies");
    assert_eq!(r.item.as_deref(), Some(ITEM));
    assert_eq!(r.incident, None);
    assert_eq!(r.items.len(), 2, "the item and its sample");
    assert!(
        r.findings
            .iter()
            .any(|f| f.class == 8 && f.english.contains("2 days")),
        "{:#?}",
        r.findings
    );
    assert!(
        r.cannot_prove
            .iter()
            .any(|p| p.contains("newer checkpoint"))
    );
    // Other cases stay private: only this lot's events and identity statements are inside.
    let b: Bundle = serde_json::from_slice(&c.bytes).expect("json");
    assert!(
        b.entries.iter().all(|e| e.seq != 11),
        "the search of the visitor is not part of the item's lot"
    );
    // And the CLI says the same with no ledger at hand.
    let tmp = tempfile::tempdir().expect("temp");
    let file = tmp.path().join("b.json");
    std::fs::write(&file, &c.bytes).expect("write");
    let out = custody()
        .args(["bundle", "verify"])
        .arg(&file)
        .args([
            "--vkey",
            &c.vkey.to_string(),
            "--as-of",
            "2025-08-22T01:00:00Z",
        ])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.contains("Bundle checks passed")
            && !text.contains("sah)")
            && text.contains("terlambat")
            && text.contains("cannot prove"),
        "{text}"
    );
    // Officers by name and staff number, from the bundle's own identity statements.
    assert!(
        text.contains(
            "  Rudi Hartono (NRP 85071234) — Satresnarkoba Polres Jakarta Timur — signed as"
        ) && text.contains("Ratna Sari (NIP 198204102006042001) — Labfor Polri — signed as"),
        "signer lines: {text}"
    );
    let holder = text
        .lines()
        .find(|l| l.starts_with("BB-LPN-2025-0418-S1"))
        .expect("the sample's line");
    assert!(
        holder.contains("Ratna Sari (NIP 198204102006042001)"),
        "{holder}"
    );
    assert_eq!(
        r.officers.get("85071234").map(String::as_str),
        Some("Rudi Hartono")
    );
}

#[test]
fn dropping_an_event_is_detected() {
    let c = case();
    let mut b: Bundle = serde_json::from_slice(&c.bytes).expect("json");
    // Remove the first re-weigh of the lot (seq 17): the seizure after it no longer follows.
    b.entries.retain(|e| e.seq != 17);
    refused(
        &c,
        &serde_json::to_vec(&b).expect("json"),
        &["seq 18", "stale view", "an event may be missing"],
    );
}

#[test]
fn swapping_a_signature_is_detected() {
    let c = case();
    let mut b: Bundle = serde_json::from_slice(&c.bytes).expect("json");
    // Re-encode a leaf with its two signatures in the other order: the bytes change, so the leaf
    // is no longer the one the checkpoint commits to.
    let entry = b
        .entries
        .iter_mut()
        .find(|e| e.seq == 15)
        .expect("the handover");
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let text = String::from_utf8(b64.decode(&entry.leaf).expect("b64")).expect("utf-8");
    let mut leaf: serde_json::Value = serde_json::from_str(&text).expect("json");
    let sigs = leaf["envelope"]["signatures"].as_array_mut().expect("sigs");
    let (a, z) = (sigs[0]["sig"].clone(), sigs[1]["sig"].clone());
    sigs[0]["sig"] = z;
    sigs[1]["sig"] = a;
    entry.leaf = b64.encode(serde_json::to_vec(&leaf).expect("json"));
    refused(
        &c,
        &serde_json::to_vec(&b).expect("json"),
        &["seq 15", "inclusion proof does not verify"],
    );
}

#[test]
fn another_validly_signed_checkpoint_is_detected() {
    let c = case();
    // The same ledger grows by one entry: its new checkpoint is genuine, but the bundle's proofs
    // are for the old tree.
    let tmp = tempfile::tempdir().expect("temp");
    let note = tmp.path().join("n.json");
    std::fs::write(&note, r#"{"type":"note_added","facility":"LPN-JAKARTA","after":{},"signers":[{"role":"author","officer":"197512031998031001"}],"text":"later"}"#).expect("write");
    custody()
        .args([
            "record",
            "--ledger",
            &c.ledger,
            "--key",
            &format!("{}/demo-keys/head-of-security.pem", c.ledger),
        ])
        .arg(&note)
        .assert()
        .success();
    let newer = String::from_utf8(
        custody()
            .args(["checkpoint", "--ledger", &c.ledger])
            .output()
            .expect("runs")
            .stdout,
    )
    .expect("utf-8");
    // The newer checkpoint's size, from its note (origin, size, root, then signatures).
    let size = newer.lines().nth(1).expect("a size line").to_owned();
    let mut b: Bundle = serde_json::from_slice(&c.bytes).expect("json");
    b.checkpoint = newer;
    refused(
        &c,
        &serde_json::to_vec(&b).expect("json"),
        &["inclusion proof does not verify", &format!("size {size}")],
    );
}

#[test]
fn a_wrong_verifier_key_is_refused() {
    let c = case();
    let other = case();
    let err = bundle::verify(&c.bytes, &other.vkey, as_of())
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("not from") || err.contains("checkpoint"),
        "{err}"
    );
}

#[test]
fn flipping_any_byte_is_detected() {
    let c = case();
    // A deterministic spread of positions over the whole file, each flipped on its own.
    let n = c.bytes.len();
    let mut tried = 0;
    for k in 0..250usize {
        let at = (k * 7919 + 13) % n;
        let mut bytes = c.bytes.clone();
        bytes[at] ^= 0x01;
        assert!(
            bundle::verify(&bytes, &c.vkey, as_of()).is_err(),
            "flipping byte {at} ({:?}) went unnoticed",
            c.bytes[at] as char
        );
        tried += 1;
    }
    assert_eq!(tried, 250);
}

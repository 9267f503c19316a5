//! Write scope: who may act on an item, and what a refusal may say. A ledger written before
//! write scope existed (tests/fixtures/v1-ledger, with a cross-facility write at seq 29) keeps
//! verifying, auditing and rebuilding, because the rules in force at each entry's position decide.

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// The ledger a version without write scope wrote (tests/fixtures/v1-ledger/README.md).
const V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1-ledger");
/// The Jakarta sample the Bandung officer wrote into at seq 29.
const V1_SAMPLE: &str = "BB-LPN-2025-0418-S1";

/// A copy of the old ledger directory (opening one takes its lock and may sign a checkpoint).
fn v1_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("ledger");
    copy_dir(&Path::new(V1).join("ledger"), &dir);
    (tmp, dir)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
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

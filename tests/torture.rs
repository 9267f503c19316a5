//! The reliability harness run as CI runs it: a short crash torture of `custody serve` (SIGKILL
//! at random moments and aborts at every crash point of the group commit) and the storage fault
//! suite. Each must end with nothing acknowledged lost and nothing wrong left undetected. The
//! long runs (≥ 500 cycles, thousands of seeds) are documented in docs/RELIABILITY.md.

mod common;

use common::*;
use serde_json::Value;

fn torture(args: &[&str]) -> (Option<i32>, Value, String) {
    let out = custody()
        .arg("torture")
        .args(args)
        .arg("--json")
        .output()
        .expect("custody torture runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "--json prints the report ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code(),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn given_a_server_killed_twenty_times_under_load_then_every_acknowledgement_survives() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("ledger");
    let (code, r, log) = torture(&[
        "--ledger",
        dir.to_str().expect("utf-8"),
        "--cycles",
        "20",
        "--writers",
        "8",
        "--seed",
        "20261128",
    ]);
    assert_eq!(code, Some(0), "torture failed: {r}\n{log}");
    assert_eq!(r["cycles"], 20);
    assert_eq!(r["lost"], 0, "{r}");
    assert_eq!(r["undetected_corruption"], 0, "{r}");
    assert_eq!(r["failures"].as_array().map(Vec::len), Some(0), "{r}");
    let acked = r["acked"].as_u64().expect("acked");
    assert!(acked > 0, "the writers got acknowledgements: {r}");
    assert!(
        r["entries"].as_u64().expect("entries") >= acked,
        "the log holds at least what was acknowledged: {r}"
    );
    // The seed arms crash points inside the commit as well as plain SIGKILLs.
    let kills = r["kills"].as_object().expect("kills");
    assert!(kills.keys().any(|k| k == "sigkill"), "{r}");
    assert!(kills.keys().any(|k| k.starts_with("abort at")), "{r}");
    assert!(r["retries_checked"].as_u64().expect("retries") > 0, "{r}");
    assert!(
        r["consistency_checked"].as_u64().expect("proofs") > 0,
        "{r}"
    );
    assert_eq!(r["rebuilds_compared"], 20, "{r}");
    // The default run kills some servers during start-up too, and every reopen succeeds.
    assert!(
        r["startup_kills"].as_u64().expect("startup kills") > 0,
        "{r}"
    );
    assert_eq!(r["refused_opens"], 0, "{r}");
}

#[test]
fn given_servers_killed_while_they_open_and_while_sled_writes_its_snapshot_then_every_reopen_succeeds()
 {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("ledger");
    let (code, r, log) = torture(&[
        "--ledger",
        dir.to_str().expect("utf-8"),
        "--cycles",
        "12",
        "--writers",
        "4",
        "--startup-percent",
        "100",
        "--seed",
        "20261204",
    ]);
    assert_eq!(code, Some(0), "torture failed: {r}\n{log}");
    assert_eq!(r["startup_kills"], 12, "{r}");
    assert_eq!(r["refused_opens"], 0, "{r}");
    assert_eq!(r["lost"], 0, "{r}");
    assert_eq!(r["undetected_corruption"], 0, "{r}");
    // Kills landed inside the open itself, not only after it.
    let kills = r["kills"].as_object().expect("kills");
    assert!(
        kills.keys().any(
            |k| k.starts_with("sigkill during open") || k == "sigkill at sled's snapshot write"
        ),
        "{r}"
    );
    // Every snapshot file a kill cut off was moved aside by the next open, and nothing else was.
    assert_eq!(r["quarantined"], r["snapshot_kills"], "{r}");
}

#[test]
fn given_storage_faults_then_nothing_acknowledged_is_lost_and_no_answer_is_wrong() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (code, r, log) = torture(&[
        "--faults",
        "--ledger",
        tmp.path().to_str().expect("utf-8"),
        "--seeds",
        "64",
        "--seed",
        "1",
    ]);
    assert_eq!(code, Some(0), "fault suite failed: {r}\n{log}");
    assert_eq!(r["seeds"], 64);
    assert_eq!(r["lost"], 0, "{r}");
    assert_eq!(r["wrong_answers"], 0, "{r}");
    // Seeds 1..=64 inject every kind of fault (the schedule follows from the seed alone).
    for kind in ["write_fail", "flush_fail", "checkpoint_fail", "read_flip"] {
        assert!(
            r["injected"][kind].as_u64().unwrap_or(0) > 0,
            "{kind} injected: {r}"
        );
    }
    assert!(r["acked"].as_u64().expect("acked") > 0, "{r}");
    assert!(r["refused"].as_u64().expect("refused") > 0, "{r}");
    assert_eq!(r["rollbacks"], 16, "{r}");
    assert_eq!(r["rollbacks_refused"], 16, "{r}");
}

#[test]
fn torture_refuses_an_existing_folder_and_changes_nothing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(tmp.path().join("keep.txt"), "x").expect("write");
    let out = custody()
        .args(["torture", "--cycles", "1", "--ledger"])
        .arg(tmp.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exists"), "{err}");
    assert_eq!(
        std::fs::read_dir(tmp.path()).expect("dir").count(),
        1,
        "nothing was created"
    );
}

#[test]
fn zero_counts_and_bounds_are_usage_errors_naming_the_flag() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("new");
    let dir = dir.to_str().expect("utf-8");
    for (args, flag) in [
        (
            vec!["torture", "--ledger", dir, "--cycles", "0"],
            "--cycles",
        ),
        (
            vec!["torture", "--ledger", dir, "--writers", "0"],
            "--writers",
        ),
        (
            vec!["torture", "--ledger", dir, "--rebuild-every", "0"],
            "--rebuild-every",
        ),
        (
            vec!["torture", "--faults", "--ledger", dir, "--seeds", "0"],
            "--seeds",
        ),
        (
            vec!["torture", "--faults", "--ledger", dir, "--statements", "0"],
            "--statements",
        ),
        (
            vec!["serve", "--ledger", dir, "--connections-max", "0"],
            "--connections-max",
        ),
        (
            vec!["serve", "--ledger", dir, "--header-timeout-ms", "0"],
            "--header-timeout-ms",
        ),
    ] {
        let out = custody().args(&args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag), "{args:?}: {err}");
    }
    assert!(!tmp.path().join("new").exists(), "nothing was created");
}

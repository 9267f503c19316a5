//! `custody bench` through the real binary, at tiny sizes: every mode prints a table and then one
//! JSON object as its last line with the fields the performance issue names, what it appended is
//! really in the ledger (which verifies), and generated ledgers are cached per size. Speed is
//! never asserted here (BENCHMARKS.md holds the figures).

mod common;

use common::*;
use serde_json::Value;

/// Runs `custody bench ARGS` and answers the JSON of its last line, after checking the table.
fn bench(args: &[&str], cache: &std::path::Path) -> (Value, String) {
    let out = custody()
        .arg("bench")
        .args(args)
        .env("CUSTODY_BENCH_CACHE", cache)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.len() >= 3,
        "a header, a row and the JSON line: {text}"
    );
    let json: Value = serde_json::from_str(lines[lines.len() - 1]).expect("the last line is JSON");
    (json, String::from_utf8(out.stderr).expect("utf-8"))
}

fn number(v: &Value, field: &str) -> f64 {
    v[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} is a number in {v}"))
}

#[test]
fn append_embedded_appends_durable_verified_statements_and_reports_them() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("ledger");
    let dir_arg = dir.to_str().expect("utf-8");
    for signatures in ["1", "3"] {
        let dir = tmp.path().join(format!("ledger-{signatures}"));
        let dir_arg = dir.to_str().expect("utf-8");
        let (r, _) = bench(
            &[
                "append",
                "--writers",
                "3",
                "--seconds",
                "0.3",
                "--signatures",
                signatures,
                "--ledger",
                dir_arg,
            ],
            tmp.path(),
        );
        for field in [
            "appends_per_s",
            "p50_ms",
            "p99_ms",
            "disk_bytes_per_entry",
            "leaf_bytes_per_entry",
            "peak_rss_mb",
        ] {
            assert!(number(&r, field) > 0.0, "{field} in {r}");
        }
        assert_eq!(r["writers"], 3);
        assert_eq!(r["signatures"].to_string(), signatures);
        let appended = number(&r, "statements");
        // What was measured is in the ledger, after the warm-up and the enrollments.
        let out = custody()
            .args(["verify", "--json", "--ledger", dir_arg])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", stderr_of(&out));
        let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert!(
            number(&report, "size") >= appended + 3.0,
            "{report} holds the {appended} measured statements"
        );
        let kind = if signatures == "1" {
            "note_added"
        } else {
            "contraband_found"
        };
        assert!(
            number(&report["statements"], kind) >= appended,
            "{report}: every measured statement is a {kind}"
        );
    }
    // A temporary ledger (no --ledger) is removed afterwards; the folder given is refused when
    // it already holds a ledger.
    let out = custody()
        .args(["bench", "append", "--seconds", "0.2", "--ledger", dir_arg])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let again = custody()
        .args(["bench", "append", "--seconds", "0.2", "--ledger", dir_arg])
        .output()
        .expect("runs");
    assert!(
        !again.status.success(),
        "a second run into the same ledger is refused"
    );
}

#[test]
fn append_over_http_reports_the_same_fields() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (r, _) = bench(
        &["append", "--http", "--writers", "2", "--seconds", "0.3"],
        tmp.path(),
    );
    assert!(number(&r, "appends_per_s") > 0.0, "{r}");
    assert!(number(&r, "statements") > 0.0, "{r}");
    assert!(number(&r, "p99_ms") >= number(&r, "p50_ms"), "{r}");
}

#[test]
fn ceilings_measures_every_primitive_and_removes_its_flush_file() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().to_str().expect("utf-8");
    let (c, _) = bench(&["ceilings", "--seconds", "0.2", "--dir", dir], tmp.path());
    for field in [
        "strict_verify_per_s_one_core",
        "strict_verify_per_s_all_cores",
        "sha256_leaves_per_s_one_core",
        "sha256_leaves_per_s_all_cores",
        "fdatasync_per_s",
        "fdatasync_p50_ms",
        "fdatasync_p99_ms",
    ] {
        assert!(number(&c, field) > 0.0, "{field} in {c}");
    }
    assert!(number(&c, "cores") >= 1.0);
    assert_eq!(c["message_bytes"], 1024);
    let left: Vec<_> = std::fs::read_dir(tmp.path()).expect("dir").collect();
    assert!(left.is_empty(), "the flush file is removed: {left:?}");
    for (args, flag) in [
        (vec!["--seconds", "0"], "--seconds"),
        (
            vec!["--seconds", "0.1", "--dir", "/no/such/folder"],
            "--dir",
        ),
    ] {
        let out = custody()
            .args(["bench", "ceilings"])
            .args(&args)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
        assert!(stderr_of(&out).contains(flag), "{}", stderr_of(&out));
    }
}

#[test]
fn bad_bench_arguments_name_the_flag() {
    for (args, flag) in [
        (vec!["append", "--writers", "0"], "--writers"),
        (vec!["append", "--seconds", "0"], "--seconds"),
        (vec!["append", "--signatures", "17"], "--signatures"),
        (vec!["verify", "--entries", "0"], "--entries"),
        (vec!["append", "--server", "http://127.0.0.1:9"], "--admin"),
    ] {
        let out = custody().arg("bench").args(&args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains(flag),
            "{args:?} names {flag}: {}",
            stderr_of(&out)
        );
    }
}

#[test]
fn verify_query_and_rebuild_share_one_cached_generated_ledger() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let entries = "400";
    let (v, stderr) = bench(&["verify", "--entries", entries], tmp.path());
    assert!(
        stderr.contains("generated"),
        "the first run generates: {stderr}"
    );
    assert!(number(&v, "entries") >= 400.0, "{v}");
    assert!(number(&v, "entries_per_s") > 0.0, "{v}");
    assert!(
        number(&v, "signatures") >= number(&v, "entries"),
        "every entry carries at least one signature: {v}"
    );
    assert!(number(&v, "signatures_per_s") > 0.0, "{v}");
    assert!(number(&v, "peak_rss_mb") > 0.0, "{v}");
    // Every leaf is a signed statement of a few hundred bytes, and the folder holds them all.
    assert!(number(&v, "leaf_bytes_per_entry") > 200.0, "{v}");
    assert!(number(&v, "disk_bytes_per_leaf_byte") > 1.0, "{v}");
    let cached = tmp.path().join("entries-400");
    assert!(
        cached.join("private/log.sled").exists(),
        "kept under the cache"
    );

    let (q, stderr) = bench(
        &["query", "--entries", entries, "--samples", "50"],
        tmp.path(),
    );
    assert!(
        !stderr.contains("generated"),
        "reused, not generated: {stderr}"
    );
    assert_eq!(q["entries"], v["entries"], "the same ledger");
    for field in [
        "history_p50_us",
        "history_p99_us",
        "holdings_p50_us",
        "holdings_p99_us",
        "proof_p99_us",
    ] {
        assert!(number(&q, field) > 0.0, "{field} in {q}");
    }
    // Each item's story has ten events; a proof of a tree of n leaves is ⌈log2 n⌉ hashes at most.
    assert_eq!(number(&q, "history_events_per_item"), 10.0, "{q}");
    let n = number(&q, "entries");
    assert!(number(&q, "proof_bytes") <= 32.0 * n.log2().ceil(), "{q}");

    let (r, _) = bench(&["rebuild", "--entries", entries], tmp.path());
    assert_eq!(r["entries"], v["entries"], "{r}");
    assert!(number(&r, "events_per_s") > 0.0, "{r}");
    // The rebuilt views are the ones the log implies: the ledger still verifies and answers.
    let out = custody()
        .args(["verify", "--ledger"])
        .arg(&cached)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn append_against_a_running_server_enrolls_its_officers_through_the_administrator() {
    let f = Fixture::new();
    let before = f.size();
    let server = Server::on_port_zero(&f.ledger);
    let admin_key = f.key("admin");
    let (r, _) = bench(
        &[
            "append",
            "--server",
            &server.url,
            "--admin",
            ADMIN,
            "--admin-key",
            admin_key.to_str().expect("utf-8"),
            "--writers",
            "2",
            "--seconds",
            "0.3",
        ],
        f.tmp.path(),
    );
    assert!(server.terminate(), "the server stops cleanly");
    let appended = number(&r, "statements");
    assert!(appended > 0.0, "{r}");
    // Over HTTP to another process the ledger's disk is not this process's to measure.
    assert!(r["disk_bytes_per_entry"].is_null(), "{r}");
    // Two enrollments signed by the administrator, the warm-up and the measured statements.
    let out = custody()
        .args(["verify", "--json", "--ledger", f.ledger_str()])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        number(&report, "size") >= before as f64 + 2.0 + appended,
        "{report}: {appended} measured statements after {before} entries"
    );
    assert_eq!(
        number(&report["statements"], "officer_enrolled"),
        4.0,
        "the fixture's two officers and the benchmark's two: {report}"
    );

    // A key that is not the administrator's is refused, naming the way out, and appends nothing.
    let size = number(&report, "size") as u64;
    let server = Server::on_port_zero(&f.ledger);
    let out = custody()
        .args(["bench", "append", "--server", &server.url, "--admin", ADMIN])
        .arg("--admin-key")
        .arg(f.key("outsider"))
        .args(["--seconds", "0.2"])
        .output()
        .expect("runs");
    assert!(server.terminate(), "the server stops cleanly");
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("--admin-key"),
        "{}",
        stderr_of(&out)
    );
    f.assert_unchanged(size);
}

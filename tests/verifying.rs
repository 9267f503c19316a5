//! docs/VERIFYING.md's steps, run as written: each step's `sh` block, in order, in one fresh
//! directory, with the built `custody` first on PATH and `CUSTODY_SRC` naming this source tree,
//! on a real demo bundle; and the same steps on a bundle with one byte of a leaf changed, which
//! must fail at the step that covers that byte. The doc's commands are never edited here: a test
//! that rewrote them would not show that they work as printed.
//!
//! Needs `go` with golang.org/x/mod in /usr/share/gocode, `openssl`, and Python 3 with
//! `cryptography`: under CI (`.ci/run` installs them) a missing one fails the test; elsewhere the
//! test says it did not run.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::{required_tool, under_ci};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The headings of the doc's steps, in order; each is followed by one `sh` block.
const BUNDLE: &str = "### 1. The bundle and the ledger's key";
const BUILD: &str = "### 2. Build the checkers";
const TLOG: &str = "### 3. The checkpoint and the inclusion of every leaf (Go)";
const DSSE: &str = "### 4. Every statement's signatures over PAE (Python)";
const OPENSSL: &str = "### 5. One statement by hand (OpenSSL)";
const CUSTODY: &str = "### 6. What only custody checks";
const MATCH: &str = "### 7. The printed report and this bundle (coreutils)";
/// Where Debian's golang-golang-x-mod-dev puts x/mod, as the doc's build step assumes.
const GOPATH_XMOD: &str = "/usr/share/gocode/src/golang.org/x/mod/sumdb/note";
/// The seq whose leaf the negative test changes: the note of the demo the doc checks by hand.
const TAMPERED_SEQ: u64 = 14;

/// The first `sh` block after `heading` in docs/VERIFYING.md.
fn step(heading: &str) -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/VERIFYING.md"))
        .expect("docs/VERIFYING.md");
    let start = doc
        .find(heading)
        .unwrap_or_else(|| panic!("no heading {heading:?}"));
    let block = &doc[start..];
    let open = block.find("```sh\n").expect("a sh block") + 6;
    let close = block[open..].find("\n```\n").expect("the block ends") + open;
    block[open..close].to_owned()
}

/// Runs one step's block with bash (-euo pipefail) in `dir`.
fn run_step(dir: &Path, heading: &str) -> Output {
    let bin = assert_cmd::cargo::cargo_bin("custody");
    let path = format!(
        "{}:{}",
        bin.parent().expect("binary dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .args(["-euo", "pipefail", "-c", &step(heading)])
        .current_dir(dir)
        .env("PATH", path)
        .env("CUSTODY_SRC", env!("CARGO_MANIFEST_DIR"))
        .env_remove("CUSTODY_LEDGER")
        .env_remove("CUSTODY_SERVER")
        .stdin(Stdio::null())
        .output()
        .expect("bash runs")
}

/// Runs a step that must succeed and print every one of `expected`.
fn step_passes(dir: &Path, heading: &str, expected: &[&str]) {
    let out = run_step(dir, heading);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "{heading} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for line in expected {
        assert!(
            stdout.contains(line) || stderr.contains(line),
            "{heading}: {line:?} missing from:\n{stdout}\n{stderr}"
        );
    }
}

/// Runs a step that must fail, saying `reason` on standard error.
fn step_fails(dir: &Path, heading: &str, reason: &str) {
    let out = run_step(dir, heading);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{heading} passed on a changed leaf:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.contains(reason),
        "{heading}: {reason:?} missing from:\n{stderr}"
    );
}

/// Whether every tool the doc uses is here; under CI a missing one fails the test.
fn tools_present(test: &str) -> bool {
    for (names, install) in [
        (
            &["go"][..],
            "apt-get install golang-go golang-golang-x-mod-dev",
        ),
        (&["openssl"][..], "apt-get install openssl"),
        (&["python3"][..], "apt-get install python3-cryptography"),
    ] {
        if required_tool(test, names, install).is_none() {
            return false;
        }
    }
    let missing = if !Path::new(GOPATH_XMOD).is_dir() {
        Some("golang.org/x/mod in /usr/share/gocode (apt-get install golang-golang-x-mod-dev)")
    } else if !Command::new("python3")
        .args(["-c", "import cryptography"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        Some("Python's cryptography (apt-get install python3-cryptography)")
    } else {
        None
    };
    let Some(missing) = missing else {
        return true;
    };
    assert!(!under_ci(), "{test}: CI is set but {missing} is missing");
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "NOTE: {test} did NOT run: {missing} is missing; it passes here only because CI is unset"
    );
    false
}

/// Steps 1 and 2: the demo bundle, the verifier key and the checkers, in a fresh directory.
fn prepared() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    step_passes(
        dir.path(),
        BUNDLE,
        &[
            "wrote bundle.json (28 entries",
            "items: BB-LPN-2025-0418, BB-LPN-2025-0418-S1",
        ],
    );
    step_passes(dir.path(), BUILD, &["cryptography "]);
    dir
}

#[test]
fn the_verifying_steps_run_as_written() {
    if !tools_present("the_verifying_steps_run_as_written") {
        return;
    }
    let dir = prepared();
    let dir = dir.path();
    step_passes(
        dir,
        TLOG,
        &[
            "checkpoint: custody.lapas-narkotika-jakarta.demo/ledger, size 29, root ",
            ", signature verified",
            "OK: 28 entries included in the signed tree of size 29",
        ],
    );
    step_passes(
        dir,
        DSSE,
        &[
            "seq 0: ledger_genesis: signature 0 by 197905112005011002",
            "seq 14: note_added: signature 0 by 197512031998031001",
            "OK: 44 signatures over PAE in 28 entries verify",
        ],
    );
    step_passes(
        dir,
        OPENSSL,
        &[
            "DSSEv1 38 application/vnd.custody.statement+json ",
            "Signature Verified Successfully",
            "in tree of size 29",
        ],
    );
    step_passes(
        dir,
        CUSTODY,
        &[
            "Bundle checks passed (pemeriksaan berkas lolos): item BB-LPN-2025-0418 — the signatures of its 28 entries",
        ],
    );
    // The digest a report prints for this bundle is the file's SHA-256, as coreutils computes it.
    let sha = {
        use sha2::Digest as _;
        let bytes = std::fs::read(dir.join("bundle.json")).expect("the bundle");
        sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    step_passes(dir, MATCH, &[&format!("{sha}  bundle.json")]);
}

/// Changes one byte of the leaf at `TAMPERED_SEQ` in `dir/bundle.json`: the first byte after
/// `marker`, to `byte` (or, if it already is `byte`, to `fallback`).
fn change_leaf_byte(dir: &Path, marker: &str, byte: u8, fallback: u8) {
    let path = dir.join("bundle.json");
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("bundle")).expect("JSON");
    let entry = bundle["entries"]
        .as_array_mut()
        .expect("entries")
        .iter_mut()
        .find(|e| e["seq"] == TAMPERED_SEQ)
        .expect("the bundle holds the tampered seq");
    let mut leaf = B64
        .decode(entry["leaf"].as_str().expect("leaf"))
        .expect("base64");
    let at = leaf
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .expect("marker in the leaf")
        + marker.len();
    leaf[at] = if leaf[at] == byte { fallback } else { byte };
    entry["leaf"] = B64.encode(&leaf).into();
    std::fs::write(&path, serde_json::to_vec_pretty(&bundle).expect("JSON")).expect("write");
}

#[test]
fn a_changed_leaf_byte_fails_the_check_that_covers_it() {
    if !tools_present("a_changed_leaf_byte_fails_the_check_that_covers_it") {
        return;
    }
    let dir = prepared();
    let dir = dir.path();
    // A byte the ledger wrote (the year of recorded_at): only the signed tree covers it.
    change_leaf_byte(dir, r#""recorded_at":"202"#, b'4', b'3');
    step_fails(dir, TLOG, "FAIL: entries[13]: seq 14: leaf hash ");
    step_passes(
        dir,
        DSSE,
        &["OK: 44 signatures over PAE in 28 entries verify"],
    );
    step_fails(dir, OPENSSL, "");
    step_fails(dir, CUSTODY, "seq 14");
    // A byte of the statement the officers signed: the signature check covers it as well.
    change_leaf_byte(dir, r#""payload":"eyJhZnRlciI6"#, b'A', b'B');
    step_fails(dir, TLOG, "FAIL: entries[13]: seq 14: leaf hash ");
    step_fails(dir, DSSE, "FAIL: seq 14: signature 0 (");
}

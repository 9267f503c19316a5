//! `custody doctor` through the real binary, one test per problem it knows, each made by hand on
//! a copy of the demo ledger: a healthy ledger, an uncommitted sled snapshot, a torn sled `conf`,
//! a `snap.` name that is not sled's, views that disagree with the log, a missing checkpoint key,
//! a ledger held by a running server, and a log rolled back behind its signed checkpoint. Each
//! asserts the `--json` report (check, file, risk, action, entries, verified) and the exit code
//! (0 healthy, 1 a finding remains), that without `--repair` the folder is left byte for byte as
//! it was, and that what `--repair` claims to have fixed is fixed.

mod common;

use common::{copy_dir, custody, demo_ledger, run_json, stderr_of};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Entries in the demo ledger.
const DEMO_ENTRIES: u64 = 29;

/// What one `custody doctor --json` run printed and how it exited.
struct Doctor {
    code: Option<i32>,
    report: Value,
    stderr: String,
}

fn doctor(ledger: &Path, repair: bool) -> Doctor {
    let mut cmd = custody();
    cmd.args(["doctor", "--json", "--ledger"]).arg(ledger);
    if repair {
        cmd.arg("--repair");
    }
    let out = cmd.output().expect("custody doctor runs");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json printed no JSON ({e}): {}; stderr: {}",
            String::from_utf8_lossy(&out.stdout),
            stderr_of(&out)
        )
    });
    Doctor {
        code: out.status.code(),
        report,
        stderr: stderr_of(&out),
    }
}

impl Doctor {
    /// Asserts the exit code, with the whole report on failure.
    fn exits(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "{:#}\nstderr: {}",
            self.report,
            self.stderr
        );
        self
    }

    /// The one finding of the report, which must be of `check`, about `file`, with `action`.
    fn only_finding(&self, check: &str, file: &Path, action: &str) -> &Value {
        let findings = self.report["findings"].as_array().expect("findings");
        assert_eq!(findings.len(), 1, "{:#}", self.report);
        let f = &findings[0];
        assert_eq!(f["check"], check, "{f:#}");
        assert_eq!(f["file"], file.display().to_string(), "{f:#}");
        assert_eq!(f["action"]["kind"], action, "{f:#}");
        assert!(
            f["action"]["detail"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "every action says what to do: {f:#}"
        );
        f
    }

    /// The log opened, with every demo entry, and verified.
    fn verified_whole(&self) -> &Self {
        assert_eq!(self.report["entries"], DEMO_ENTRIES, "{:#}", self.report);
        assert_eq!(self.report["verified"], true, "{:#}", self.report);
        self
    }
}

/// Every file and folder under `dir`, relative to it, with each file's bytes (`None`: a folder).
fn tree(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            let relative = path.strip_prefix(root).expect("inside").to_path_buf();
            if path.is_dir() {
                out.insert(relative, None);
                walk(&path, root, out);
            } else {
                out.insert(relative, Some(std::fs::read(&path).expect("read")));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Asserts that the folder is exactly as `before` (names and bytes).
fn assert_unchanged(ledger: &Path, before: &BTreeMap<PathBuf, Option<Vec<u8>>>) {
    let after = tree(ledger);
    let names = |t: &BTreeMap<PathBuf, Option<Vec<u8>>>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&after), names(before), "files were added or removed");
    for (path, bytes) in before {
        assert!(after[path] == *bytes, "{} changed", path.display());
    }
}

/// Everything under `quarantine/`, as paths relative to it, with each file's bytes.
fn quarantined(ledger: &Path) -> Vec<(String, Vec<u8>)> {
    let root = ledger.join("private/quarantine");
    if !root.exists() {
        return Vec::new();
    }
    tree(&root)
        .into_iter()
        .filter_map(|(p, bytes)| Some((p.display().to_string(), bytes?)))
        .collect()
}

/// A copy of the demo ledger in its own folder (`name` beside the demo).
fn copy_of(demo: &Path, name: &str) -> PathBuf {
    let dir = demo.with_file_name(name);
    copy_dir(demo, &dir);
    dir
}

/// `custody verify --json` passes with every demo entry.
fn assert_verifies(ledger: &Path) {
    let out = custody()
        .args(["verify", "--json", "--ledger"])
        .arg(ledger)
        .output()
        .expect("runs");
    assert!(out.status.success(), "verify failed: {}", stderr_of(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["size"], DEMO_ENTRIES, "{report}");
}

/// The path of an empty `snap.<LSN+1>.generating`, LSN being the newest committed snapshot's.
fn uncommitted_snapshot_path(ledger: &Path) -> PathBuf {
    let (_, newest) = common::newest_snapshot(ledger);
    ledger.join(format!(
        "private/log.sled/snap.{:016X}.generating",
        newest + 1
    ))
}

#[test]
fn a_healthy_ledger_has_no_findings_and_exits_0() {
    let (_tmp, demo) = demo_ledger();
    let before = tree(&demo);
    let d = doctor(&demo, false);
    d.exits(0).verified_whole();
    assert_eq!(
        d.report["findings"],
        serde_json::json!([]),
        "{:#}",
        d.report
    );
    assert_eq!(d.report["repair"], false);
    assert_unchanged(&demo, &before);
}

#[test]
fn an_uncommitted_snapshot_is_reported_then_quarantined_by_repair() {
    let (_tmp, demo) = demo_ledger();
    let dir = copy_of(&demo, "stray");
    let stray = uncommitted_snapshot_path(&dir);
    std::fs::write(&stray, b"").expect("write the stray snapshot");
    let name = stray
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let before = tree(&dir);

    let d = doctor(&dir, false);
    d.exits(1).verified_whole();
    let f = d.only_finding("snapshot-uncommitted", &stray, "repairable");
    assert_eq!(f["acknowledged_data"], "none", "{f:#}");
    assert!(d.stderr.contains("--repair"), "{}", d.stderr);
    assert_unchanged(&dir, &before);

    let d = doctor(&dir, true);
    d.exits(0).verified_whole();
    d.only_finding("snapshot-uncommitted", &stray, "repaired");
    assert!(!stray.exists(), "the stray snapshot is still in log.sled");
    let moved = quarantined(&dir);
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(
        moved[0].0.ends_with(&format!("/log.sled/{name}")),
        "{moved:?}"
    );
    assert!(
        moved[0].1.is_empty(),
        "the quarantined file keeps its bytes"
    );
    assert_verifies(&dir);
    doctor(&dir, false).exits(0);
}

#[test]
fn a_torn_sled_conf_is_reported_then_rewritten_as_it_was() {
    let (_tmp, demo) = demo_ledger();
    let dir = copy_of(&demo, "torn-conf");
    let conf = dir.join("private/log.sled/conf");
    let original = std::fs::read(&conf).expect("conf");
    assert!(
        original.len() > 40,
        "the demo's conf is longer than the tear"
    );
    std::fs::write(&conf, &original[..40]).expect("tear conf");

    let out = custody()
        .args(["verify", "--ledger"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("custody doctor"),
        "{}",
        stderr_of(&out)
    );

    let before = tree(&dir);
    let d = doctor(&dir, false);
    d.exits(1).verified_whole();
    let f = d.only_finding("sled-conf-torn", &conf, "repairable");
    assert_eq!(f["acknowledged_data"], "none", "{f:#}");
    assert_unchanged(&dir, &before);

    let d = doctor(&dir, true);
    d.exits(0).verified_whole();
    d.only_finding("sled-conf-torn", &conf, "repaired");
    assert!(
        std::fs::read(&conf).expect("conf") == original,
        "the rewritten conf is not the one sled wrote"
    );
    let moved = quarantined(&dir);
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(moved[0].0.ends_with("/log.sled/conf"), "{moved:?}");
    assert_eq!(
        moved[0].1,
        original[..40],
        "the torn conf is kept as it was"
    );
    assert!(
        !dir.join(".doctor-conf").exists(),
        "the scratch store is removed"
    );
    assert_verifies(&dir);
}

/// `snap.0000000000000001.old`: starts with `snap.` but is no name sled writes.
fn unknown_snapshot(dir: &Path) -> PathBuf {
    let odd = dir.join("private/log.sled/snap.0000000000000001.old");
    std::fs::write(&odd, b"not sled's").expect("write");
    odd
}

/// sled reads the last `snap.` name as its newest snapshot and deletes the others once it writes
/// a new one (0.34.7 `write_snapshot`, "clean up any old snapshots"): a name that is not sled's
/// is moved aside with its bytes rather than left for sled to delete.
#[test]
fn a_snap_name_that_is_not_sleds_is_moved_aside_with_its_bytes_not_deleted() {
    let (_tmp, demo) = demo_ledger();
    let dir = copy_of(&demo, "odd-name");
    let odd = unknown_snapshot(&dir);
    let before = tree(&dir);
    let d = doctor(&dir, false);
    d.exits(1).verified_whole();
    let f = d.only_finding("snapshot-unknown-name", &odd, "repairable");
    assert_eq!(f["acknowledged_data"], "none", "{f:#}");
    assert_unchanged(&dir, &before);

    let d = doctor(&dir, true);
    d.exits(0)
        .verified_whole()
        .only_finding("snapshot-unknown-name", &odd, "repaired");
    assert!(!odd.exists());
    let moved = quarantined(&dir);
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(
        moved[0].0.ends_with("/log.sled/snap.0000000000000001.old"),
        "{moved:?}"
    );
    assert_eq!(moved[0].1, b"not sled's", "the bytes are kept");
}

#[test]
fn views_that_disagree_with_the_log_are_reported_then_rebuilt() {
    let (_tmp, demo) = demo_ledger();
    let dir = copy_of(&demo, "views");
    common::lower_views_watermark(&dir, DEMO_ENTRIES - 5);
    let sled = dir.join("private/log.sled");
    let before = tree(&dir);
    let d = doctor(&dir, false);
    d.exits(1).verified_whole();
    let f = d.only_finding("views-disagree", &sled, "repairable");
    assert_eq!(f["acknowledged_data"], "none", "{f:#}");
    assert_unchanged(&dir, &before);

    let d = doctor(&dir, true);
    d.exits(0).verified_whole();
    d.only_finding("views-disagree", &sled, "repaired");
    // Repaired for good: the next run finds nothing, and the views answer.
    let d = doctor(&dir, false);
    d.exits(0);
    assert_eq!(
        d.report["findings"],
        serde_json::json!([]),
        "{:#}",
        d.report
    );
    let item = run_json(&[
        "item",
        "BB-LPN-2025-0418-S1",
        "--ledger",
        dir.to_str().expect("utf-8"),
    ]);
    assert!(item.to_string().contains("BB-LPN-2025-0418-S1"), "{item}");
}

#[test]
fn a_missing_checkpoint_key_is_a_layout_finding_for_the_operator() {
    let (_tmp, demo) = demo_ledger();
    let dir = copy_of(&demo, "no-key");
    let key = dir.join("private/ledger-key.pem");
    std::fs::remove_file(&key).expect("remove the key");
    let before = tree(&dir);
    for repair in [false, true] {
        let d = doctor(&dir, repair);
        let f = d.exits(1).only_finding("layout", &key, "manual");
        assert_eq!(f["acknowledged_data"], "unknown", "{f:#}");
        assert_eq!(d.report["verified"], false, "{:#}", d.report);
        assert_eq!(d.report["entries"], Value::Null, "{:#}", d.report);
        assert_unchanged(&dir, &before);
    }
}

#[test]
fn a_ledger_held_by_a_running_server_is_in_use_and_left_alone() {
    let (_tmp, demo) = demo_ledger();
    let server = common::Server::on_port_zero(&demo);
    // A stray snapshot the doctor would move if it did not respect the server's lock.
    let stray = uncommitted_snapshot_path(&demo);
    std::fs::write(&stray, b"").expect("write the stray snapshot");
    for repair in [false, true] {
        let d = doctor(&demo, repair);
        let f = d
            .exits(1)
            .only_finding("in-use", &demo.join("lock"), "manual");
        assert_eq!(f["acknowledged_data"], "none", "{f:#}");
        assert_eq!(d.report["verified"], false, "{:#}", d.report);
        assert!(stray.exists(), "a file was moved under a live server");
        assert!(quarantined(&demo).is_empty(), "{:?}", quarantined(&demo));
    }
    assert!(server.terminate(), "the server stops cleanly");
    doctor(&demo, true).exits(0).verified_whole();
    assert!(
        !stray.exists(),
        "once the server stopped, repair moves the stray"
    );
}

/// Rolls the ledger's log back by one entry behind its signed checkpoint: one more officer is
/// enrolled, then the store from before the enrollment is put back.
fn roll_back_one_entry(dir: &Path) {
    let before = dir.with_extension("before");
    copy_dir(dir, &before);
    let key = dir.with_extension("officer.pem");
    custody()
        .args(["key", "new", "--out"])
        .arg(&key)
        .assert()
        .success();
    let public = run_json(&["key", "show", key.to_str().expect("utf-8")])["public_key"]
        .as_str()
        .expect("public_key")
        .to_owned();
    custody()
        .args(["enroll", "--ledger"])
        .arg(dir)
        .arg("--key")
        .arg(dir.join("demo-keys/admin.pem"))
        .args(["--officer", "198001012005011001", "--name", "Petugas Uji"])
        .args([
            "--agency",
            "imipas",
            "--unit",
            "P2U",
            "--roles",
            "gate_officer",
        ])
        .args(["--public-key", &public])
        .assert()
        .success();
    let checkpoint = run_json(&["checkpoint", "--ledger", dir.to_str().expect("utf-8")]);
    assert_eq!(checkpoint["size"], DEMO_ENTRIES + 1, "{checkpoint}");
    // The whole store: the journal (the log's entries) and sled (what is derived from them).
    for part in ["private/log.sled", "private/journal"] {
        std::fs::remove_dir_all(dir.join(part)).expect("remove the store");
        copy_dir(&before.join(part), &dir.join(part));
    }
}

#[test]
fn a_log_rolled_back_behind_its_checkpoint_puts_acknowledged_entries_at_risk() {
    let (_tmp, demo) = demo_ledger();
    let dir = copy_of(&demo, "rolled-back");
    roll_back_one_entry(&dir);
    let checkpoint_file =
        std::fs::read(dir.join("private/checkpoint.slots")).expect("checkpoint file");
    let before = tree(&dir);
    let d = doctor(&dir, false);
    let f = d
        .exits(1)
        .only_finding("log-consistency", &dir.join("private/journal"), "manual");
    assert_eq!(f["acknowledged_data"], "at_risk", "{f:#}");
    assert!(
        f["problem"].as_str().is_some_and(|p| p.contains("missing")),
        "{f:#}"
    );
    assert_eq!(d.report["verified"], false, "{:#}", d.report);
    assert_unchanged(&dir, &before);
    // Nothing `--repair` may do brings the entry back: it stays a finding, and the signed
    // checkpoint (the proof of what was acknowledged) is kept.
    let d = doctor(&dir, true);
    d.exits(1)
        .only_finding("log-consistency", &dir.join("private/journal"), "manual");
    assert!(
        std::fs::read(dir.join("private/checkpoint.slots")).expect("checkpoint file")
            == checkpoint_file,
        "the checkpoint file changed"
    );
    assert!(quarantined(&dir).is_empty(), "{:?}", quarantined(&dir));
}

/// The journal's only segment in a ledger of the demo's size.
const SEGMENT: &str = "private/journal/00000000000000000000.journal";

#[test]
fn a_torn_journal_tail_is_reported_then_cut_by_repair() {
    let (_tmp, demo) = demo_ledger();
    let dir = copy_of(&demo, "torn");
    // What a crash during a batch's write can leave: part of a batch never acknowledged.
    let segment = dir.join(SEGMENT);
    let mut bytes = std::fs::read(&segment).expect("segment");
    bytes.extend_from_slice(&[0u8; 50]);
    std::fs::write(&segment, bytes).expect("write");
    let before = tree(&dir);
    let d = doctor(&dir, false);
    let f = d
        .exits(1)
        .verified_whole()
        .only_finding("journal-torn-tail", &segment, "repairable");
    assert_eq!(f["acknowledged_data"], "none", "{f:#}");
    assert!(
        f["problem"]
            .as_str()
            .is_some_and(|p| p.contains("50 bytes")),
        "{f:#}"
    );
    assert_unchanged(&dir, &before);
    doctor(&dir, true).exits(0).verified_whole().only_finding(
        "journal-torn-tail",
        &segment,
        "repaired",
    );
    let d = doctor(&dir, false);
    d.exits(0);
    assert_eq!(
        d.report["findings"],
        serde_json::json!([]),
        "{:#}",
        d.report
    );
}

/// The terminal's report says each finding in the terminal's language, from the catalogue:
/// Indonesian with `--lang id`, English by default; the check name and the file stay as they are.
#[test]
fn the_doctor_tells_its_findings_in_the_terminals_language() {
    use custody::words::{Lang, says};
    let (_tmp, demo) = demo_ledger();
    let dir = copy_of(&demo, "torn-words");
    let segment = dir.join(SEGMENT);
    let mut bytes = std::fs::read(&segment).expect("segment");
    bytes.extend_from_slice(&[0u8; 50]);
    std::fs::write(&segment, bytes).expect("write");
    let text = |lang: Option<&str>| {
        let mut cmd = custody();
        cmd.env_remove("CUSTODY_LANG");
        if let Some(lang) = lang {
            cmd.args(["--lang", lang]);
        }
        let out = cmd
            .args(["doctor", "--ledger"])
            .arg(&dir)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let said = |lang, key| says(lang, key, &[("bytes", "50")]);
    let indonesian = text(Some("id"));
    let english = text(None);
    for (out, lang, other) in [
        (&indonesian, Lang::Indonesian, Lang::English),
        (&english, Lang::English, Lang::Indonesian),
    ] {
        assert!(
            out.contains(&format!("[journal-torn-tail] {}", segment.display())),
            "{out}"
        );
        for key in ["doctor.torn_tail", "doctor.torn_tail.action"] {
            assert!(out.contains(&said(lang, key)), "{key} in {lang:?}: {out}");
            assert!(
                !out.contains(&said(other, key)),
                "{key} in {other:?}: {out}"
            );
        }
    }
}

#[test]
fn sled_behind_the_journal_is_reported_then_caught_up_by_repair() {
    let (_tmp, demo) = demo_ledger();
    let ahead = copy_of(&demo, "ahead");
    let note = ahead.with_extension("note.json");
    std::fs::write(&note, common::note_by(common::GATE_A, "")).expect("note");
    custody()
        .args(["record", "--ledger"])
        .arg(&ahead)
        .arg("--key")
        .arg(ahead.join("demo-keys/gate-officer-a.pem"))
        .arg(&note)
        .assert()
        .success();
    // What a crash after the journal's fdatasync and before sled's flush leaves: the journal one
    // batch ahead of sled and of the checkpoint file.
    let dir = copy_of(&demo, "behind");
    std::fs::copy(ahead.join(SEGMENT), dir.join(SEGMENT)).expect("copy the journal");
    let before = tree(&dir);
    let d = doctor(&dir, false);
    let f = d
        .exits(1)
        .only_finding("sled-behind", &dir.join("private/log.sled"), "repairable");
    assert_eq!(f["acknowledged_data"], "none", "{f:#}");
    assert_eq!(d.report["entries"], DEMO_ENTRIES + 1, "{:#}", d.report);
    assert_eq!(d.report["verified"], true, "{:#}", d.report);
    assert_unchanged(&dir, &before);
    doctor(&dir, true).exits(0).only_finding(
        "sled-behind",
        &dir.join("private/log.sled"),
        "repaired",
    );
    let d = doctor(&dir, false);
    d.exits(0);
    assert_eq!(
        d.report["findings"],
        serde_json::json!([]),
        "{:#}",
        d.report
    );
    assert_eq!(
        run_json(&["checkpoint", "--ledger", dir.to_str().expect("utf-8")]),
        run_json(&["checkpoint", "--ledger", ahead.to_str().expect("utf-8")]),
        "the checkpoint signed again is the one the writer received"
    );
}

/// sled's own files overwritten with junk: the store refuses to open, and the doctor's advice
/// names the ledger folder the operator gave — not the scratch copy it opened, and not
/// `private/` — so the command it suggests is one that can be run as written.
#[test]
fn a_damaged_store_is_reported_with_advice_naming_the_real_ledger() {
    let (_tmp, demo) = demo_ledger();
    let db = demo.join("private/log.sled/db");
    let len = std::fs::metadata(&db).expect("sled's db").len();
    let junk: Vec<u8> = (0..len).map(|i| (i * 131 % 251) as u8).collect();
    std::fs::write(&db, junk).expect("overwrite sled's db");
    let before = tree(&demo);
    let d = doctor(&demo, false);
    d.exits(1);
    let text = d.report["findings"].to_string();
    assert!(
        text.contains(&format!("custody doctor --ledger {}`", demo.display())),
        "{text}"
    );
    assert!(
        !text.contains("custody-doctor-") && !text.contains("/private`"),
        "{text}"
    );
    assert_unchanged(&demo, &before);
}

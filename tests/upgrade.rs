//! `custody upgrade`: a ledger written by an older version (tests/fixtures/v1-ledger, storage
//! layout 1, leaves in sled) is refused by `open` with the command to run; the upgrade moves its
//! leaves into the journal, verified, so that the upgraded ledger verifies and exports the very
//! tiles the old version exported (an oracle this version did not write); a second run has
//! nothing to do; what a killed upgrade leaves behind is built again.

mod common;

use common::{copy_dir, custody, run_json};
use sha2::{Digest as _, Sha256};
use std::path::{Path, PathBuf};

const V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1-ledger");
/// Entries in the fixture (its README).
const V1_ENTRIES: u64 = 31;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn v1_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("ledger");
    copy_dir(&Path::new(V1).join("ledger"), &dir);
    (tmp, dir)
}

/// Every file under `dir`, as (path relative to `dir`, SHA-256 of its bytes in hex), sorted.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir");
                let bytes = std::fs::read(&path).expect("read");
                let digest: String = Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                out.push((rel.display().to_string(), digest));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn an_old_ledger_is_refused_until_upgraded_then_verifies_and_exports_the_old_tiles() {
    let (tmp, dir) = v1_copy();
    let before = files(&dir);
    let refused = custody()
        .args(["verify", "--ledger", s(&dir)])
        .output()
        .expect("runs");
    assert_eq!(
        refused.status.code(),
        Some(2),
        "an old layout is a usage error"
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(&format!("custody upgrade --ledger {}", dir.display())),
        "{stderr}"
    );
    assert_eq!(files(&dir), before, "a refused open changes nothing");

    let report = run_json(&["upgrade", "--ledger", s(&dir)]);
    assert_eq!(report["from_layout"], 1);
    assert_eq!(report["to_layout"], 4);
    assert_eq!(report["entries"], V1_ENTRIES);
    assert_eq!(report["old_leaves_removed"], V1_ENTRIES);
    assert_eq!(
        std::fs::read_to_string(dir.join("layout")).expect("layout file"),
        "custody-ledger-layout 4\n"
    );
    for (old, new) in [
        ("log.sled", "private/log.sled"),
        ("ledger-key.pem", "private/ledger-key.pem"),
        ("checkpoint.slots", "private/checkpoint.slots"),
    ] {
        assert!(
            !dir.join(old).exists() && dir.join(new).exists(),
            "{old} → {new}"
        );
    }

    let verified = run_json(&["verify", "--ledger", s(&dir)]);
    assert_eq!(verified["size"], V1_ENTRIES, "{verified}");
    // Opening published the upgraded log for mirrors: the old version's tiles, and a checkpoint.
    assert!(dir.join("public/checkpoint").exists());
    assert_eq!(
        files(&dir.join("public/tile")),
        files(&Path::new(V1).join("tiles/tile")),
        "public/ holds exactly the tiles the old version exported"
    );
    // The tiles the old version exported, byte for byte, from the leaves now in the journal.
    let out = tmp.path().join("tiles");
    run_json(&["export", "--ledger", s(&dir), "--out", s(&out)]);
    let old_tiles = files(&Path::new(V1).join("tiles"));
    let new_tiles: Vec<_> = files(&out)
        .into_iter()
        .filter(|(name, _)| name != "checkpoint")
        .collect();
    let old_without_checkpoint: Vec<_> = old_tiles
        .into_iter()
        .filter(|(name, _)| name != "checkpoint")
        .collect();
    assert_eq!(new_tiles, old_without_checkpoint);

    let again = run_json(&["upgrade", "--ledger", s(&dir)]);
    assert_eq!(
        (
            &again["from_layout"],
            &again["entries"],
            &again["old_leaves_removed"]
        ),
        (&4.into(), &0.into(), &0.into()),
        "a second upgrade has nothing to do"
    );
}

#[test]
fn what_a_killed_upgrade_leaves_is_built_again() {
    let (_tmp, dir) = v1_copy();
    // The key already moved into private/, a half-built journal, and a renamed one whose layout
    // file was never written: none is the ledger's until the layout file names it.
    std::fs::create_dir_all(dir.join("private")).expect("mkdir");
    std::fs::rename(
        dir.join("ledger-key.pem"),
        dir.join("private/ledger-key.pem"),
    )
    .expect("mv");
    let refused = custody()
        .args(["verify", "--ledger", s(&dir)])
        .output()
        .expect("runs");
    assert_eq!(
        refused.status.code(),
        Some(2),
        "still layout 1: upgrade named"
    );
    std::fs::create_dir_all(dir.join("private/journal.upgrade")).expect("mkdir");
    std::fs::write(
        dir.join("private/journal.upgrade/00000000000000000000.journal"),
        b"CJR1 torn",
    )
    .expect("write");
    std::fs::create_dir_all(dir.join("private/journal")).expect("mkdir");
    std::fs::write(
        dir.join("private/journal/00000000000000000000.journal"),
        b"garbage",
    )
    .expect("write");
    let report = run_json(&["upgrade", "--ledger", s(&dir)]);
    assert_eq!(report["entries"], V1_ENTRIES);
    assert!(!dir.join("private/journal.upgrade").exists());
    let verified = run_json(&["verify", "--ledger", s(&dir)]);
    assert_eq!(verified["size"], V1_ENTRIES);
}

#[test]
fn a_layout_file_custody_did_not_write_is_refused_as_corrupt() {
    let (_tmp, dir) = v1_copy();
    run_json(&["upgrade", "--ledger", s(&dir)]);
    std::fs::write(dir.join("layout"), "custody-ledger-layout 9\n").expect("write");
    let newer = custody()
        .args(["verify", "--ledger", s(&dir)])
        .output()
        .expect("runs");
    assert_eq!(newer.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&newer.stderr).contains("newer"));
    std::fs::write(dir.join("layout"), "two\n").expect("write");
    let damaged = custody()
        .args(["verify", "--ledger", s(&dir)])
        .output()
        .expect("runs");
    assert_eq!(damaged.status.code(), Some(3));
}

/// A ledger recorded with persons in the clear: after the layout upgrade, `custody subject
/// migrate` moves their data into the register (the admin acting), where the NIK finds the
/// person and a reader with scope sees their name; the log is unchanged and still verifies.
#[test]
fn persons_recorded_in_the_clear_move_into_the_register_and_the_log_stays() {
    let (_tmp, dir) = v1_copy();
    let l = s(&dir);
    run_json(&["upgrade", "--ledger", l]);
    let before = run_json(&["checkpoint", "--ledger", l]);
    let admin = format!("{V1}/keys/admin.pem");
    let asker = [
        "--officer",
        "197905112005011002",
        "--key",
        admin.as_str(),
        "--ledger",
        l,
    ];
    let report = run_json(&[&["subject", "migrate"][..], &asker].concat());
    assert_eq!(report["entries"], V1_ENTRIES);
    assert_eq!(
        (report["persons"].as_u64(), report["new_subjects"].as_u64()),
        (Some(3), Some(1)),
        "{report}"
    );
    let found = run_json(
        &[
            &["subject", "lookup", "--nik", "3174055708900003"][..],
            &asker,
        ]
        .concat(),
    );
    let subject = found["subject"].as_str().expect("a subject");
    assert!(subject.starts_with("subj-"));
    let again = run_json(&[&["subject", "migrate"][..], &asker].concat());
    assert_eq!(
        again["new_subjects"], 0,
        "a second run finds everyone already there"
    );
    assert_eq!(
        run_json(&["checkpoint", "--ledger", l]),
        before,
        "the log is unchanged"
    );
    assert_eq!(run_json(&["verify", "--ledger", l])["ok"], true);
}

/// A ledger of layout 2 (its journal always starts at entry 0) or 3 (sled keeps every Merkle
/// node) opens, and its layout file then says 4: from then on a version that knows only an
/// older layout refuses it as newer, rather than taking a dropped journal segment for a lost one
/// or a Merkle node sled no longer keeps for a missing one.
#[test]
fn layout_2_and_3_ledgers_open_and_become_layout_4() {
    let (_dir, ledger) = common::demo_ledger();
    for old in [2, 3] {
        std::fs::write(
            ledger.join("layout"),
            format!("custody-ledger-layout {old}\n"),
        )
        .expect("writes");
        assert_eq!(run_json(&["verify", "--ledger", s(&ledger)])["ok"], true);
        assert_eq!(
            std::fs::read_to_string(ledger.join("layout")).expect("layout"),
            "custody-ledger-layout 4\n"
        );
        std::fs::write(
            ledger.join("layout"),
            format!("custody-ledger-layout {old}\n"),
        )
        .expect("writes");
        let report = run_json(&["upgrade", "--ledger", s(&ledger)]);
        assert_eq!(
            (report["from_layout"].as_u64(), report["to_layout"].as_u64()),
            (Some(old), Some(4)),
            "{report}"
        );
    }
}

//! The ledger folder's `public/` tree is what a mirror copies: the C2SP tlog-tiles of the latest
//! checkpoint and the checkpoint, kept current by the ledger itself. These tests check it with the
//! independent tiles verifier (`custody verify --tiles`, which reads nothing but the files and the
//! verifier key), that it holds nothing else, that `private/` is the owner's alone, and that a
//! log growing past a tile boundary replaces partial tiles by full ones.

mod common;
mod support;

use common::{custody, run_json};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use support::*;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every file under `dir`, relative to it, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(dir)
                        .expect("inside")
                        .display()
                        .to_string(),
                );
            }
        }
    }
    out.sort();
    out
}

/// `custody verify --tiles public/` with the ledger's verifier key: the entries it verified.
fn verify_public(ledger: &Path, scratch: &Path) -> u64 {
    let vkey = scratch.join("vkey");
    let out = custody()
        .args(["vkey", "--ledger", s(ledger)])
        .output()
        .expect("runs");
    assert!(out.status.success());
    std::fs::write(&vkey, &out.stdout).expect("write vkey");
    let report = run_json(&[
        "verify",
        "--tiles",
        s(&ledger.join("public")),
        "--vkey",
        s(&vkey),
    ]);
    assert_eq!(report["ok"], true, "{report}");
    report["size"].as_u64().expect("size")
}

#[test]
fn the_demo_publishes_tiles_and_a_checkpoint_that_verify_and_nothing_else() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let ledger = tmp.path().join("demo");
    custody()
        .args(["demo", "--ledger", s(&ledger)])
        .assert()
        .success();
    let size = run_json(&["checkpoint", "--ledger", s(&ledger)])["size"]
        .as_u64()
        .expect("size");
    assert_eq!(verify_public(&ledger, tmp.path()), size);
    let public = files(&ledger.join("public"));
    assert!(public.contains(&"checkpoint".to_owned()), "{public:?}");
    for name in &public {
        assert!(
            name == "checkpoint"
                || name.starts_with("tile/0/")
                || name.starts_with("tile/entries/"),
            "public/ holds {name}, which is not a tile or the checkpoint"
        );
    }
    let mode = std::fs::metadata(ledger.join("private"))
        .expect("private/")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "private/ is open to others: {mode:o}");
}

#[test]
fn a_log_that_grows_past_a_tile_replaces_its_partial_tiles_by_full_ones() {
    let w = World::new();
    let ledger: PathBuf = w.dir.path().join("l");
    w.find("BB-PUB-1", GATE_A, GATE_B).expect("found");
    for _ in 0..100 {
        w.note("BB-PUB-1", GATE_A).expect("noted");
    }
    // Closing publishes the partial tiles of this size; the reopened ledger goes on from them.
    let partial = format!("tile/entries/000.p/{}", w.size());
    let World {
        dir,
        ledger: closing,
        clock,
        admin,
        officers,
    } = w;
    drop(closing);
    assert!(
        files(&ledger.join("public")).contains(&partial),
        "{partial}"
    );
    let reopened = custody::Ledger::open_with_clock(&ledger, clock.clone()).expect("reopens");
    let w = World {
        dir,
        ledger: reopened,
        clock,
        admin,
        officers,
    };
    for _ in 0..200 {
        w.note("BB-PUB-1", GATE_A).expect("noted");
    }
    let size = w.size();
    assert!(size > 256, "{size}");
    let World { dir, ledger: l, .. } = w;
    l.close();
    drop(l);
    assert_eq!(verify_public(&ledger, dir.path()), size);
    let public = files(&ledger.join("public"));
    assert!(
        public.contains(&"tile/entries/000".to_owned()),
        "{public:?}"
    );
    assert!(public.contains(&"tile/0/000".to_owned()), "{public:?}");
    assert!(
        !public.iter().any(|n| n.starts_with("tile/entries/000.p/")),
        "a partial bundle outlived its full tile: {public:?}"
    );
    assert!(
        public.contains(&format!("tile/entries/001.p/{}", size - 256)),
        "{public:?}"
    );
}

#[test]
fn failed_publications_never_stop_the_ledger_and_the_next_one_catches_up() {
    use custody::{FaultRates, Faults, Ledger};
    use std::sync::Arc;
    let w = World::new();
    let ledger: PathBuf = w.dir.path().join("l");
    w.find("BB-PUB-2", GATE_A, GATE_B).expect("found");
    let World {
        dir,
        ledger: closing,
        clock,
        admin,
        officers,
    } = w;
    drop(closing);
    let published_before = std::fs::read(ledger.join("public/checkpoint")).expect("published");
    // Every rename into public/ fails: no tile and no checkpoint can be published.
    let faults = Arc::new(Faults::new(
        7,
        FaultRates {
            rename_fail_ppm: 1_000_000,
            ..FaultRates::default()
        },
    ));
    let opened =
        Ledger::open_with_faults(&ledger, clock.clone(), Some(Arc::clone(&faults))).expect("opens");
    let w = World {
        dir,
        ledger: opened,
        clock,
        admin,
        officers,
    };
    for _ in 0..20 {
        w.note("BB-PUB-2", GATE_A)
            .expect("acknowledged while publications fail");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while w.ledger.stats().publish_failures.get() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no publication was tried"
        );
        std::thread::yield_now();
    }
    assert_eq!(
        std::fs::read(ledger.join("public/checkpoint")).expect("published"),
        published_before,
        "a failed publication leaves the last one in place"
    );
    let size = w.size();
    faults.clear();
    let World {
        dir: scratch,
        ledger: l,
        ..
    } = w;
    drop(l);
    assert_eq!(verify_public(&ledger, scratch.path()), size);
    let stray: Vec<String> = files(&ledger.join("public"))
        .into_iter()
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(
        stray.is_empty(),
        "temporary files left for mirrors: {stray:?}"
    );
}

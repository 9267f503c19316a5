//! The log is stored once: journal segments whose leaves full entry bundles in `public/` hold
//! durably are dropped, and those leaves are read back from the bundles, each checked against its
//! Merkle node. These tests make a ledger with small journal segments
//! (`CUSTODY_JOURNAL_SEGMENT_BYTES`), then check through the real binary that the journal starts
//! after 0, that verify, rebuild, export, import and doctor read every leaf, and that a bundle of
//! the dropped range that is changed or deleted is found, never served.

mod common;

use common::custody;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Small enough that a ledger of a few thousand ~1.7 KB leaves has many segments.
const SEGMENT_BYTES: &str = "16384";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `custody` with small journal segments.
fn small_segments() -> assert_cmd::Command {
    let mut cmd = custody();
    cmd.env("CUSTODY_JOURNAL_SEGMENT_BYTES", SEGMENT_BYTES);
    cmd
}

/// Runs `args` (plus `--json`) with small segments: its status and its JSON (or `Null`).
fn run(args: &[&str]) -> (bool, Value, String) {
    let out = small_segments()
        .args(args)
        .arg("--json")
        .output()
        .expect("runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), json, stderr)
}

/// A benchmark ledger in `dir/ledger` with small segments: its path.
fn ledger_with_dropped_segments(dir: &Path) -> PathBuf {
    let ledger = dir.join("ledger");
    let out = small_segments()
        .args(["bench", "append", "--seconds", "0.3", "--writers", "4"])
        .args(["--ledger", s(&ledger)])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ledger
}

/// The journal's first index (its first segment's name) and its drop mark.
fn journal_start_and_mark(ledger: &Path) -> (u64, u64) {
    let journal = ledger.join("private/journal");
    let first = std::fs::read_dir(&journal)
        .expect("journal")
        .filter_map(|e| {
            let name = e.expect("entry").file_name().into_string().ok()?;
            name.strip_suffix(".journal")?.parse::<u64>().ok()
        })
        .min()
        .expect("a segment");
    let mark = std::fs::read_to_string(journal.join("dropped")).expect("a drop mark");
    let mark = mark
        .strip_prefix("custody-journal-dropped 1\n")
        .and_then(|m| m.trim_end().parse().ok())
        .expect("a mark this journal writes");
    (first, mark)
}

fn verify(ledger: &Path) -> (bool, Value, String) {
    run(&["verify", "--ledger", s(ledger)])
}

#[test]
fn dropped_leaves_are_read_from_the_bundles_by_every_reader() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ledger = ledger_with_dropped_segments(dir.path());
    let (start, mark) = journal_start_and_mark(&ledger);
    assert!(start > 0, "segments were dropped");
    assert_eq!(start, mark, "a clean close finished the drop");
    let (ok, report, err) = verify(&ledger);
    assert!(ok, "{err}");
    let size = report["size"].as_u64().expect("size");
    assert!(size > start, "{report}");
    assert!(
        ledger
            .join(format!("public/tile/entries/{:03}", (start - 1) / 256))
            .is_file(),
        "the last dropped leaf's full bundle is in public/"
    );

    let (ok, rebuilt, err) = run(&["rebuild", "--ledger", s(&ledger)]);
    assert!(ok, "{err}");
    assert_eq!(rebuilt["identical"], true, "{rebuilt}");

    let export = dir.path().join("export");
    let (ok, _, err) = run(&["export", "--ledger", s(&ledger), "--out", s(&export)]);
    assert!(ok, "{err}");
    assert_eq!(
        std::fs::read(export.join("tile/entries/000")).expect("exported bundle"),
        std::fs::read(ledger.join("public/tile/entries/000")).expect("published bundle"),
        "the export's first bundle holds the dropped leaves as published"
    );

    let vkey = common::vkey_of(&ledger);
    let replica = dir.path().join("replica");
    let (ok, _, err) = run(&[
        "import",
        "--tiles",
        s(&export),
        "--ledger",
        s(&replica),
        "--vkey",
        vkey.trim(),
    ]);
    assert!(ok, "{err}");
    let (ok, again, err) = verify(&replica);
    assert!(ok, "{err}");
    assert_eq!(again["root"], report["root"]);

    let (ok, doctor, err) = run(&["doctor", "--ledger", s(&ledger)]);
    assert!(ok, "{err} {doctor}");
}

#[test]
fn a_changed_or_deleted_bundle_of_a_dropped_range_is_found_never_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ledger = ledger_with_dropped_segments(dir.path());
    let (start, _) = journal_start_and_mark(&ledger);
    assert!(start >= 256, "bundle 000 is wholly dropped (start {start})");
    let bundle = ledger.join("public/tile/entries/000");
    let original = std::fs::read(&bundle).expect("bundle");

    // A byte flipped inside a leaf (past the first entry's length prefix).
    let mut flipped = original.clone();
    flipped[40] ^= 0x20;
    std::fs::write(&bundle, &flipped).expect("tampers");
    let (ok, _, err) = verify(&ledger);
    assert!(!ok, "a changed dropped leaf must not verify");
    assert!(
        err.contains("does not match its hash") && err.contains("tile/entries/000"),
        "the error names the bundle and the rule: {err}"
    );

    // The bundle deleted: the ledger refuses to open, naming what is missing.
    std::fs::remove_file(&bundle).expect("deletes");
    let (ok, _, err) = verify(&ledger);
    assert!(
        !ok,
        "a ledger missing a dropped leaf's bundle must not open"
    );
    assert!(
        err.contains("tile/entries/000") && err.contains("missing"),
        "{err}"
    );

    std::fs::write(&bundle, &original).expect("restores");
    let (ok, _, err) = verify(&ledger);
    assert!(ok, "restored, it verifies again: {err}");
}

/// A hash the CLI prints (base64) as bytes.
fn hash_of(v: &Value) -> [u8; 32] {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("a hash as text"))
        .expect("base64")
        .try_into()
        .expect("32 bytes")
}

/// The first leaf of entry bundle 000 in `public/` (a u16 length, then the leaf).
fn first_published_leaf(ledger: &Path) -> Vec<u8> {
    let bundle = std::fs::read(ledger.join("public/tile/entries/000")).expect("bundle");
    let len = usize::from(u16::from_be_bytes([bundle[0], bundle[1]]));
    bundle[2..2 + len].to_vec()
}

/// sled keeps no Merkle node below level 4: a proof of a dropped leaf reads its group of hashes
/// from the level-0 hash tile in `public/`, checked against the level-4 node, so a hash changed
/// in that tile is found and named, never served.
#[test]
fn a_dropped_leaf_is_proven_from_its_hash_tile_and_a_changed_tile_is_found() {
    use custody::merkle;
    let dir = tempfile::tempdir().expect("temp dir");
    let ledger = ledger_with_dropped_segments(dir.path());
    let (start, _) = journal_start_and_mark(&ledger);
    assert!(
        start >= 256,
        "hash tile 000 covers only dropped leaves (start {start})"
    );
    // `prove` prints JSON without being asked.
    let prove = |seq: &str| {
        let out = small_segments()
            .args(["prove", "inclusion", "--ledger", s(&ledger), seq])
            .output()
            .expect("runs");
        let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), json, err)
    };
    let (_, cp, _) = run(&["checkpoint", "--ledger", s(&ledger)]);
    let (size, root) = (cp["size"].as_u64().expect("size"), hash_of(&cp["root"]));
    for seq in [0, 5, start - 1, start, size - 1] {
        let (ok, proof, err) = prove(&seq.to_string());
        assert!(ok, "leaf {seq}: {err}");
        let hashes: Vec<[u8; 32]> = proof["hashes"]
            .as_array()
            .expect("hashes")
            .iter()
            .map(hash_of)
            .collect();
        merkle::verify_inclusion(seq, size, &hash_of(&proof["leaf_hash"]), &hashes, &root)
            .unwrap_or_else(|e| panic!("leaf {seq}: {e}"));
    }
    let (_, proof, _) = prove("0");
    assert_eq!(
        hash_of(&proof["leaf_hash"]),
        merkle::leaf_hash(&first_published_leaf(&ledger)),
        "leaf 0's hash is that of the leaf published in its bundle"
    );

    let tile = ledger.join("public/tile/0/000");
    let original = std::fs::read(&tile).expect("hash tile");
    let mut changed = original.clone();
    changed[5 * 32] ^= 0x01; // leaf 5's hash
    std::fs::write(&tile, &changed).expect("tampers");
    let (ok, _, err) = prove("5");
    assert!(!ok, "a proof from a changed hash tile must not be served");
    assert!(
        err.contains("tile/0/000") && err.contains("changed after it was published"),
        "the error names the tile and what is wrong: {err}"
    );
    let (ok, _, err) = verify(&ledger);
    assert!(
        !ok && err.contains("tile/0/000"),
        "verify finds it too: {err}"
    );
    std::fs::write(&tile, &original).expect("restores");
    let (ok, _, err) = prove("5");
    assert!(ok, "restored, the proof is served again: {err}");
}

//! Tampering is detected and named: byte flips in an exported leaf, a tile hash and the
//! checkpoint signature; leaves dropped or swapped; a checkpoint forged with another key; the
//! sled store rolled back behind the checkpoint kept outside it.

mod common;

use common::*;
use std::path::{Path, PathBuf};

struct Demo {
    _tmp: tempfile::TempDir,
    ledger: PathBuf,
    tiles: PathBuf,
    vkey: String,
    size: u64,
}

fn demo_with_export() -> Demo {
    let tmp = tempfile::tempdir().expect("temp dir");
    let ledger = tmp.path().join("ledger");
    let tiles = tmp.path().join("tiles");
    custody()
        .args(["demo", "--ledger"])
        .arg(&ledger)
        .assert()
        .success();
    custody()
        .args(["export", "--ledger"])
        .arg(&ledger)
        .arg("--out")
        .arg(&tiles)
        .assert()
        .success();
    let vkey = vkey_of(&ledger);
    let size = run_json(&[
        "checkpoint",
        "--ledger",
        ledger.to_str().expect("utf-8 path"),
    ])["size"]
        .as_u64()
        .expect("size");
    assert!(size < 256, "the demo fits one partial bundle");
    Demo {
        _tmp: tmp,
        ledger,
        tiles,
        vkey,
        size,
    }
}

/// The demo's entries sit in one partial bundle and one partial level-0 hash tile.
fn bundle(d: &Demo) -> PathBuf {
    d.tiles.join(format!("tile/entries/000.p/{}", d.size))
}

fn hash_tile(d: &Demo) -> PathBuf {
    d.tiles.join(format!("tile/0/000.p/{}", d.size))
}

fn verify_tiles(d: &Demo) -> (Option<i32>, String) {
    let out = custody()
        .args(["verify", "--tiles"])
        .arg(&d.tiles)
        .args(["--vkey", &d.vkey])
        .output()
        .expect("runs");
    (out.status.code(), stderr_of(&out))
}

fn flip(path: &Path, offset_from: impl Fn(usize) -> usize) {
    let mut bytes = std::fs::read(path).expect("read");
    let at = offset_from(bytes.len());
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).expect("write");
}

#[test]
fn an_untouched_export_verifies() {
    let d = demo_with_export();
    let (code, err) = verify_tiles(&d);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_flipped_byte_in_any_exported_leaf_is_detected_and_named() {
    let d = demo_with_export();
    let original = std::fs::read(bundle(&d)).expect("read");
    let entries = split_bundle(&original);
    // Flip a byte in the middle of each leaf in turn: every one must be caught at its seq.
    for (seq, _) in entries.iter().enumerate() {
        let mut tampered = entries.clone();
        let mid = tampered[seq].len() / 2;
        tampered[seq][mid] ^= 0x04;
        std::fs::write(bundle(&d), join_bundle(&tampered)).expect("write");
        let (code, err) = verify_tiles(&d);
        assert_eq!(code, Some(1), "seq {seq}: {err}");
        assert!(err.contains(&format!("seq {seq}")), "seq {seq}: {err}");
    }
    std::fs::write(bundle(&d), original).expect("restore");
    assert_eq!(verify_tiles(&d).0, Some(0));
}

#[test]
fn a_flipped_byte_in_a_tile_hash_is_detected() {
    let d = demo_with_export();
    flip(&hash_tile(&d), |len| len - 40);
    let (code, err) = verify_tiles(&d);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&format!("tile/0/000.p/{}", d.size)), "{err}");
}

#[test]
fn a_flipped_byte_in_the_checkpoint_signature_is_detected() {
    let d = demo_with_export();
    // The last bytes before the final newline are base64 of the signature.
    let path = d.tiles.join("checkpoint");
    let mut text = std::fs::read_to_string(&path).expect("read");
    let at = text.len() - 6;
    let c = text.as_bytes()[at];
    text.replace_range(at..=at, if c == b'A' { "B" } else { "A" });
    std::fs::write(&path, text).expect("write");
    let (code, err) = verify_tiles(&d);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("checkpoint"), "{err}");
}

#[test]
fn a_dropped_leaf_is_detected() {
    let d = demo_with_export();
    let mut entries = split_bundle(&std::fs::read(bundle(&d)).expect("read"));
    entries.remove(4);
    std::fs::write(bundle(&d), join_bundle(&entries)).expect("write");
    let (code, err) = verify_tiles(&d);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("removed"), "{err}");
}

#[test]
fn swapped_leaves_are_detected() {
    let d = demo_with_export();
    let mut entries = split_bundle(&std::fs::read(bundle(&d)).expect("read"));
    entries.swap(5, 6);
    std::fs::write(bundle(&d), join_bundle(&entries)).expect("write");
    let (code, err) = verify_tiles(&d);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("seq 5") && err.contains("reordered"), "{err}");
}

#[test]
fn a_checkpoint_forged_with_another_key_is_refused() {
    let d = demo_with_export();
    // Another ledger with the same origin signs a checkpoint; it must not pass for this one.
    let tmp = tempfile::tempdir().expect("temp dir");
    let other = tmp.path().join("other");
    custody()
        .args(["demo", "--ledger"])
        .arg(&other)
        .assert()
        .success();
    let forged = custody()
        .args(["checkpoint", "--ledger"])
        .arg(&other)
        .output()
        .expect("runs")
        .stdout;
    std::fs::write(d.tiles.join("checkpoint"), forged).expect("write");
    let (code, err) = verify_tiles(&d);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("checkpoint"), "{err}");
    // And the ledger itself refuses to open with a forged checkpoint file beside it.
    std::fs::copy(
        other.join("private/checkpoint.slots"),
        d.ledger.join("private/checkpoint.slots"),
    )
    .expect("copy");
    let out = custody()
        .args(["verify", "--ledger"])
        .arg(&d.ledger)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr_of(&out).contains("does not verify with this ledger's key"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_store_rolled_back_behind_the_checkpoint_is_refused_naming_both_sizes() {
    let f = Fixture::new();
    let size_then = f.size();
    // Keep a copy of the store (the journal and sled) as it was, then record more.
    let backup = f.tmp.path().join("backup");
    for part in ["private/log.sled", "private/journal"] {
        copy_dir(&f.ledger.join(part), &backup.join(part));
    }
    let note = f.write("note.json", note_by(GATE_A, "").as_bytes());
    for _ in 0..2 {
        custody()
            .args(["record", "--ledger", f.ledger_str(), "--key"])
            .arg(f.key("gate-a"))
            .arg(&note)
            .assert()
            .success();
    }
    let size_now = f.size();
    assert_eq!(size_now, size_then + 2);
    // Roll the store back while the outside checkpoint stays newer.
    for part in ["private/log.sled", "private/journal"] {
        std::fs::remove_dir_all(f.ledger.join(part)).expect("remove");
        copy_dir(&backup.join(part), &f.ledger.join(part));
    }
    let out = custody()
        .args(["verify", "--ledger", f.ledger_str()])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!("holds {size_then} entries"))
            && err.contains(&format!("covers {size_now}")),
        "{err}"
    );
    // Recording is refused too: nothing is appended on top of a rolled-back log.
    let out = custody()
        .args(["record", "--ledger", f.ledger_str(), "--key"])
        .arg(f.key("gate-a"))
        .arg(&note)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
}

/// Found by the tamper matrix: a flipped bit in sled's `conf` made sled refuse to open with
/// "Unsupported: cannot change the io buffer size", which custody reported as an I/O problem to
/// check disks and permissions for. It is damage to the store, and must say so.
#[test]
fn a_flipped_bit_in_sleds_own_configuration_is_reported_as_a_damaged_store() {
    let (_tmp, ledger) = demo_ledger();
    flip(&ledger.join("private/log.sled/conf"), |_| 0x10);
    let out = custody()
        .args(["verify", "--ledger"])
        .arg(&ledger)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let err = stderr_of(&out);
    assert!(
        err.contains("storage is corrupt") && err.contains("altered or damaged"),
        "{err}"
    );
}

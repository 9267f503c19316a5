//! The tamper matrix: every way of altering a ledger at rest that the fault model names, tried
//! many times at random places against the sled directory, the checkpoint file beside it and a
//! tlog-tiles export. A trial counts as detected when `custody verify` fails (or the ledger
//! refuses to open) with a message naming what broke, and as harmless when verification passes
//! and the log is unchanged (same size and root: the flip hit bytes that carry no data). Anything
//! else is undetected, and fails the test. The table is printed (`-- --nocapture`).
//!
//! `CUSTODY_TAMPER_TRIALS` (default 8) sets the trials per random case and
//! `CUSTODY_TAMPER_SEED` the seed; docs/RELIABILITY.md records a long run.

mod common;

use common::*;
use custody::format::envelope::Envelope;
use custody::format::leaf::Leaf;
use custody::keys::signing::SecretKey;
use std::path::{Path, PathBuf};

/// A small seeded generator so a failing trial can be replayed from the printed seed.
struct Rng(u64);

impl Rng {
    fn word(&mut self) -> u64 {
        custody::storage::store::splitmix64(&mut self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.word() % n.max(1) as u64) as usize
    }
}

/// The untouched ledger, its export and an older copy of both, made once.
struct Pristine {
    _tmp: tempfile::TempDir,
    ledger: PathBuf,
    tiles: PathBuf,
    older_ledger: PathBuf,
    older_tiles: PathBuf,
    /// Another demo ledger: its key signs the forged checkpoints.
    other: PathBuf,
    _other_tmp: tempfile::TempDir,
    vkey: String,
    size: u64,
    root: String,
}

fn checkpoint_of(ledger: &Path) -> (u64, String) {
    let cp = run_json(&["checkpoint", "--ledger", ledger.to_str().expect("utf-8")]);
    (
        cp["size"].as_u64().expect("size"),
        cp["root"].as_str().expect("root").to_owned(),
    )
}

fn export(ledger: &Path, out: &Path) {
    custody()
        .args(["export", "--ledger"])
        .arg(ledger)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

fn pristine() -> Pristine {
    let (tmp, ledger) = demo_ledger();
    let older_ledger = tmp.path().join("older");
    copy_dir(&ledger, &older_ledger);
    let older_tiles = tmp.path().join("older-tiles");
    export(&older_ledger, &older_tiles);
    // One more statement makes the live ledger newer than the copy.
    let note = tmp.path().join("note.json");
    std::fs::write(
        &note,
        r#"{"type":"note_added","facility":"LPN-JAKARTA","signers":[{"role":"author","officer":"199001152014022001"}],"after":{},"text":"Pemeriksaan ulang segel gudang"}"#,
    )
    .expect("write");
    custody()
        .args(["record", "--ledger"])
        .arg(&ledger)
        .arg("--key")
        .arg(ledger.join("demo-keys/gate-officer-b.pem"))
        .arg(&note)
        .assert()
        .success();
    let tiles = tmp.path().join("tiles");
    export(&ledger, &tiles);
    let vkey = vkey_of(&ledger);
    let (size, root) = checkpoint_of(&ledger);
    let (other_tmp, other) = demo_ledger();
    Pristine {
        _tmp: tmp,
        ledger,
        tiles,
        older_ledger,
        older_tiles,
        other,
        _other_tmp: other_tmp,
        vkey,
        size,
        root,
    }
}

#[derive(Debug, PartialEq)]
enum Outcome {
    /// Refused, and the message names the part that broke.
    Detected,
    /// Verification passed and the log is exactly the original.
    Harmless,
    Undetected(String),
}

/// What `custody verify` says of a tampered sled ledger.
fn judge_ledger(p: &Pristine, ledger: &Path) -> Outcome {
    let out = custody()
        .args(["verify", "--ledger"])
        .arg(ledger)
        .output()
        .expect("runs");
    let err = stderr_of(&out);
    if !out.status.success() {
        return named(&err, out.status.code());
    }
    let (size, root) = checkpoint_of(ledger);
    if size == p.size && root == p.root {
        Outcome::Harmless
    } else {
        Outcome::Undetected(format!("verify passed with size {size} root {root}"))
    }
}

/// What `custody verify --tiles` says of a tampered export.
fn judge_tiles(p: &Pristine, tiles: &Path) -> Outcome {
    let out = custody()
        .args(["verify", "--tiles"])
        .arg(tiles)
        .args(["--vkey", &p.vkey])
        .output()
        .expect("runs");
    let err = stderr_of(&out);
    if !out.status.success() {
        return named(&err, out.status.code());
    }
    let same = std::fs::read(tiles.join("checkpoint")).ok()
        == std::fs::read(p.tiles.join("checkpoint")).ok();
    if same && dirs_equal(tiles, &p.tiles) {
        Outcome::Harmless
    } else {
        Outcome::Undetected("verify --tiles passed on an altered export".into())
    }
}

/// A refusal counts only with an exit code of 1 (verification failed) or 3 (corrupt store) and
/// a message that says what broke; a panic or a bare failure is not an explanation.
fn named(err: &str, code: Option<i32>) -> Outcome {
    let names_it = [
        "seq ",
        "checkpoint",
        "Merkle",
        "leaf",
        "entries",
        "corrupt",
        "tile",
        "export",
        "root",
    ]
    .iter()
    .any(|w| err.contains(w));
    if matches!(code, Some(1 | 3)) && names_it && !err.contains("panicked") {
        Outcome::Detected
    } else {
        Outcome::Undetected(format!(
            "refused without a clear reason (exit {code:?}): {err}"
        ))
    }
}

fn dirs_equal(a: &Path, b: &Path) -> bool {
    let mut fa = Vec::new();
    let mut fb = Vec::new();
    files(a, a, &mut fa);
    files(b, b, &mut fb);
    fa.sort();
    fb.sort();
    fa == fb
}

fn files(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = e.path();
        if path.is_dir() {
            files(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).expect("inside").to_path_buf();
            out.push((rel, std::fs::read(&path).expect("read")));
        }
    }
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    files(dir, dir, &mut out);
    out.into_iter()
        .filter(|(_, b)| !b.is_empty())
        .map(|(p, _)| dir.join(p))
        .collect()
}

/// Flips one bit: half the time anywhere in the file, half the time in a byte that is not zero
/// (sled's files are mostly zero padding, and a flip there changes nothing).
fn flip_random(path: &Path, rng: &mut Rng) {
    let mut bytes = std::fs::read(path).expect("read");
    let nonzero: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] != 0).collect();
    let at = if rng.word().is_multiple_of(2) || nonzero.is_empty() {
        rng.below(bytes.len())
    } else {
        nonzero[rng.below(nonzero.len())]
    };
    bytes[at] ^= 1 << (rng.word() % 8);
    std::fs::write(path, bytes).expect("write");
}

fn truncate_random(path: &Path, rng: &mut Rng) {
    let bytes = std::fs::read(path).expect("read");
    let keep = rng.below(bytes.len());
    std::fs::write(path, &bytes[..keep]).expect("write");
}

fn bundle_path(p: &Pristine, tiles: &Path) -> PathBuf {
    tiles.join(format!("tile/entries/000.p/{}", p.size))
}

/// The demo's officer keys, to re-sign with.
fn demo_keys(p: &Pristine) -> Vec<SecretKey> {
    std::fs::read_dir(p.ledger.join("demo-keys"))
        .expect("keys")
        .flatten()
        .map(|e| SecretKey::read_file(&e.path()).expect("key"))
        .collect()
}

type Case<'a> = (
    &'static str,
    Box<dyn Fn(&Pristine, &Path, &mut Rng) -> Outcome + 'a>,
);

/// One tampering case: copies what it alters into `scratch`, alters it, judges it.
fn cases<'a>() -> Vec<Case<'a>> {
    let ledger_copy = |p: &Pristine, scratch: &Path| {
        let l = scratch.join("ledger");
        copy_dir(&p.ledger, &l);
        l
    };
    let tiles_copy = |p: &Pristine, scratch: &Path| {
        let t = scratch.join("tiles");
        copy_dir(&p.tiles, &t);
        t
    };
    vec![
        (
            "sled: bit flip at a random offset",
            Box::new(move |p, s, rng| {
                let l = ledger_copy(p, s);
                let files = all_files(&l.join("log.sled"));
                flip_random(&files[rng.below(files.len())], rng);
                judge_ledger(p, &l)
            }),
        ),
        (
            "sled: a file truncated",
            Box::new(move |p, s, rng| {
                let l = ledger_copy(p, s);
                let files = all_files(&l.join("log.sled"));
                truncate_random(&files[rng.below(files.len())], rng);
                judge_ledger(p, &l)
            }),
        ),
        (
            "sled: rolled back to an earlier copy",
            Box::new(move |p, s, _| {
                let l = ledger_copy(p, s);
                std::fs::remove_dir_all(l.join("log.sled")).expect("rm");
                copy_dir(&p.older_ledger.join("log.sled"), &l.join("log.sled"));
                judge_ledger(p, &l)
            }),
        ),
        (
            "checkpoint file: bit flip",
            Box::new(move |p, s, rng| {
                let l = ledger_copy(p, s);
                flip_random(&l.join("checkpoint.slots"), rng);
                judge_ledger(p, &l)
            }),
        ),
        (
            "checkpoint file: truncated",
            Box::new(move |p, s, rng| {
                let l = ledger_copy(p, s);
                truncate_random(&l.join("checkpoint.slots"), rng);
                judge_ledger(p, &l)
            }),
        ),
        (
            "checkpoint file: signed with another key",
            Box::new(move |p, s, _| {
                let l = ledger_copy(p, s);
                std::fs::copy(p.other.join("checkpoint.slots"), l.join("checkpoint.slots"))
                    .expect("copy");
                judge_ledger(p, &l)
            }),
        ),
        (
            "tiles: bit flip at a random offset",
            Box::new(move |p, s, rng| {
                let t = tiles_copy(p, s);
                let files = all_files(&t);
                flip_random(&files[rng.below(files.len())], rng);
                judge_tiles(p, &t)
            }),
        ),
        (
            "tiles: a file truncated",
            Box::new(move |p, s, rng| {
                let t = tiles_copy(p, s);
                let files = all_files(&t);
                truncate_random(&files[rng.below(files.len())], rng);
                judge_tiles(p, &t)
            }),
        ),
        (
            "tiles: a leaf removed",
            Box::new(move |p, s, rng| {
                let t = tiles_copy(p, s);
                let path = bundle_path(p, &t);
                let mut entries = split_bundle(&std::fs::read(&path).expect("read"));
                entries.remove(rng.below(entries.len()));
                std::fs::write(&path, join_bundle(&entries)).expect("write");
                judge_tiles(p, &t)
            }),
        ),
        (
            "tiles: two leaves swapped",
            Box::new(move |p, s, rng| {
                let t = tiles_copy(p, s);
                let path = bundle_path(p, &t);
                let mut entries = split_bundle(&std::fs::read(&path).expect("read"));
                let a = rng.below(entries.len() - 1);
                let b = a + 1 + rng.below(entries.len() - a - 1);
                entries.swap(a, b);
                std::fs::write(&path, join_bundle(&entries)).expect("write");
                judge_tiles(p, &t)
            }),
        ),
        (
            "tiles: a leaf re-signed by another enrolled officer",
            Box::new(move |p, s, rng| {
                let t = tiles_copy(p, s);
                let path = bundle_path(p, &t);
                let mut entries = split_bundle(&std::fs::read(&path).expect("read"));
                let k = 1 + rng.below(entries.len() - 1);
                let leaf = Leaf::decode(&entries[k]).expect("a leaf");
                let keys = demo_keys(p);
                let key = &keys[rng.below(keys.len())];
                let mut envelope =
                    Envelope::unsigned(leaf.envelope.payload().to_vec()).expect("payload");
                envelope.sign(key).expect("signs");
                let forged = Leaf { envelope, ..leaf };
                let bytes = forged.encode().expect("encodes");
                if bytes == entries[k] {
                    // The same officer as before, alone: nothing changed.
                    return judge_tiles(p, &t);
                }
                entries[k] = bytes;
                std::fs::write(&path, join_bundle(&entries)).expect("write");
                match judge_tiles(p, &t) {
                    Outcome::Detected => {
                        let out = custody()
                            .args(["verify", "--tiles"])
                            .arg(&t)
                            .args(["--vkey", &p.vkey])
                            .output()
                            .expect("runs");
                        let err = stderr_of(&out);
                        if err.contains(&format!("seq {k}")) {
                            Outcome::Detected
                        } else {
                            Outcome::Undetected(format!("refused, but not at seq {k}: {err}"))
                        }
                    }
                    other => other,
                }
            }),
        ),
        (
            "tiles: checkpoint signed with another key",
            Box::new(move |p, s, _| {
                let t = tiles_copy(p, s);
                let forged = custody()
                    .args(["checkpoint", "--ledger"])
                    .arg(&p.other)
                    .output()
                    .expect("runs")
                    .stdout;
                std::fs::write(t.join("checkpoint"), forged).expect("write");
                judge_tiles(p, &t)
            }),
        ),
        (
            "tiles: older tiles under the newer checkpoint",
            Box::new(move |p, s, _| {
                let t = s.join("tiles");
                copy_dir(&p.older_tiles, &t);
                std::fs::copy(p.tiles.join("checkpoint"), t.join("checkpoint")).expect("copy");
                judge_tiles(p, &t)
            }),
        ),
    ]
}

/// Cases whose result does not depend on the random draw run once.
const FIXED: [&str; 4] = [
    "sled: rolled back to an earlier copy",
    "checkpoint file: signed with another key",
    "tiles: checkpoint signed with another key",
    "tiles: older tiles under the newer checkpoint",
];

#[test]
fn every_tampering_of_a_ledger_at_rest_is_detected_or_changes_nothing() {
    let trials: usize = std::env::var("CUSTODY_TAMPER_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let seed: u64 = std::env::var("CUSTODY_TAMPER_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_128);
    let p = pristine();
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    println!("tamper matrix, seed {seed}, {trials} trials per random case");
    println!(
        "{:<52} {:>6} {:>9} {:>9} {:>11}",
        "case", "tried", "detected", "harmless", "undetected"
    );
    for (name, case) in cases() {
        let runs = if FIXED.contains(&name) { 1 } else { trials };
        let (mut detected, mut harmless, mut undetected) = (0, 0, 0);
        for trial in 0..runs {
            let scratch = tempfile::tempdir().expect("temp dir");
            match case(&p, scratch.path(), &mut rng) {
                Outcome::Detected => detected += 1,
                Outcome::Harmless => harmless += 1,
                Outcome::Undetected(why) => {
                    undetected += 1;
                    failures.push(format!("{name} (seed {seed}, trial {trial}): {why}"));
                }
            }
        }
        println!("{name:<52} {runs:>6} {detected:>9} {harmless:>9} {undetected:>11}");
    }
    assert!(
        failures.is_empty(),
        "undetected tampering:\n{}",
        failures.join("\n")
    );
}

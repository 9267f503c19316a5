//! Replays the fuzz seed corpora on every `cargo test`, without a fuzzer: every file of
//! `fuzz/corpus/<target>/` and, when the directory exists, of `fuzz/regressions/<target>/` goes
//! through the matching `custody::fuzz_harness` entry point, which must not panic. A missing or
//! empty corpus directory fails, as does a fuzz target without a corpus or a corpus without a
//! target, so a new target cannot silently go unreplayed.

use custody::fuzz_harness;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// A harness entry point: bytes in, a panic on a bug.
type Harness = fn(&[u8]);

/// Every fuzz target, by the name of its file in `fuzz/fuzz_targets/` and its corpus directory.
const TARGETS: &[(&str, Harness)] = &[
    ("statement_parse", fuzz_harness::statement_parse),
    ("envelope_verify", fuzz_harness::envelope_verify),
    ("leaf_decode", fuzz_harness::leaf_decode),
    ("note_parse", fuzz_harness::note_parse),
    ("proof_verify", fuzz_harness::proof_verify),
    ("http_signature", fuzz_harness::http_signature),
    ("http_request", fuzz_harness::http_request),
    ("bundle_verify", fuzz_harness::bundle_verify),
    ("journal_open", fuzz_harness::journal_open),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The regular files directly in `dir`, sorted; `None` if `dir` does not exist.
fn files_in(dir: &Path) -> Option<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry can be read").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Some(files)
}

/// Runs every file through `harness`; fails naming each file that panicked.
fn replay(files: &[PathBuf], harness: Harness) {
    let mut failed = Vec::new();
    for file in files {
        let data = std::fs::read(file).expect("a corpus file can be read");
        if panic::catch_unwind(AssertUnwindSafe(|| harness(&data))).is_err() {
            failed.push(file.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} inputs panicked (messages above):\n  {}",
        failed.len(),
        files.len(),
        failed.join("\n  ")
    );
}

fn replay_target(name: &str) {
    let (_, harness) = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("the target is listed in TARGETS");
    let corpus = fuzz_dir().join("corpus").join(name);
    let files =
        files_in(&corpus).unwrap_or_else(|| panic!("seed corpus {} is missing", corpus.display()));
    assert!(
        !files.is_empty(),
        "seed corpus {} is empty",
        corpus.display()
    );
    replay(&files, *harness);

    let regressions = fuzz_dir().join("regressions").join(name);
    if let Some(files) = files_in(&regressions) {
        replay(&files, *harness);
    }
}

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay_target(stringify!($name));
            }
        )*
    };
}

replay_tests!(
    statement_parse,
    envelope_verify,
    leaf_decode,
    note_parse,
    proof_verify,
    http_signature,
    http_request,
    bundle_verify
);

/// The names of the entries of `dir` (files without their extension), sorted.
fn names_in(dir: &Path, strip_rs: bool) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", dir.display()))
        .map(|e| {
            let name = e
                .expect("a directory entry can be read")
                .file_name()
                .to_string_lossy()
                .into_owned();
            match name.strip_suffix(".rs") {
                Some(stem) if strip_rs => stem.to_owned(),
                _ => name,
            }
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_target_has_a_corpus_and_every_corpus_a_target() {
    let mut listed: Vec<String> = TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    let dir = fuzz_dir();
    assert_eq!(
        names_in(&dir.join("fuzz_targets"), true),
        listed,
        "fuzz/fuzz_targets/ and this test's TARGETS list differ"
    );
    assert_eq!(
        names_in(&dir.join("corpus"), false),
        listed,
        "fuzz/corpus/ and this test's TARGETS list differ"
    );
    let regressions = dir.join("regressions");
    if regressions.is_dir() {
        for name in names_in(&regressions, false) {
            assert!(
                regressions.join(&name).is_file() || listed.contains(&name),
                "fuzz/regressions/{name} names no fuzz target"
            );
        }
    }
}

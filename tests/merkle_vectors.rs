//! Runs every RFC 6962 proof vector from transparency-dev/merkle (tests/vectors/rfc6962, see
//! tests/vectors/README.md) through custody's proof verifiers, and checks that our proof
//! generation reproduces the vectors' valid proofs byte for byte.
//!
//! Our verifiers take `[u8; 32]` hashes, so a vector value of any other length is rejected while
//! decoding, before any verifier runs: for us a malformed hash is always an error.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use custody::merkle::{
    Hash, MemoryTree, VerifyError, consistency_proof, inclusion_proof, root, verify_consistency,
    verify_inclusion,
};
use serde::Deserialize;

/// How many vectors transparency-dev/merkle at 417fb0c ships. Pinned so that a missing or
/// half-copied directory fails instead of passing on fewer vectors.
const INCLUSION_VECTORS: usize = 98;
const CONSISTENCY_VECTORS: usize = 98;
const TOTAL_VECTORS: usize = 196;

/// Vectors whose `wantErr` we deliberately do not follow, with why. Each is still run, and must
/// be rejected as malformed: if it ever passes, or fails for another reason, the test fails.
const DIVERGENCES: &[(&str, &str)] = &[(
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
    "both roots are the same 12-byte string; upstream only compares root bytes when the sizes \
     are equal and so accepts it, but a root that is not 32 bytes is never a valid tree root",
)];

/// How many of the vectors are `happy-path.json` proofs over the RFC 6962 test tree, which our
/// generator must reproduce.
const HAPPY_PATHS: usize = 10;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InclusionVector {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConsistencyVector {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

/// Why a vector was rejected: it never reached a verifier, or the verifier said no.
#[derive(Debug)]
enum Rejection {
    Malformed { field: &'static str, len: usize },
    Verify(VerifyError),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { field, len } => write!(f, "{field} is {len} bytes, not a hash"),
            Self::Verify(e) => write!(f, "{e}"),
        }
    }
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/rfc6962")
}

/// Every `.json` file under `dir`, sorted so failures are reported in a stable order.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = fs::read_dir(&current)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", current.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", current.display()))
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn relative(path: &Path) -> String {
    path.strip_prefix(vectors_dir())
        .expect("every vector lies under the vectors directory")
        .to_string_lossy()
        .replace('\\', "/")
}

fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> T {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

fn hash(field: &'static str, b64: &str) -> Result<Hash, Rejection> {
    let bytes = STANDARD
        .decode(b64)
        .unwrap_or_else(|e| panic!("{field} is not base64 ({e}): {b64:?}"));
    Hash::try_from(bytes.as_slice()).map_err(|_| Rejection::Malformed {
        field,
        len: bytes.len(),
    })
}

fn proof(hashes: &Option<Vec<String>>) -> Result<Vec<Hash>, Rejection> {
    hashes
        .iter()
        .flatten()
        .map(|h| hash("a proof hash", h))
        .collect()
}

fn run_inclusion(v: &InclusionVector) -> Result<(), Rejection> {
    let root = hash("root", &v.root)?;
    let leaf = hash("leafHash", &v.leaf_hash)?;
    let proof = proof(&v.proof)?;
    verify_inclusion(v.leaf_idx, v.tree_size, &leaf, &proof, &root).map_err(Rejection::Verify)
}

fn run_consistency(v: &ConsistencyVector) -> Result<(), Rejection> {
    let root1 = hash("root1", &v.root1)?;
    let root2 = hash("root2", &v.root2)?;
    let proof = proof(&v.proof)?;
    verify_consistency(v.size1, v.size2, &root1, &root2, &proof).map_err(Rejection::Verify)
}

/// Compares one vector's outcome with what it wants, or with the divergence we recorded for it.
fn judge(
    name: &str,
    desc: &str,
    want_err: bool,
    outcome: Result<(), Rejection>,
    failures: &mut Vec<String>,
    divergences_seen: &mut usize,
) {
    if let Some((_, why)) = DIVERGENCES.iter().find(|(path, _)| *path == name) {
        *divergences_seen += 1;
        match outcome {
            Err(Rejection::Malformed { .. }) if !want_err => {}
            other => failures.push(format!(
                "{name} ({desc}): recorded divergence ({why}) no longer holds: got {other:?}"
            )),
        }
        return;
    }
    match (want_err, outcome) {
        (false, Err(rejection)) => failures.push(format!(
            "{name} ({desc}): want success, got error: {rejection}"
        )),
        (true, Ok(())) => failures.push(format!("{name} ({desc}): want an error, got success")),
        _ => {}
    }
}

#[test]
fn every_rfc6962_vector_gets_the_expected_verdict() {
    let mut failures = Vec::new();
    let mut divergences_seen = 0;

    let inclusion = json_files(&vectors_dir().join("inclusion"));
    for path in &inclusion {
        let v: InclusionVector = read(path);
        let name = relative(path);
        let outcome = run_inclusion(&v);
        judge(
            &name,
            &v.desc,
            v.want_err,
            outcome,
            &mut failures,
            &mut divergences_seen,
        );
    }

    let consistency = json_files(&vectors_dir().join("consistency"));
    for path in &consistency {
        let v: ConsistencyVector = read(path);
        let name = relative(path);
        let outcome = run_consistency(&v);
        judge(
            &name,
            &v.desc,
            v.want_err,
            outcome,
            &mut failures,
            &mut divergences_seen,
        );
    }

    println!(
        "{} inclusion + {} consistency vectors, {} recorded divergence(s)",
        inclusion.len(),
        consistency.len(),
        divergences_seen
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(inclusion.len(), INCLUSION_VECTORS, "inclusion vector count");
    assert_eq!(
        consistency.len(),
        CONSISTENCY_VECTORS,
        "consistency vector count"
    );
    assert_eq!(inclusion.len() + consistency.len(), TOTAL_VECTORS);
    assert_eq!(
        divergences_seen,
        DIVERGENCES.len(),
        "a recorded divergence went missing"
    );
}

/// The leaves of the RFC 6962 test tree that the vectors' happy paths are drawn from.
fn rfc6962_test_tree() -> MemoryTree {
    MemoryTree::from_leaves([
        vec![],
        vec![0x00],
        vec![0x10],
        vec![0x20, 0x21],
        vec![0x30, 0x31],
        vec![0x40, 0x41, 0x42, 0x43],
        (0x50..0x58).collect(),
        (0x60..0x70).collect(),
    ])
}

fn decoded(hashes: &Option<Vec<String>>) -> Vec<Hash> {
    proof(hashes).unwrap_or_else(|e| panic!("a happy path has a malformed proof: {e}"))
}

#[test]
fn generated_proofs_match_every_happy_path() {
    let tree = rfc6962_test_tree();
    let tree_root = |size| root(&tree, size).expect("the test tree has eight leaves");
    let mut checked = 0;

    for path in json_files(&vectors_dir().join("inclusion")) {
        if !path.ends_with("happy-path.json") {
            continue;
        }
        let v: InclusionVector = read(&path);
        let name = relative(&path);
        assert_eq!(
            hash("root", &v.root).ok(),
            Some(tree_root(v.tree_size)),
            "{name}: not over the RFC 6962 test tree"
        );
        assert_eq!(
            inclusion_proof(&tree, v.leaf_idx, v.tree_size),
            Ok(decoded(&v.proof)),
            "{name}"
        );
        checked += 1;
    }

    for path in json_files(&vectors_dir().join("consistency")) {
        if !path.ends_with("happy-path.json") {
            continue;
        }
        let v: ConsistencyVector = read(&path);
        let name = relative(&path);
        assert_eq!(
            hash("root1", &v.root1).ok(),
            Some(tree_root(v.size1)),
            "{name}: not over the RFC 6962 test tree"
        );
        assert_eq!(
            hash("root2", &v.root2).ok(),
            Some(tree_root(v.size2)),
            "{name}: not over the RFC 6962 test tree"
        );
        assert_eq!(
            consistency_proof(&tree, v.size1, v.size2),
            Ok(decoded(&v.proof)),
            "{name}"
        );
        checked += 1;
    }

    assert_eq!(checked, HAPPY_PATHS, "happy-path vector count");
}

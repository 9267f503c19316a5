//! Entry points shared by the cargo-fuzz targets and the corpus replay test; each takes arbitrary
//! bytes and must never panic.
//!
//! Every function feeds its bytes to one of the library's parsers or verifiers, which must answer
//! with `Ok` or `Err` for any input. When a parser accepts, the function also checks properties
//! that must then hold (the canonical form round-trips, a genuine signature or proof verifies, a
//! flipped bit does not), with `assert!`s whose messages name the broken invariant. So a panic
//! here is always a bug found in the library, never in the caller. The targets live in
//! `fuzz/fuzz_targets/`, their seeds in `fuzz/corpus/<target>/`, and `tests/fuzz_corpus.rs`
//! replays those seeds (and any `fuzz/regressions/<target>/` inputs) on every `cargo test`.
//!
//! Not part of the public API: it exists for fuzzing and may change with the fuzz targets.

use crate::base::limits::{
    NOTE_SIGNATURES_MAX, PROOF_HASHES_MAX, SIGNATURES_MAX, STATEMENT_BYTES_MAX,
};
use crate::format::envelope::{Envelope, PAYLOAD_TYPE, pae};
use crate::format::leaf::Leaf;
use crate::format::merkle::{self, Hash, MemoryTree};
use crate::format::note::{self, Checkpoint, Note, VerifierKey};
use crate::format::statement::{Statement, StatementType};
use crate::keys::signing::{PublicKey, SecretKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use std::sync::OnceLock;

/// Seed of the fixed test key: envelopes and notes in the seed corpora signed with it exercise the
/// success paths of verification. Never a real key.
pub const TEST_KEY_SEED: [u8; 32] = [7; 32];

/// Origin (and so the checkpoint key name) of the checkpoints in the corpus that the test key
/// signed.
pub const TEST_ORIGIN: &str = "custody.fuzz.example/ledger";

/// The verifier key of Go's `golang.org/x/mod/sumdb/note` documentation example
/// (tests/vectors/signed-note), so that the Go-signed seed notes open.
const GO_EXAMPLE_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

/// The test key, derived once: deriving it costs a scalar multiplication per call otherwise.
pub fn test_key() -> &'static SecretKey {
    static KEY: OnceLock<SecretKey> = OnceLock::new();
    KEY.get_or_init(|| SecretKey::from_seed(&TEST_KEY_SEED))
}

fn test_public_key() -> &'static PublicKey {
    static PUBLIC: OnceLock<PublicKey> = OnceLock::new();
    PUBLIC.get_or_init(|| test_key().public())
}

/// The checkpoint verifier key of the test key under [`TEST_ORIGIN`].
pub fn test_checkpoint_vkey() -> &'static VerifierKey {
    static VKEY: OnceLock<VerifierKey> = OnceLock::new();
    VKEY.get_or_init(|| {
        VerifierKey::new(TEST_ORIGIN, *test_public_key()).expect("TEST_ORIGIN is a valid key name")
    })
}

/// The verifier keys `note_parse` trusts: the test checkpoint key and Go's example key.
fn known_note_keys() -> &'static [VerifierKey] {
    static KEYS: OnceLock<Vec<VerifierKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        vec![
            test_checkpoint_vkey().clone(),
            VerifierKey::parse(GO_EXAMPLE_VKEY).expect("Go's example verifier key parses"),
        ]
    })
}

/// `Statement::parse`. Parsing is deterministic, an accepted statement is valid UTF-8 within
/// the size limit whose typed body matches its type, and JSON white space around the document
/// does not change what it means.
pub fn statement_parse(data: &[u8]) {
    let first = Statement::parse(data);
    let second = Statement::parse(data);
    assert_eq!(
        first, second,
        "Statement::parse gave two answers for the same bytes"
    );
    let statement = match first {
        Ok(statement) => statement,
        Err(err) => {
            // Rendering the error for an officer must not panic either (it truncates text).
            let _ = err.to_string();
            let _ = err.field_path();
            return;
        }
    };
    assert!(
        data.len() <= STATEMENT_BYTES_MAX,
        "Statement::parse accepted {} bytes, over the limit",
        data.len()
    );
    assert!(
        std::str::from_utf8(data).is_ok(),
        "Statement::parse accepted bytes that are not UTF-8"
    );
    assert_eq!(
        StatementType::parse(statement.kind.as_str()),
        Some(statement.kind),
        "a statement type does not round-trip through its name"
    );
    let body_kind = statement.body.kind();
    assert_eq!(
        body_kind, statement.kind,
        "the body does not match the statement type"
    );
    assert!(
        (1..=SIGNATURES_MAX).contains(&statement.signers.len()),
        "a statement was accepted with {} signers",
        statement.signers.len()
    );
    if data.len() + 2 <= STATEMENT_BYTES_MAX {
        let mut padded = Vec::with_capacity(data.len() + 2);
        padded.push(b' ');
        padded.extend_from_slice(data);
        padded.push(b'\n');
        assert_eq!(
            Statement::parse(&padded).as_ref(),
            Ok(&statement),
            "white space around a valid statement changed how it parses"
        );
    }
}

/// `Envelope::parse`, then: the canonical JSON re-parses to the same envelope and is a fixed
/// point; checking every signature against the test key does not panic; the test key's own
/// signature over the payload verifies, and does not verify over any other bytes.
pub fn envelope_verify(data: &[u8]) {
    let envelope = match Envelope::parse(data) {
        Ok(envelope) => envelope,
        Err(err) => {
            let _ = err.to_string();
            return;
        }
    };
    check_canonical_form(data, &envelope);
    let signed = check_signed_bytes(&envelope);
    check_fresh_signature(&envelope, &signed);
    check_cosigning(&envelope);
}

/// The canonical JSON of a parsed envelope is no longer than its input, re-parses to the same
/// envelope and is a fixed point; the pretty form renders.
fn check_canonical_form(data: &[u8], envelope: &Envelope) {
    let json = envelope.to_json();
    assert!(
        json.len() <= data.len(),
        "the canonical form ({} bytes) is longer than the envelope it came from ({} bytes)",
        json.len(),
        data.len()
    );
    let back = Envelope::parse(json.as_bytes())
        .expect("the canonical form of a parsed envelope parses (checked just below)");
    assert_eq!(
        back, *envelope,
        "to_json() does not re-parse to the same envelope"
    );
    assert_eq!(back.to_json(), json, "to_json() is not a fixed point");
    let _ = envelope.to_json_pretty();
}

/// The signed bytes are PAE over the payload, and checking every signature against the test key
/// does not panic; answers the signed bytes.
fn check_signed_bytes(envelope: &Envelope) -> Vec<u8> {
    let public = test_public_key();
    let signed = envelope.signed_bytes();
    assert_eq!(
        signed,
        pae(PAYLOAD_TYPE, envelope.payload()),
        "signed_bytes() is not PAE over the payload"
    );
    for index in 0..envelope.signatures().len() {
        let _ = envelope.verify_signature(index, public, &signed);
    }
    signed
}

/// A fresh envelope signed with the test key over the same payload verifies, does not verify over
/// any other bytes, and round-trips.
fn check_fresh_signature(envelope: &Envelope, signed: &[u8]) {
    let public = test_public_key();
    let mut fresh = Envelope::unsigned(envelope.payload().to_vec())
        .expect("a payload that parsed is within the statement size limit");
    fresh
        .sign(test_key())
        .expect("an envelope without signatures has room for one");
    assert!(
        fresh
            .verify_signature(0, public, &fresh.signed_bytes())
            .is_ok(),
        "a signature made by the test key does not verify"
    );
    let mut other = signed.to_vec();
    other.push(b'\n');
    assert!(
        fresh.verify_signature(0, public, &other).is_err(),
        "a signature verified over bytes it was not made for"
    );
    let fresh_back = Envelope::parse(fresh.to_json().as_bytes())
        .expect("a freshly signed envelope's canonical form parses");
    assert_eq!(
        fresh_back, fresh,
        "a freshly signed envelope does not round-trip"
    );
}

/// Adding the test key's signature to the parsed envelope keeps every other signature and
/// verifies, or is refused because the envelope is already full.
fn check_cosigning(envelope: &Envelope) {
    let public = test_public_key();
    let mut cosigned = envelope.clone();
    if cosigned.sign(test_key()).is_ok() {
        let keyid = public.key_id();
        let position = cosigned
            .signatures()
            .iter()
            .position(|s| s.keyid == keyid)
            .expect("sign() leaves a signature under the signer's key id");
        assert!(
            cosigned
                .verify_signature(position, public, &cosigned.signed_bytes())
                .is_ok(),
            "a signature added by sign() does not verify"
        );
        assert!(
            cosigned.signatures().len() <= SIGNATURES_MAX,
            "sign() went over the signature limit"
        );
    } else {
        assert_eq!(
            envelope.signatures().len(),
            SIGNATURES_MAX,
            "sign() refused an envelope that had room"
        );
    }
}

/// `Leaf::decode`; an accepted leaf re-encodes to exactly the bytes it was decoded from, and its
/// envelope passes [`envelope_verify`].
pub fn leaf_decode(data: &[u8]) {
    let leaf = match Leaf::decode(data) {
        Ok(leaf) => leaf,
        Err(err) => {
            let _ = err.to_string();
            return;
        }
    };
    let encoded = leaf
        .encode()
        .expect("decode() has already encoded this leaf within the size limit");
    assert!(
        encoded.as_slice() == data,
        "Leaf::decode accepted bytes that encode() does not reproduce: a leaf has two spellings"
    );
    envelope_verify(leaf.envelope.to_json().as_bytes());
}

/// `Note::parse`, `note::open` with fixed known keys, `Checkpoint::parse` on the text and
/// `note::open_checkpoint` with the test checkpoint key; also `VerifierKey::parse` on the text.
/// Whatever parses has exactly one spelling: it re-serializes to the bytes it came from.
pub fn note_parse(data: &[u8]) {
    let parsed = Note::parse(data);
    if let Ok(note) = &parsed {
        check_note(data, note);
        checkpoint_round_trip(note.text());
    }
    if let Err(err) = &parsed {
        let _ = err.to_string();
    }
    check_open(data, &parsed);
    check_open_checkpoint(data, &parsed);
    check_text_forms(data);
}

/// `note::open` with the known keys: a note it opens parses with `Note::parse` to the same text,
/// and every signer it reports is a known key, reported once.
fn check_open(data: &[u8], parsed: &Result<Note, note::NoteError>) {
    let known = known_note_keys();
    match note::open(data, known) {
        Ok(opened) => {
            let note = parsed
                .as_ref()
                .expect("open() accepted a note that Note::parse refuses (asserted here)");
            assert_eq!(
                opened.text,
                note.text(),
                "open() returned other text than parse()"
            );
            assert!(
                !opened.verified_by.is_empty(),
                "open() verified no signature"
            );
            for (i, name) in opened.verified_by.iter().enumerate() {
                assert!(
                    known.iter().any(|k| k.name() == name.as_str()),
                    "open() reports a signer {name:?} that is not a known key"
                );
                assert!(
                    !opened.verified_by[..i].contains(name),
                    "open() reports signer {name:?} twice"
                );
            }
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
}

/// `note::open_checkpoint` with the test checkpoint key: what it opens carries the key's origin
/// and agrees with `Checkpoint::parse` on the note text.
fn check_open_checkpoint(data: &[u8], parsed: &Result<Note, note::NoteError>) {
    let vkey = test_checkpoint_vkey();
    match note::open_checkpoint(data, vkey) {
        Ok(cp) => {
            assert_eq!(
                cp.origin.as_str(),
                vkey.name(),
                "open_checkpoint() ignored the origin"
            );
            let note = parsed
                .as_ref()
                .expect("open_checkpoint() accepted a note that Note::parse refuses");
            assert_eq!(
                Checkpoint::parse(note.text()).ok().as_ref(),
                Some(&cp),
                "open_checkpoint() disagrees with Checkpoint::parse on the note text"
            );
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
}

/// The input read as text: a checkpoint text round-trips, and a verifier key string is in its one
/// canonical spelling and carries its own key hash.
fn check_text_forms(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        checkpoint_round_trip(text);
        if let Ok(vkey) = VerifierKey::parse(text) {
            assert_eq!(
                vkey.to_string(),
                text,
                "a verifier key string parsed but is not in its one canonical spelling"
            );
            assert_eq!(
                vkey.key_hash(),
                note::key_hash(vkey.name(), vkey.public_key()),
                "a parsed verifier key carries a key hash that is not its own"
            );
        }
    }
}

/// A parsed note holds at most the allowed number of signature lines, its text ends in a
/// newline, and text + blank line + signature lines rebuild the input byte for byte.
fn check_note(data: &[u8], note: &Note) {
    assert!(
        note.text().ends_with('\n'),
        "a note text does not end in a newline"
    );
    let count = note.signatures().len();
    assert!(
        (1..=NOTE_SIGNATURES_MAX).contains(&count),
        "a note was parsed with {count} signature lines"
    );
    let mut rebuilt = String::with_capacity(data.len());
    rebuilt.push_str(note.text());
    rebuilt.push('\n');
    for sig in note.signatures() {
        let mut raw = sig.key_hash.to_be_bytes().to_vec();
        raw.extend_from_slice(&sig.signature);
        rebuilt.push_str("\u{2014} ");
        rebuilt.push_str(&sig.name);
        rebuilt.push(' ');
        rebuilt.push_str(&B64.encode(raw));
        rebuilt.push('\n');
    }
    assert!(
        rebuilt.as_bytes() == data,
        "Note::parse accepted bytes that its parts do not rebuild: a note has two spellings"
    );
}

/// If `text` parses as a checkpoint, `to_text()` gives `text` back and re-parses equal.
fn checkpoint_round_trip(text: &str) {
    let Ok(cp) = Checkpoint::parse(text) else {
        return;
    };
    let again = cp.to_text();
    assert_eq!(
        Checkpoint::parse(&again).ok().as_ref(),
        Some(&cp),
        "Checkpoint::to_text() does not re-parse to the same checkpoint"
    );
    assert_eq!(
        again, text,
        "a checkpoint text parsed but is not in its one spelling"
    );
}

/// Reads numbers and hashes off the front of the fuzz input; past its end it reads zeros, so any
/// input (including the empty one) gives a complete set of values.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    fn fill(&mut self, out: &mut [u8]) {
        let n = out.len().min(self.rest.len());
        let (head, tail) = self.rest.split_at(n);
        out[..n].copy_from_slice(head);
        self.rest = tail;
    }

    fn u8(&mut self) -> u8 {
        let mut b = [0u8; 1];
        self.fill(&mut b);
        b[0]
    }

    fn u16(&mut self) -> u16 {
        let mut b = [0u8; 2];
        self.fill(&mut b);
        u16::from_le_bytes(b)
    }

    fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b)
    }

    /// A tree size or index: mostly small (where the interesting shapes are), sometimes any u64.
    fn size(&mut self, wide: bool) -> u64 {
        if wide {
            self.u64()
        } else {
            u64::from(self.u16())
        }
    }

    fn hash(&mut self) -> Hash {
        let mut h = [0u8; 32];
        self.fill(&mut h);
        h
    }
}

/// Proof verification on attacker-chosen numbers and hashes must not panic (it does arithmetic
/// on sizes up to `u64::MAX`) and must agree with RFC 9162's own algorithm; and on a small
/// in-memory tree built from the input, genuine inclusion and consistency proofs verify while the
/// same proofs with one bit flipped do not.
pub fn proof_verify(data: &[u8]) {
    raw_proofs(data);
    genuine_proofs(data);
}

/// Input layout: mode byte (bit 0: sizes are full u64s instead of u16s), index, size, old size,
/// new size (little-endian), proof length (one byte), leaf hash, root, old root, new root, then
/// the proof hashes. The one proof is checked both as an inclusion and as a consistency proof.
fn raw_proofs(data: &[u8]) {
    let mut r = Reader::new(data);
    let wide = r.u8() & 1 == 1;
    let index = r.size(wide);
    let size = r.size(wide);
    let old = r.size(wide);
    let new = r.size(wide);
    let count = usize::from(r.u8());
    let leaf = r.hash();
    let root = r.hash();
    let old_root = r.hash();
    let new_root = r.hash();
    let proof: Vec<Hash> = (0..count).map(|_| r.hash()).collect();

    if check_inclusion(index, size, &leaf, &proof, &root) {
        assert!(
            proof.len() <= PROOF_HASHES_MAX,
            "an over-long inclusion proof verified"
        );
    }
    if check_consistency(old, new, &old_root, &new_root, &proof) {
        assert!(
            proof.len() <= PROOF_HASHES_MAX,
            "an over-long consistency proof verified"
        );
    }
}

/// Largest tree `genuine_proofs` builds: big enough for proofs of six levels and every shape of
/// border, small enough to build on every run.
const TREE_LEAVES_MAX: u64 = 70;

/// Input layout: leaf count, index, inclusion size, old size, new size (one byte each), two bit
/// positions (two bytes each), all reduced into range; then the leaf contents, four input bytes
/// per leaf.
fn genuine_proofs(data: &[u8]) {
    let mut r = Reader::new(data);
    let n = 1 + u64::from(r.u8()) % TREE_LEAVES_MAX;
    let index = u64::from(r.u8()) % n;
    let size = index + 1 + u64::from(r.u8()) % (n - index);
    let old = 1 + u64::from(r.u8()) % n;
    let new = old + u64::from(r.u8()) % (n - old + 1);
    let flip_a = usize::from(r.u16());
    let flip_b = usize::from(r.u16());
    let contents = r.rest;

    let (tree, leaf_hashes) = proof_tree(n, contents);
    genuine_inclusion(&tree, &leaf_hashes, index, size, flip_a, flip_b);
    genuine_consistency(&tree, old, new, flip_a, flip_b);
}

/// The in-memory tree of `n` leaves made from `contents`, checked to hold every leaf and to agree
/// on its root both ways; answers it with its leaf hashes.
fn proof_tree(n: u64, contents: &[u8]) -> (MemoryTree, Vec<Hash>) {
    // Leaf i is its number followed by the i-th four bytes of the input: every leaf differs, and
    // the input decides the hashes.
    let leaves: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let mut leaf = i.to_be_bytes().to_vec();
            let start = usize::try_from(i * 4).unwrap_or(usize::MAX);
            if let Some(chunk) = contents.get(start..) {
                leaf.extend(chunk.iter().take(4));
            }
            leaf
        })
        .collect();
    let leaf_hashes: Vec<Hash> = leaves.iter().map(|l| merkle::leaf_hash(l)).collect();
    let tree = MemoryTree::from_leaves(&leaves);
    assert_eq!(tree.size(), n, "MemoryTree lost a leaf");
    assert_eq!(
        merkle::root(&tree, n).ok(),
        Some(tree.root()),
        "the compact-range root and the node-source root differ"
    );
    (tree, leaf_hashes)
}

/// Inclusion of leaf `index` in the tree of the first `size` leaves: the genuine proof verifies;
/// with bit `flip_a` flipped in it (or in the leaf), against a root with bit `flip_b` flipped, or
/// for another leaf, it does not; under neighbouring indices and sizes the library and the RFC's
/// algorithm agree.
fn genuine_inclusion(
    tree: &MemoryTree,
    leaf_hashes: &[Hash],
    index: u64,
    size: u64,
    flip_a: usize,
    flip_b: usize,
) {
    let hash_of = |i: u64| {
        let i = usize::try_from(i).expect("i < n <= TREE_LEAVES_MAX fits in usize");
        leaf_hashes[i]
    };
    let leaf_hash = hash_of(index);
    let root = merkle::root(tree, size).expect("size <= n, so every node is in the tree");
    let proof =
        merkle::inclusion_proof(tree, index, size).expect("index < size <= n: the proof exists");
    assert!(
        proof.len() <= PROOF_HASHES_MAX,
        "an inclusion proof is longer than the limit"
    );
    assert!(
        check_inclusion(index, size, &leaf_hash, &proof, &root),
        "a genuine inclusion proof (leaf {index} of {size}) does not verify"
    );
    let mut bad_proof = proof.clone();
    let mut bad_leaf = leaf_hash;
    match bad_proof.len() {
        0 => flip_bit(&mut bad_leaf, flip_a),
        len => flip_bit(&mut bad_proof[flip_a / 256 % len], flip_a),
    }
    assert!(
        !check_inclusion(index, size, &bad_leaf, &bad_proof, &root),
        "an inclusion proof (leaf {index} of {size}) with one bit flipped still verifies"
    );
    let mut bad_root = root;
    flip_bit(&mut bad_root, flip_b);
    assert!(
        !check_inclusion(index, size, &leaf_hash, &proof, &bad_root),
        "an inclusion proof (leaf {index} of {size}) verified against a root with one bit flipped"
    );
    if size > 1 {
        let other = (index + 1) % size;
        assert!(
            !check_inclusion(index, size, &hash_of(other), &proof, &root),
            "leaf {other}'s hash verified with leaf {index}'s inclusion proof"
        );
    }
    // The genuine proof under neighbouring indices and sizes: whatever the answer, the library
    // and the RFC's algorithm must give the same one.
    for (i, s) in [
        (index ^ 1, size),
        (index, size + 1),
        (index, size - 1),
        (index + 1, size),
    ] {
        check_inclusion(i, s, &leaf_hash, &proof, &root);
    }
}

/// Consistency of the first `old` leaves with the first `new`: the genuine proof verifies; with
/// bit `flip_a` flipped in it (or in the new root), or against an old root with bit `flip_b`
/// flipped, it does not; under neighbouring sizes the library and the RFC's algorithm agree.
fn genuine_consistency(tree: &MemoryTree, old: u64, new: u64, flip_a: usize, flip_b: usize) {
    let old_root = merkle::root(tree, old).expect("old <= n, so every node is in the tree");
    let new_root = merkle::root(tree, new).expect("new <= n, so every node is in the tree");
    let proof =
        merkle::consistency_proof(tree, old, new).expect("0 < old <= new <= n: the proof exists");
    assert!(
        proof.len() <= PROOF_HASHES_MAX,
        "a consistency proof is longer than the limit"
    );
    assert!(
        check_consistency(old, new, &old_root, &new_root, &proof),
        "a genuine consistency proof ({old} -> {new}) does not verify"
    );
    let mut bad_proof = proof.clone();
    let mut bad_new_root = new_root;
    match bad_proof.len() {
        0 => flip_bit(&mut bad_new_root, flip_a),
        len => flip_bit(&mut bad_proof[flip_a / 256 % len], flip_a),
    }
    assert!(
        !check_consistency(old, new, &old_root, &bad_new_root, &bad_proof),
        "a consistency proof ({old} -> {new}) with one bit flipped still verifies"
    );
    let mut bad_old_root = old_root;
    flip_bit(&mut bad_old_root, flip_b);
    assert!(
        !check_consistency(old, new, &bad_old_root, &new_root, &proof),
        "a consistency proof ({old} -> {new}) verified against an old root with one bit flipped"
    );
    for (o, s) in [
        (old - 1, new),
        (old + 1, new),
        (old, new + 1),
        (old, new - 1),
    ] {
        check_consistency(o, s, &old_root, &new_root, &proof);
    }
}

/// Flips bit `position % 256` of a hash.
fn flip_bit(hash: &mut Hash, position: usize) {
    let bit = position % 256;
    hash[bit / 8] ^= 1 << (bit % 8);
}

/// `merkle::verify_inclusion`, asserted to agree with [`rfc9162_inclusion`]; true if it verified.
fn check_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    let ours = merkle::verify_inclusion(index, size, leaf, proof, root);
    let reference = rfc9162_inclusion(index, size, leaf, proof, root);
    assert_eq!(
        ours.is_ok(),
        reference,
        "verify_inclusion(index {index}, size {size}, {} hashes) says {ours:?}; RFC 9162 says {reference}",
        proof.len()
    );
    if ours.is_ok() {
        assert!(
            index < size,
            "an inclusion proof verified for index {index} >= size {size}"
        );
    }
    ours.is_ok()
}

/// `merkle::verify_consistency`, asserted to agree with [`rfc9162_consistency`] where the RFC
/// defines the answer (0 < old < new) and with the documented rules elsewhere; true if it
/// verified.
fn check_consistency(old: u64, new: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]) -> bool {
    let ours = merkle::verify_consistency(old, new, old_root, new_root, proof);
    let expected = if old == 0 || old > new {
        false
    } else if old == new {
        proof.is_empty() && old_root == new_root
    } else {
        rfc9162_consistency(old, new, old_root, new_root, proof)
    };
    assert_eq!(
        ours.is_ok(),
        expected,
        "verify_consistency({old} -> {new}, {} hashes) says {ours:?}; RFC 9162 says {expected}",
        proof.len()
    );
    ours.is_ok()
}

/// RFC 9162 §2.1.3.2, step by step as the RFC writes it: an independent oracle for
/// `verify_inclusion`, which computes the same thing another way.
fn rfc9162_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = merkle::node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = merkle::node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

/// RFC 9162 §2.1.4.2 for 0 < first < second, step by step as the RFC writes it: an independent
/// oracle for `verify_consistency`.
fn rfc9162_consistency(
    first: u64,
    second: u64,
    first_hash: &Hash,
    second_hash: &Hash,
    proof: &[Hash],
) -> bool {
    debug_assert!(
        0 < first && first < second,
        "the RFC's algorithm is for 0 < first < second"
    );
    if proof.is_empty() {
        return false;
    }
    let mut path = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_hash);
    }
    path.extend_from_slice(proof);
    let (mut fnode, mut snode) = (first - 1, second - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let Some((start, rest)) = path.split_first() else {
        return false;
    };
    let (mut fr, mut sr) = (*start, *start);
    for c in rest {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = merkle::node_hash(c, &fr);
            sr = merkle::node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = merkle::node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    fr == *first_hash && sr == *second_hash && snode == 0
}

/// `Signature-Input` and `Signature` headers of a read request, as the server receives them.
/// Input: the two header values and then the path and query, one per line. Whatever parses must
/// re-parse from its own serialization; a request signed by the test key must always parse and
/// verify, whatever its path and query.
pub fn http_signature(data: &[u8]) {
    use crate::format::httpsig::{self, Presented, RequestParts};
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(4, '\n');
    let input = lines.next();
    let signature = lines.next();
    let path = lines.next().unwrap_or("/");
    let query = lines.next();
    let request = RequestParts {
        method: "GET",
        authority: "custody.example:8443",
        path,
        query,
        headers: vec![("x-custody-test", "1")],
    };
    if let Ok(p) = Presented::from_request(&request, input, signature) {
        let _ = p.check_time(1_800_000_000);
        let _ = p.verify(&test_key().public());
        let again = httpsig::parse_signature_input(&format!("custody={}", p.input.serialized))
            .expect("a parsed Signature-Input re-parses from its own value");
        assert_eq!(
            again, p.input,
            "parsing is a function of the member's value"
        );
    }
    let (si, sg) = httpsig::sign(test_key(), &request, 1_800_000_000);
    let own = Presented::from_request(&request, Some(&si), Some(&sg))
        .expect("a signature made by custody parses");
    own.verify(&test_key().public())
        .expect("a signature made by custody verifies over the same request");
}

/// A request to the HTTP API as the server receives it, through the real router (routing, path
/// and query extraction, signed-read headers, body limits, statement parsing), against a small
/// ledger made once per process. Input: the method's index in the first byte, then the
/// path-and-query line, header lines `name: value`, an empty line and the body. Every answer must
/// be a documented status, and every error must carry the JSON error body with a code and a
/// message; no input may make the server fail internally.
pub fn http_request(data: &[u8]) {
    use axum::body::Body;
    use tower::ServiceExt as _;
    let Some((&method, rest)) = data.split_first() else {
        return;
    };
    let method = ["GET", "POST", "PUT", "DELETE", "HEAD"][usize::from(method) % 5];
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (rest, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let target = lines.next().unwrap_or("/");
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(target)
        .header("host", "custody.fuzz.example");
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            request = request.header(name.trim(), value.trim());
        }
    }
    // What the HTTP layer itself would refuse (a malformed URI or header) never reaches us.
    let Ok(request) = request.body(Body::from(body.to_vec())) else {
        return;
    };
    let (runtime, router) = http_fixture();
    let (status, bytes) = runtime.block_on(async {
        let response = router
            .clone()
            .oneshot(request)
            .await
            .expect("the router's error type is Infallible");
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
            .await
            .expect("a response body is read whole");
        (status, bytes)
    });
    const DOCUMENTED: [u16; 14] = [
        200, 201, 400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 503, 429,
    ];
    assert!(
        DOCUMENTED.contains(&status),
        "status {status} is not one the API documents: {}",
        String::from_utf8_lossy(&bytes)
    );
    if status >= 400 && method != "HEAD" {
        let error: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "an error body is JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert!(
            error["error"]["code"].is_string() && error["error"]["message"].is_string(),
            "an error body names a code and a message: {error}"
        );
    }
}

/// The runtime and router `http_request` uses: one ledger in a fresh temporary folder, with the
/// test key as its administrator, made on first use.
fn http_fixture() -> &'static (tokio::runtime::Runtime, axum::Router) {
    use crate::app::compose::{self, OfficerInput};
    use crate::base::ids::{OfficerId, OfficerRole, Origin};
    static FIXTURE: OnceLock<(tokio::runtime::Runtime, axum::Router)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("custody-fuzz-http-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let admin = OfficerInput {
            id: OfficerId::parse("197905112005011002").expect("a valid NIP"),
            name: "Fuzz Admin".into(),
            agency: "imipas".into(),
            unit: "TU".into(),
            roles: vec![OfficerRole::Admin],
            public_key: test_key().public(),
            rank: None,
        };
        let origin = Origin::parse(TEST_ORIGIN).expect("TEST_ORIGIN is a valid origin");
        let clock: std::sync::Arc<dyn crate::base::time::Clock> =
            std::sync::Arc::new(crate::base::time::SystemClock);
        let (ledger, _) = compose::init_ledger(&dir, &origin, "FUZZ", clock, &admin, test_key())
            .expect("a fuzz ledger is created in the temporary folder");
        let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let config = crate::edge::server::ServeConfig {
            public_names: vec!["custody.fuzz.example".into()],
            ..crate::edge::server::ServeConfig::new(listen, None)
        };
        let router = crate::edge::server::app(std::sync::Arc::new(ledger), &config, listen);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime starts");
        (runtime, router)
    })
}

/// An item bundle (`custody bundle export`), verified with the key the bundle itself names (so
/// the fuzzer reaches past the key check). Verification answers Ok or Err for any bytes, gives
/// the same answer twice, and what it accepts is internally consistent.
pub fn bundle_verify(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        let _ = crate::app::bundle::verify(data, test_checkpoint_vkey(), as_of());
        return;
    };
    let Some(vkey) = value["vkey"]
        .as_str()
        .and_then(|k| VerifierKey::parse(k).ok())
    else {
        let _ = crate::app::bundle::verify(data, test_checkpoint_vkey(), as_of());
        return;
    };
    let first = crate::app::bundle::verify(data, &vkey, as_of());
    let second = crate::app::bundle::verify(data, &vkey, as_of());
    assert_eq!(
        first
            .as_ref()
            .map(|r| serde_json::to_string(r).expect("serializes"))
            .ok(),
        second
            .as_ref()
            .map(|r| serde_json::to_string(r).expect("serializes"))
            .ok(),
        "verification is a function of its input"
    );
    if let Ok(report) = first {
        let entries = value["entries"].as_array().map_or(0, Vec::len);
        assert_eq!(report.entries, entries, "every entry was verified");
        for e in value["entries"].as_array().into_iter().flatten() {
            let seq = e["seq"].as_u64().expect("an accepted entry has a seq");
            assert!(
                seq < report.checkpoint_size,
                "an accepted entry lies inside the checkpoint"
            );
        }
    }
}

fn as_of() -> crate::base::time::Timestamp {
    crate::base::time::Timestamp::parse("2025-09-01T00:00:00Z").expect("a valid timestamp")
}

/// `JournalStore::open` on a segment file holding `data`: it opens or refuses as corrupt (never
/// another error, never a panic); what it opens reads back whole, and opening again cuts nothing
/// more and finds the same entries (a cut is made once, durably).
pub fn journal_open(data: &[u8]) {
    use crate::storage::fault::StoreError;
    use crate::storage::journal::JournalStore;
    use crate::storage::log::LogStore as _;
    let dir = ScratchDir::new();
    let segment = dir.0.join("00000000000000000000.journal");
    std::fs::write(&segment, data).expect("the segment is written");
    let (store, cut) = match JournalStore::open(&dir.0) {
        Ok(opened) => opened,
        Err(StoreError::Corrupt(why)) => {
            assert!(!why.is_empty(), "a refusal says why");
            return;
        }
        Err(other) => panic!("a journal's bytes gave an error that is not corruption: {other}"),
    };
    let entries = store
        .read(0, store.len())
        .expect("every entry of an opened journal reads back");
    let kept = std::fs::metadata(&segment).map_or(0, |m| m.len());
    assert_eq!(
        kept + cut.bytes,
        data.len() as u64,
        "the cut and what is kept add up to the file"
    );
    drop(store);
    let (again, cut) = JournalStore::open(&dir.0).expect("a journal opened once opens again");
    assert_eq!(cut.bytes, 0, "a second open cuts nothing more");
    assert_eq!(
        again.read(0, again.len()).expect("reads back"),
        entries,
        "a second open finds the same entries"
    );
}

/// A folder of its own under the system's temporary folder, removed when dropped.
struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    fn new() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("custody-fuzz-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a temporary folder");
        Self(path)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

//! The ledger through its library API: group commit under concurrent writers, idempotent retries
//! racing each other, the crash window between flush and checkpoint, a clock that goes backwards,
//! and a property test over random identity histories (every refusal changes nothing; the log
//! verifies and reopens to the same state).

use custody::Envelope;
use custody::SecretKey;
use custody::compose::{self, OfficerInput};
use custody::merkle;
use custody::note;
use custody::verify;
use custody::{AppendError, Ledger};
use custody::{ManualClock, Timestamp};
use custody::{OfficerId, OfficerRole, Origin};
use proptest::prelude::*;
use std::path::Path;
use std::sync::Arc;

const FACILITY: &str = "LPN-JAKARTA";

fn officer_id(n: u64) -> OfficerId {
    OfficerId::parse(&format!("1985071420101{:05}", n)).expect("valid NIP")
}

fn input(n: u64, key: &SecretKey, role: OfficerRole) -> OfficerInput {
    OfficerInput {
        id: officer_id(n),
        name: format!("Petugas {n}"),
        agency: "imipas".into(),
        unit: "KPLP".into(),
        roles: vec![role],
        public_key: key.public(),
        rank: None,
    }
}

struct World {
    clock: Arc<ManualClock>,
    admin: SecretKey,
    officers: Vec<SecretKey>,
}

fn start() -> Timestamp {
    Timestamp::parse("2025-08-04T01:00:00Z").expect("valid")
}

/// A ledger with an admin (officer 0) and `n` gate officers (1..=n).
fn new_ledger(dir: &Path, n: u64) -> (Ledger, World) {
    let clock = Arc::new(ManualClock::new(start()));
    let admin = SecretKey::from_seed(&[1; 32]);
    let origin = Origin::parse("custody.test/ledger").expect("valid");
    let admin_in = input(0, &admin, OfficerRole::Admin);
    let (ledger, _) = Ledger::init(dir, &origin, clock.clone(), |vkey| {
        let b = compose::genesis(
            clock.as_ref(),
            FACILITY,
            origin.as_str(),
            &vkey.to_string(),
            &admin_in,
        )
        .map_err(|e| AppendError::Stopped(custody::words::Explain::explain(&e)))?;
        compose::sign_statement(b, &[&admin])
            .map_err(|e| AppendError::Stopped(custody::words::Explain::explain(&e)))
    })
    .expect("init");
    let mut officers = Vec::new();
    for i in 1..=n {
        let key = SecretKey::from_seed(&[i as u8 + 1; 32]);
        let b = compose::enrollment(
            clock.as_ref(),
            FACILITY,
            &officer_id(0),
            &input(i, &key, OfficerRole::GateOfficer),
            None,
        )
        .expect("compose");
        ledger
            .submit_envelope(compose::sign_statement(b, &[&admin]).expect("sign"))
            .expect("enroll");
        officers.push(key);
    }
    (
        ledger,
        World {
            clock,
            admin,
            officers,
        },
    )
}

fn note(w: &World, officer: u64, key: &SecretKey, text: &str) -> Envelope {
    let b = compose::note(w.clock.as_ref(), FACILITY, &officer_id(officer), text, None)
        .expect("compose");
    compose::sign_statement(b, &[key]).expect("sign")
}

fn verify_ledger(ledger: &Ledger) -> verify::Report {
    let cp = ledger.checkpoint();
    verify::verify_log(
        ledger.store(),
        cp.note.as_bytes(),
        ledger.verifier_key(),
        &mut |_, _| {},
    )
    .expect("the ledger verifies")
}

#[test]
fn concurrent_writers_each_get_a_distinct_durable_seq_with_a_valid_proof() {
    let dir = tempfile::tempdir().expect("temp");
    let (ledger, w) = new_ledger(&dir.path().join("l"), 8);
    let base = ledger.checkpoint().size;
    let ledger = Arc::new(ledger);
    let envelopes: Vec<Vec<Envelope>> = (0..8u64)
        .map(|o| {
            (0..40)
                .map(|i| note(&w, o + 1, &w.officers[o as usize], &format!("note {o}/{i}")))
                .collect()
        })
        .collect();
    let receipts: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = envelopes
            .into_iter()
            .map(|batch| {
                let ledger = Arc::clone(&ledger);
                s.spawn(move || {
                    batch
                        .into_iter()
                        .map(|e| ledger.submit_envelope(e).expect("appended"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("writer"))
            .collect()
    });
    let mut seqs: Vec<u64> = receipts.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 320, "every statement got its own seq");
    assert_eq!(ledger.checkpoint().size, base + 320);
    for r in &receipts {
        assert!(
            r.checkpoint.size > r.seq,
            "the checkpoint in the receipt covers the statement"
        );
        let proof = ledger
            .inclusion_proof(r.seq, r.checkpoint.size)
            .expect("proof");
        merkle::verify_inclusion(
            r.seq,
            r.checkpoint.size,
            &r.leaf_hash,
            &proof,
            &r.checkpoint.root,
        )
        .expect("each receipt's proof verifies against its checkpoint");
    }
    assert_eq!(verify_ledger(&ledger).size, base + 320);
}

#[test]
fn a_retry_racing_itself_appends_once() {
    let dir = tempfile::tempdir().expect("temp");
    let (ledger, w) = new_ledger(&dir.path().join("l"), 1);
    let size = ledger.checkpoint().size;
    let env = note(&w, 1, &w.officers[0], "sent four times");
    let ledger = Arc::new(ledger);
    let receipts: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (ledger, env) = (Arc::clone(&ledger), env.clone());
                s.spawn(move || ledger.submit_envelope(env).expect("answered"))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(
        receipts
            .iter()
            .all(|r| r.seq == size && r.leaf_hash == receipts[0].leaf_hash)
    );
    assert_eq!(receipts.iter().filter(|r| !r.duplicate).count(), 1);
    assert_eq!(ledger.checkpoint().size, size + 1);
}

#[test]
fn leaves_flushed_but_never_checkpointed_get_a_consistent_checkpoint_on_open() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("l");
    let (ledger, w) = new_ledger(&path, 1);
    let old = ledger.checkpoint();
    let slots = std::fs::read(path.join("private/checkpoint.slots")).expect("read");
    for i in 0..3 {
        ledger
            .submit_envelope(note(&w, 1, &w.officers[0], &format!("n{i}")))
            .expect("append");
    }
    let head = ledger.checkpoint().size;
    drop(ledger);
    // Simulate a crash after the flush but before the checkpoint write: the outside file is old.
    std::fs::write(path.join("private/checkpoint.slots"), slots).expect("write");
    let ledger = Ledger::open_with_clock(&path, w.clock.clone()).expect("reopens");
    let new = ledger.checkpoint();
    assert_eq!(
        new.size, head,
        "the flushed leaves are kept and checkpointed"
    );
    let proof = ledger.consistency_proof(old.size, new.size).expect("proof");
    merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof)
        .expect("the new checkpoint extends the old one");
    verify_ledger(&ledger);
}

#[test]
fn recorded_at_never_goes_backwards() {
    let dir = tempfile::tempdir().expect("temp");
    let (ledger, w) = new_ledger(&dir.path().join("l"), 1);
    let first = ledger
        .submit_envelope(note(&w, 1, &w.officers[0], "a"))
        .expect("append");
    w.clock
        .set(Timestamp::parse("2020-01-01T00:00:00Z").expect("valid"));
    let second = ledger
        .submit_envelope(note(&w, 1, &w.officers[0], "b"))
        .expect("append");
    let leaf = |seq| {
        custody::Leaf::decode(&ledger.leaf(seq).expect("read").expect("present")).expect("decodes")
    };
    assert!(leaf(second.seq).recorded_at >= leaf(first.seq).recorded_at);
    verify_ledger(&ledger);
}

#[test]
fn reopening_restores_who_may_sign() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("l");
    let (ledger, w) = new_ledger(&path, 2);
    // Rotate officer 1's key and revoke officer 2, then reopen.
    let new_key = SecretKey::from_seed(&[99; 32]);
    let b = compose::rotation(
        w.clock.as_ref(),
        FACILITY,
        &officer_id(0),
        &officer_id(1),
        &new_key.public(),
        "new phone",
    )
    .expect("compose");
    ledger
        .submit_envelope(compose::sign_statement(b, &[&w.admin, &w.officers[0]]).expect("sign"))
        .expect("rotate");
    let b = compose::revocation(
        w.clock.as_ref(),
        FACILITY,
        &officer_id(0),
        &officer_id(2),
        "transfer",
    )
    .expect("compose");
    ledger
        .submit_envelope(compose::sign_statement(b, &[&w.admin]).expect("sign"))
        .expect("revoke");
    let before = ledger.state();
    drop(ledger);
    let ledger = Ledger::open_with_clock(&path, w.clock.clone()).expect("reopens");
    assert_eq!(
        ledger.state().officers().collect::<Vec<_>>(),
        before.officers().collect::<Vec<_>>()
    );
    assert!(
        ledger
            .submit_envelope(note(&w, 1, &w.officers[0], "old key"))
            .is_err()
    );
    assert!(
        ledger
            .submit_envelope(note(&w, 1, &new_key, "new key"))
            .is_ok()
    );
    assert!(
        ledger
            .submit_envelope(note(&w, 2, &w.officers[1], "revoked"))
            .is_err()
    );
}

/// One step of a random identity history. Many are invalid on purpose.
#[derive(Debug, Clone)]
enum Step {
    Enroll {
        officer: u64,
        key: u8,
        by: u64,
    },
    Rotate {
        officer: u64,
        key: u8,
        by: u64,
        old: u8,
    },
    Revoke {
        officer: u64,
        by: u64,
    },
    Note {
        officer: u64,
        key: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1..6u64, 10..30u8, 0..3u64).prop_map(|(officer, key, by)| Step::Enroll {
            officer,
            key,
            by
        }),
        (0..6u64, 10..30u8, 0..3u64, 1..30u8).prop_map(|(officer, key, by, old)| Step::Rotate {
            officer,
            key,
            by,
            old
        }),
        (0..6u64, 0..3u64).prop_map(|(officer, by)| Step::Revoke { officer, by }),
        (0..6u64, 1..30u8).prop_map(|(officer, key)| Step::Note { officer, key }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_identity_histories_refuse_without_change_and_verify(steps in proptest::collection::vec(step(), 1..25)) {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("l");
        let (ledger, w) = new_ledger(&path, 0);
        // Key seeds: 1 is the admin's; others are officers' candidate keys.
        let key = |seed: u8| SecretKey::from_seed(&[seed; 32]);
        for s in steps {
            w.clock.advance_ms(1000);
            let before = (ledger.state(), ledger.checkpoint());
            let (bytes, signers) = match &s {
                Step::Enroll { officer, key: k, by } => (
                    compose::enrollment(w.clock.as_ref(), FACILITY, &officer_id(*by), &input(*officer, &key(*k), OfficerRole::GateOfficer), None),
                    vec![if *by == 0 { 1 } else { *k }],
                ),
                Step::Rotate { officer, key: k, by, old } => (
                    compose::rotation(w.clock.as_ref(), FACILITY, &officer_id(*by), &officer_id(*officer), &key(*k).public(), "rotate"),
                    vec![if *by == 0 { 1 } else { *k }, *old],
                ),
                Step::Revoke { officer, by } => (
                    compose::revocation(w.clock.as_ref(), FACILITY, &officer_id(*by), &officer_id(*officer), "revoke"),
                    vec![if *by == 0 { 1 } else { 2 }],
                ),
                Step::Note { officer, key: k } => (
                    compose::note(w.clock.as_ref(), FACILITY, &officer_id(*officer), "note", None),
                    vec![*k],
                ),
            };
            let keys: Vec<SecretKey> = signers.iter().map(|s| key(*s)).collect();
            let refs: Vec<&SecretKey> = keys.iter().collect();
            let env = compose::sign_statement(bytes.expect("compose"), &refs).expect("sign");
            match ledger.submit_envelope(env) {
                Ok(r) => prop_assert_eq!(r.seq, before.1.size),
                Err(_) => {
                    prop_assert_eq!(&*ledger.state(), &*before.0, "a refusal changed who may sign");
                    prop_assert_eq!(&*ledger.checkpoint(), &*before.1, "a refusal changed the log");
                }
            }
        }
        let state = ledger.state();
        let report = verify_ledger(&ledger);
        prop_assert_eq!(report.size, ledger.checkpoint().size);
        drop(ledger);
        let reopened = Ledger::open_with_clock(&path, w.clock.clone()).unwrap_or_else(|e| panic!("reopen failed: {e}"));
        // The published state is refreshed on identity changes; compare who may sign.
        let officers = |s: &custody::rules::State| s.officers().cloned().collect::<Vec<_>>();
        prop_assert_eq!(officers(&reopened.state()), officers(&state));
        prop_assert!(note::VerifierKey::parse(&reopened.verifier_key().to_string()).is_ok());
    }
}

/// The ledger's proofs equal those computed from the plain store, against its signed roots.
fn proofs_match_the_store(ledger: &Ledger, seqs: &[u64]) {
    let size = ledger.checkpoint().size;
    let root = ledger.checkpoint().root;
    for &seq in seqs.iter().filter(|s| **s < size) {
        let proof = ledger.inclusion_proof(seq, size).expect("proof");
        let plain = merkle::inclusion_proof(ledger.store(), seq, size).expect("plain proof");
        assert_eq!(proof, plain, "leaf {seq} in the tree of {size}");
        let leaf = merkle::NodeSource::node(ledger.store(), 0, seq).expect("leaf hash");
        merkle::verify_inclusion(seq, size, &leaf, &proof, &root).expect("verifies");
        let old = seq + 1;
        let proof = ledger
            .consistency_proof(old, size)
            .expect("consistency proof");
        let plain = merkle::consistency_proof(ledger.store(), old, size).expect("plain proof");
        assert_eq!(proof, plain, "size {old} to {size}");
        let old_root = ledger.root_at(old).expect("old root");
        assert_eq!(
            old_root,
            merkle::root(ledger.store(), old).expect("plain root")
        );
        if old < size {
            merkle::verify_consistency(old, size, &old_root, &root, &proof).expect("verifies");
        }
    }
}

#[test]
fn proofs_through_the_upper_tree_cache_equal_the_stores_across_appends_and_reopen() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("l");
    let (ledger, w) = new_ledger(&path, 1);
    let seqs = [0, 1, 200, 255, 256, 300, 511, 512, 520];
    // Past 512 leaves: nodes at levels 8 and 9 are completed by appends while the ledger is open.
    for i in 0..530u64 {
        ledger
            .submit_envelope(note(&w, 1, &w.officers[0], &format!("note {i}")))
            .expect("appended");
        if i % 64 == 0 || (250..260).contains(&i) || (505..515).contains(&i) {
            proofs_match_the_store(&ledger, &seqs);
        }
    }
    ledger.close();
    drop(ledger);
    // Reopened: the cache is loaded from the store in one pass.
    let ledger = Ledger::open(&path).expect("reopen");
    assert!(ledger.checkpoint().size > 512);
    proofs_match_the_store(&ledger, &seqs);
}

/// The ledger's store, with the leaf at `seq` read as `bytes` instead.
struct OneLeafReplaced<'a> {
    store: &'a custody::LedgerStore,
    seq: u64,
    bytes: Vec<u8>,
}

impl verify::LogSource for OneLeafReplaced<'_> {
    fn leaf(&self, seq: u64) -> Result<Vec<u8>, verify::VerifyError> {
        if seq == self.seq {
            return Ok(self.bytes.clone());
        }
        verify::LogSource::leaf(self.store, seq)
    }

    fn check_node(
        &self,
        level: u8,
        index: u64,
        hash: &merkle::Hash,
    ) -> Result<(), verify::VerifyError> {
        verify::LogSource::check_node(self.store, level, index, hash)
    }
}

/// Leaf `seq` with its signature replaced by the one on leaf `other`: the same key, another
/// payload.
fn with_signature_of(ledger: &Ledger, seq: u64, other: u64) -> Vec<u8> {
    let leaf = |seq| {
        let bytes = ledger.leaf(seq).expect("read").expect("present");
        let sig = custody::Leaf::decode(&bytes)
            .expect("decodes")
            .envelope
            .signatures()[0]
            .sig
            .to_base64();
        (String::from_utf8(bytes).expect("a leaf is UTF-8"), sig)
    };
    let ((text, sig), (_, other_sig)) = (leaf(seq), leaf(other));
    assert_eq!(text.matches(&sig).count(), 1);
    text.replace(&sig, &other_sig).into_bytes()
}

#[test]
fn a_bad_signature_is_reported_at_its_seq_wherever_it_lies_in_the_log() {
    let dir = tempfile::tempdir().expect("temp");
    let (ledger, w) = new_ledger(&dir.path().join("l"), 1);
    let base = ledger.checkpoint().size;
    let notes = 3 * verify::VERIFY_CHUNK_LEAVES + 40;
    for i in 0..notes {
        ledger
            .submit_envelope(note(&w, 1, &w.officers[0], &format!("note {i}")))
            .expect("append");
    }
    let cp = ledger.checkpoint();
    let verify_with = |seq: u64| {
        let source = OneLeafReplaced {
            store: ledger.store(),
            seq,
            bytes: with_signature_of(&ledger, seq, base),
        };
        verify::verify_log(
            &source,
            cp.note.as_bytes(),
            ledger.verifier_key(),
            &mut |_, _| {},
        )
        .expect_err("a leaf with another statement's signature does not verify")
        .to_string()
    };
    // The first note (the first chunk) against notes far into later chunks, decoded while the
    // chunks before them are still being checked in order.
    let first = verify_with(base + 1);
    assert!(
        first.starts_with(&format!("seq {}: signature by officer", base + 1)),
        "{first}"
    );
    assert!(first.contains("does not verify"), "{first}");
    let rule = first.split_once(": ").expect("seq: rule").1;
    for seq in [
        base + verify::VERIFY_CHUNK_LEAVES + 7,
        cp.size - 2,
        cp.size - 1,
    ] {
        assert_eq!(verify_with(seq), format!("seq {seq}: {rule}"));
    }
    assert_eq!(verify_ledger(&ledger).size, cp.size);
}

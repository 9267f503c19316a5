//! Full verification of a log: every leaf decoded in canonical form, in order, hash-chained,
//! schema-valid, signed by every required signer with a key valid at that position, passing the
//! custody rules, and the Merkle root equal to a checkpoint signed by the ledger's key. Owns the
//! one verification loop used for a sled ledger and for a tlog-tiles export alike. Never writes
//! anything and never trusts a stored hash it can recompute.

use crate::base::ids::{ItemId, Origin};
use crate::base::time::Timestamp;
use crate::domain::custody::{self, ItemState};
use crate::domain::rules::{self, PreVerified};
use crate::format::leaf::{GENESIS_PREV, Leaf};
use crate::format::merkle::{self, CompactRange, Hash};
use crate::format::note::{self, VerifierKey};
use crate::format::statement::{Statement, StatementType};
use std::collections::{BTreeMap, HashMap};

/// Leaves verified per parallel step: large enough to keep both cores busy, small enough that the
/// identity state used for pre-verification is rarely stale.
const VERIFY_CHUNK_LEAVES: u64 = 2048;

/// The first thing found wrong. Verification stops there: everything after a broken leaf is
/// unverifiable.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("seq {seq}: {rule}")]
    Leaf { seq: u64, rule: String },
    #[error("Merkle node (level {level}, index {index}): {rule}")]
    Node { level: u8, index: u64, rule: String },
    #[error(
        "Merkle root of the {size} leaves does not equal the root in the signed checkpoint: the log differs from what was signed"
    )]
    Root { size: u64 },
    #[error("cannot read the log: {0}")]
    Read(String),
    #[error("the export is malformed: {0}")]
    Malformed(String),
}

/// Where verification reads leaves and checks stored Merkle nodes from.
pub trait LogSource: Sync {
    /// The leaf bytes at `seq`, or an error naming what is missing.
    fn leaf(&self, seq: u64) -> Result<Vec<u8>, VerifyError>;
    /// Compares a recomputed complete node with the stored copy, if the source stores nodes.
    fn check_node(&self, level: u8, index: u64, hash: &Hash) -> Result<(), VerifyError>;
}

/// What a successful verification establishes.
#[derive(Debug, Clone)]
pub struct Report {
    pub origin: Origin,
    pub size: u64,
    pub root: Hash,
    pub statements: BTreeMap<&'static str, u64>,
    pub officers_enrolled: usize,
    pub officers_revoked: usize,
    pub items: usize,
    pub first_recorded_at: Option<Timestamp>,
    pub last_recorded_at: Option<Timestamp>,
}

/// Verifies the signed checkpoint `checkpoint_note` with `vkey`, then every leaf it covers.
/// `progress(done, total)` is called as leaves are verified.
pub fn verify_log(
    source: &dyn LogSource,
    checkpoint_note: &[u8],
    vkey: &VerifierKey,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Report, VerifyError> {
    let checkpoint = note::open_checkpoint(checkpoint_note, vkey)
        .map_err(|e| VerifyError::Checkpoint(e.to_string()))?;
    let mut verifier = Verifier::new(checkpoint.origin.clone(), vkey);
    verifier.advance(source, checkpoint.size, progress)?;
    verifier.finish(&checkpoint)
}

/// Verification that can stop at one size and go on later from there, so a log that keeps
/// growing (the torture harness checks it after every crash) is verified once, not once per
/// look. What it has verified is only ever extended: a later `finish` against a checkpoint
/// compares the root of every leaf seen so far.
pub struct Verifier {
    state: rules::State,
    range: CompactRange,
    prev: Hash,
    last_recorded: Option<Timestamp>,
    first_recorded: Option<Timestamp>,
    ids: HashMap<[u8; 16], u64>,
    counts: BTreeMap<&'static str, u64>,
    items: HashMap<ItemId, ItemState>,
    threads: usize,
}

impl Verifier {
    pub fn new(origin: Origin, vkey: &VerifierKey) -> Self {
        Self {
            state: rules::State::new(origin, vkey.to_string()),
            range: CompactRange::new(),
            prev: GENESIS_PREV,
            last_recorded: None,
            first_recorded: None,
            ids: HashMap::new(),
            counts: BTreeMap::new(),
            items: HashMap::new(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// How many leaves have been verified.
    pub fn size(&self) -> u64 {
        self.range.size()
    }

    /// Verifies leaves from `self.size()` up to (not including) `to`.
    pub fn advance(
        &mut self,
        source: &dyn LogSource,
        to: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), VerifyError> {
        let threads = self.threads;
        let chunk_end = |start: u64| (start + VERIFY_CHUNK_LEAVES).min(to);
        // While one chunk goes through the sequential checks (chain, rules, custody, Merkle),
        // the next one is read, decoded and has its signatures checked on the other cores.
        // Its pre-verification uses the identity state as of the chunk before; a key enrolled in
        // between is simply verified again, sequentially, by `rules::check`.
        std::thread::scope(|s| {
            let decode = |start: u64, state: rules::State| {
                s.spawn(move || {
                    decode_chunk(
                        source,
                        &state,
                        start,
                        chunk_end(start),
                        threads,
                        Signatures::Verify,
                    )
                })
            };
            let mut start = self.size();
            let mut next = (start < to).then(|| decode(start, self.state.clone()));
            while let Some(pending) = next.take() {
                let decoded = pending.join().unwrap_or_else(|_| {
                    Err(VerifyError::Read("a verification thread panicked".into()))
                })?;
                let end = chunk_end(start);
                if end < to {
                    next = Some(decode(end, self.state.clone()));
                }
                for (offset, item) in decoded.into_iter().enumerate() {
                    self.one(source, start + offset as u64, item?)?;
                }
                progress(end, to);
                start = end;
            }
            Ok(())
        })
    }

    fn one(
        &mut self,
        source: &dyn LogSource,
        seq: u64,
        (bytes, leaf, statement, pre): (Vec<u8>, Leaf, Statement, PreVerified),
    ) -> Result<(), VerifyError> {
        let fail = |rule: String| VerifyError::Leaf { seq, rule };
        if leaf.seq != seq {
            return Err(fail(format!(
                "the leaf says it is seq {}; leaves were removed, inserted or reordered",
                leaf.seq
            )));
        }
        if leaf.prev != self.prev {
            return Err(fail(format!(
                "prev does not equal the hash of leaf {}; the hash chain is broken",
                seq.wrapping_sub(1)
            )));
        }
        if self
            .last_recorded
            .is_some_and(|last| leaf.recorded_at < last)
        {
            return Err(fail(
                "recorded_at is earlier than the previous leaf's".into(),
            ));
        }
        if let Some(first) = self.ids.insert(*statement.id.as_bytes(), seq) {
            return Err(fail(format!(
                "statement id {} was already recorded at seq {first}",
                statement.id
            )));
        }
        let kind = statement.kind;
        let leaf_hash = merkle::leaf_hash(&bytes);
        let items = &self.items;
        let view = |id: &ItemId| items.get(id).cloned();
        let admitted = custody::admit(&self.state, &view, leaf.envelope, statement, Some(&pre))
            .map_err(|e| fail(e.to_string()))?;
        let changes = custody::apply(&self.state, &view, &admitted, &leaf_hash, leaf.recorded_at);
        for c in changes {
            self.items.insert(c.after.id.clone(), c.after);
        }
        rules::apply(&mut self.state, &admitted);
        *self.counts.entry(kind.as_str()).or_default() += 1;
        for (level, index, hash) in self.range.append(leaf_hash) {
            source.check_node(level, index, &hash)?;
        }
        self.prev = leaf_hash;
        self.first_recorded.get_or_insert(leaf.recorded_at);
        self.last_recorded = Some(leaf.recorded_at);
        Ok(())
    }

    /// Checks that the leaves verified so far are exactly those `checkpoint` signed, and sums
    /// them up.
    pub fn finish(&self, checkpoint: &note::Checkpoint) -> Result<Report, VerifyError> {
        let size = checkpoint.size;
        if self.size() != size || self.range.root() != checkpoint.root {
            return Err(VerifyError::Root { size });
        }
        Ok(Report {
            origin: checkpoint.origin.clone(),
            size,
            root: checkpoint.root,
            statements: self.counts.clone(),
            officers_enrolled: self.state.officers().count(),
            officers_revoked: self
                .state
                .officers()
                .filter(|o| o.revoked_at.is_some())
                .count(),
            items: self.items.len(),
            first_recorded_at: self.first_recorded,
            last_recorded_at: self.last_recorded,
        })
    }
}

pub(crate) type Decoded = Result<(Vec<u8>, Leaf, Statement, PreVerified), VerifyError>;

/// Whether decoding checks every signature (verification, reopening) or takes the leaves'
/// signatures as recorded (`rules::trust_recorded`: a rebuild of the views, which checks the
/// leaves against the signed root instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signatures {
    Verify,
    TrustRecorded,
}

/// Reads, decodes, schema-checks and pre-verifies signatures of leaves `start..end` on all
/// cores. Pre-verification uses the identity state at `start`; a key enrolled inside the chunk is
/// simply checked again, sequentially, by `rules::check`.
pub(crate) fn decode_chunk(
    source: &dyn LogSource,
    state: &rules::State,
    start: u64,
    end: u64,
    threads: usize,
    signatures: Signatures,
) -> Result<Vec<Decoded>, VerifyError> {
    let one = |seq: u64| -> Decoded {
        let fail = |rule: String| VerifyError::Leaf { seq, rule };
        let bytes = source.leaf(seq)?;
        let leaf = Leaf::decode(&bytes).map_err(|e| fail(e.to_string()))?;
        let statement =
            Statement::parse(leaf.envelope.payload()).map_err(|e| fail(e.to_string()))?;
        let pre = match signatures {
            Signatures::Verify => rules::preverify(state, &leaf.envelope, &statement),
            Signatures::TrustRecorded => rules::trust_recorded(state, &leaf.envelope, &statement),
        };
        Ok((bytes, leaf, statement, pre))
    };
    let count = end - start;
    let per = count.div_ceil(threads as u64).max(1);
    let parts: Vec<Vec<Decoded>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads as u64)
            .map(|t| {
                let lo = start + t * per;
                let hi = (lo + per).min(end);
                s.spawn(move || (lo..hi).map(one).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![Err(VerifyError::Read(
                        "a verification thread panicked".into(),
                    ))]
                })
            })
            .collect()
    });
    Ok(parts.into_iter().flatten().collect())
}

/// Statement type names in the order people read them in a summary.
pub fn type_order() -> impl Iterator<Item = &'static str> {
    StatementType::ALL.iter().map(|t| t.as_str())
}

impl LogSource for crate::storage::store::SledStore {
    fn leaf(&self, seq: u64) -> Result<Vec<u8>, VerifyError> {
        crate::storage::store::SledStore::leaf(self, seq)
            .map_err(|e| VerifyError::Read(e.to_string()))?
            .ok_or_else(|| VerifyError::Leaf {
                seq,
                rule: "the leaf is missing from the store".into(),
            })
    }

    fn check_node(&self, level: u8, index: u64, hash: &Hash) -> Result<(), VerifyError> {
        match self.stored_node(level, index) {
            Ok(Some(stored)) if &stored == hash => Ok(()),
            Ok(Some(_)) => Err(VerifyError::Node {
                level,
                index,
                rule: "the stored hash differs from the hash recomputed from the leaves; proofs served from it would be wrong".into(),
            }),
            Ok(None) => Err(VerifyError::Node {
                level,
                index,
                rule: "the stored hash is missing".into(),
            }),
            Err(e) => Err(VerifyError::Read(e.to_string())),
        }
    }
}

impl crate::base::class::Classify for VerifyError {
    /// A fault found is a refusal (the log does not hold); a log that cannot be read is storage.
    fn class(&self) -> crate::base::class::Class {
        use crate::base::class::Class;
        match self {
            Self::Read(_) => Class::Corrupt,
            _ => Class::Refused,
        }
    }
}

//! Full verification of a log: every leaf decoded in canonical form, in order, hash-chained,
//! schema-valid, signed by every required signer with a key valid at that position, passing the
//! custody rules, and the Merkle root equal to a checkpoint signed by the ledger's key. Owns the
//! one verification loop used for a sled ledger and for a tlog-tiles export alike. Never writes
//! anything and never trusts a stored hash it can recompute.

use crate::base::ids::{ItemId, Origin};
use crate::base::time::Timestamp;
use crate::base::words::{Explain, Message, msg};
use crate::domain::custody::{self, ItemState};
use crate::domain::rules::{self, PreVerified};
use crate::format::leaf::{GENESIS_PREV, Leaf};
use crate::format::merkle::{self, CompactRange, Hash};
use crate::format::note::{self, VerifierKey};
use crate::format::statement::{Statement, StatementType};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// Leaves a decoding thread takes at a time: small enough that the threads finish together and
/// that the identity state used for pre-verification is rarely stale, large enough that handing
/// out work costs nothing next to it.
pub const VERIFY_CHUNK_LEAVES: u64 = 256;

/// Chunks each decoding thread may be ahead of the sequential fold: enough that a thread never
/// waits for the fold when both run at their pace, few enough that the decoded leaves held in
/// memory stay a few MiB.
const VERIFY_CHUNKS_AHEAD_PER_THREAD: u64 = 4;

/// The first thing found wrong. Verification stops there: everything after a broken leaf is
/// unverifiable.
#[derive(Debug)]
pub enum VerifyError {
    Checkpoint(Message),
    Leaf {
        seq: u64,
        rule: Message,
    },
    Node {
        level: u8,
        index: u64,
        rule: Message,
    },
    Root {
        size: u64,
    },
    Read(Message),
    Malformed(Message),
}

crate::english_display!(VerifyError);

impl Explain for VerifyError {
    fn explain(&self) -> Message {
        match self {
            Self::Checkpoint(reason) => msg("err.verify.checkpoint").part("reason", reason.clone()),
            Self::Leaf { seq, rule } => msg("err.verify.leaf")
                .arg("seq", seq)
                .part("rule", rule.clone()),
            Self::Node { level, index, rule } => msg("err.verify.node")
                .arg("level", level)
                .arg("index", index)
                .part("rule", rule.clone()),
            Self::Root { size } => msg("err.verify.root").arg("size", size),
            Self::Read(reason) => msg("err.verify.read").part("reason", reason.clone()),
            Self::Malformed(reason) => msg("err.verify.malformed").part("reason", reason.clone()),
        }
    }
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
    /// Signatures strictly checked: every one of every envelope.
    pub signatures: u64,
    pub officers_enrolled: usize,
    pub officers_revoked: usize,
    pub items: usize,
    pub first_recorded_at: Option<Timestamp>,
    pub last_recorded_at: Option<Timestamp>,
    /// When this ledger re-founds another: its entries below `size` carry that administrator's
    /// attestation, not the original officers' signatures.
    pub refounding: Option<crate::domain::rules::Refounding>,
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
        .map_err(|e| VerifyError::Checkpoint(e.explain()))?;
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
    signatures: u64,
    items: HashMap<ItemId, ItemState>,
    /// Seal numbers and the first item (and seq) they were applied to.
    seals: HashMap<String, (ItemId, u64)>,
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
            signatures: 0,
            items: HashMap::new(),
            seals: HashMap::new(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// How many leaves have been verified.
    pub fn size(&self) -> u64 {
        self.range.size()
    }

    /// Verifies leaves from `self.size()` up to (not including) `to`.
    ///
    /// Every core reads, decodes, schema-checks and pre-verifies the signatures of chunks of
    /// leaves ahead of one sequential pass (this thread) that folds them in order: chain,
    /// order, ids, identity and custody rules, Merkle nodes. A decoder takes the next chunk as
    /// soon as it is done with one, up to `VERIFY_CHUNKS_AHEAD_PER_THREAD` chunks per thread
    /// ahead of the fold, so no core waits for a whole step to finish. Pre-verification uses the
    /// identity state as of the last chunk folded; a key enrolled since is simply verified
    /// again, sequentially, by `rules::check`. The fold meets every leaf in seq order, so the
    /// first fault reported is the same as in a sequential pass.
    pub fn advance(
        &mut self,
        source: &dyn LogSource,
        to: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), VerifyError> {
        let from = self.size();
        if from >= to {
            return Ok(());
        }
        let work = Work {
            from,
            to,
            ahead: VERIFY_CHUNKS_AHEAD_PER_THREAD * self.threads as u64,
            queue: Mutex::new(Queue {
                claimed: 0,
                folded: 0,
                ready: BTreeMap::new(),
                state: Arc::new(self.state.clone()),
                stopped: false,
            }),
            changed: Condvar::new(),
        };
        std::thread::scope(|s| {
            for _ in 0..self.threads {
                s.spawn(|| work.decode_ahead(source));
            }
            // Stops the decoders however the fold ends: done, a fault found, or a panic.
            let _stop = StopOnDrop(&work);
            for chunk in 0..work.chunks() {
                let decoded = work.take(chunk);
                let (start, end) = work.range(chunk);
                let mut identity = false;
                for (offset, item) in decoded.into_iter().enumerate() {
                    let item = item?;
                    identity |= item.2.kind.is_identity();
                    self.one(source, start + offset as u64, item)?;
                }
                work.folded(chunk, identity.then_some(&self.state));
                progress(end, to);
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
        let fail = |rule: Message| VerifyError::Leaf { seq, rule };
        if leaf.seq != seq {
            return Err(fail(msg("err.verify.seq_mismatch").arg("said", leaf.seq)));
        }
        if leaf.prev != self.prev {
            return Err(fail(
                msg("err.verify.chain_broken").arg("prev", seq.wrapping_sub(1)),
            ));
        }
        if self
            .last_recorded
            .is_some_and(|last| leaf.recorded_at < last)
        {
            return Err(fail(msg("err.verify.time_backwards")));
        }
        if let Some(first) = self.ids.insert(*statement.id.as_bytes(), seq) {
            return Err(fail(
                msg("err.verify.id_repeated")
                    .arg("id", statement.id)
                    .arg("first", first),
            ));
        }
        let kind = statement.kind;
        let signatures = leaf.envelope.signatures().len() as u64;
        let leaf_hash = merkle::leaf_hash(&bytes);
        let (items, seals) = (&self.items, &self.seals);
        let view = custody::View {
            items: |id: &ItemId| items.get(id).cloned(),
            seals: |seal: &str| seals.get(seal).cloned(),
        };
        let recorded_at = leaf.recorded_at;
        let admitted = custody::admit(
            &self.state,
            &view,
            leaf.envelope,
            statement,
            Some(&pre),
            recorded_at,
        )
        .map_err(|e| fail(e.explain()))?;
        let changes = custody::apply(&self.state, &view, &admitted, &leaf_hash, leaf.recorded_at);
        for c in changes {
            self.items.insert(c.after.id.clone(), c.after);
        }
        for (item, _, seal) in custody::seals_applied(admitted.statement()) {
            self.seals.entry(seal).or_insert((item, seq));
        }
        rules::apply(&mut self.state, &admitted);
        *self.counts.entry(kind.as_str()).or_default() += 1;
        self.signatures += signatures;
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
            signatures: self.signatures,
            officers_enrolled: self.state.officers().count(),
            officers_revoked: self
                .state
                .officers()
                .filter(|o| o.revoked_at.is_some())
                .count(),
            items: self.items.len(),
            first_recorded_at: self.first_recorded,
            last_recorded_at: self.last_recorded,
            refounding: self.state.refounding().cloned(),
        })
    }
}

/// The chunks of one `Verifier::advance`, handed out to the decoding threads, and the decoded
/// chunks they hand back to the fold.
struct Work {
    from: u64,
    to: u64,
    /// Chunks decoded or being decoded ahead of the fold, at most.
    ahead: u64,
    queue: Mutex<Queue>,
    /// Signalled when a chunk is claimed, decoded or folded, and when the fold stops.
    changed: Condvar,
}

struct Queue {
    /// Chunks `0..claimed` have been taken by a decoding thread.
    claimed: u64,
    /// Chunks `0..folded` have been through the fold.
    folded: u64,
    /// Decoded chunks waiting for their turn in the fold.
    ready: BTreeMap<u64, Vec<Decoded>>,
    /// The identity state pre-verification uses: the fold's, as of the last chunk folded.
    state: Arc<rules::State>,
    /// The fold has ended (all done, a fault found, or a panic): decoders take no more work.
    stopped: bool,
}

impl Work {
    fn chunks(&self) -> u64 {
        (self.to - self.from).div_ceil(VERIFY_CHUNK_LEAVES)
    }

    /// The seqs of chunk `chunk`, as `start..end`.
    fn range(&self, chunk: u64) -> (u64, u64) {
        let start = self.from + chunk * VERIFY_CHUNK_LEAVES;
        (start, (start + VERIFY_CHUNK_LEAVES).min(self.to))
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, queue: MutexGuard<'a, Queue>) -> MutexGuard<'a, Queue> {
        self.changed
            .wait(queue)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// One decoding thread: takes the next chunk not yet taken, decodes it and hands it back,
    /// until every chunk is taken or the fold stops.
    fn decode_ahead(&self, source: &dyn LogSource) {
        loop {
            let (chunk, state) = {
                let mut queue = self.lock();
                while !queue.stopped
                    && queue.claimed < self.chunks()
                    && queue.claimed >= queue.folded + self.ahead
                {
                    queue = self.wait(queue);
                }
                if queue.stopped || queue.claimed >= self.chunks() {
                    return;
                }
                queue.claimed += 1;
                (queue.claimed - 1, Arc::clone(&queue.state))
            };
            let (start, end) = self.range(chunk);
            let decode = || {
                (start..end)
                    .map(|seq| decode_leaf(source, &state, seq, Signatures::Verify))
                    .collect()
            };
            // A panic while decoding is reported at the chunk's place in the fold, rather than
            // leaving the fold waiting for a chunk that never comes.
            let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode))
                .unwrap_or_else(|_| vec![Err(panicked())]);
            self.lock().ready.insert(chunk, decoded);
            self.changed.notify_all();
        }
    }

    /// Waits for chunk `chunk` to be decoded and takes it.
    fn take(&self, chunk: u64) -> Vec<Decoded> {
        let mut queue = self.lock();
        loop {
            if let Some(decoded) = queue.ready.remove(&chunk) {
                return decoded;
            }
            queue = self.wait(queue);
        }
    }

    /// Records that the fold is done with `chunk`: decoders may go further ahead, and, when the
    /// chunk changed the identity state (`state`, as the fold left it), pre-verify against the
    /// newer one. A chunk of custody acts alone changes nothing pre-verification reads, so the
    /// state is copied only after identity statements.
    fn folded(&self, chunk: u64, state: Option<&rules::State>) {
        let state = state.map(|s| Arc::new(s.clone()));
        let mut queue = self.lock();
        queue.folded = chunk + 1;
        if let Some(state) = state {
            queue.state = state;
        }
        drop(queue);
        self.changed.notify_all();
    }
}

/// Tells the decoding threads to stop when the fold ends, however it ends.
struct StopOnDrop<'a>(&'a Work);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.lock().stopped = true;
        self.0.changed.notify_all();
    }
}

fn panicked() -> VerifyError {
    VerifyError::Read(msg("err.verify.thread_panicked"))
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
    let one = |seq: u64| decode_leaf(source, state, seq, signatures);
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
            .map(|h| h.join().unwrap_or_else(|_| vec![Err(panicked())]))
            .collect()
    });
    Ok(parts.into_iter().flatten().collect())
}

/// Reads, decodes, schema-checks and pre-verifies the signatures of the leaf at `seq`: the work
/// on one leaf that needs nothing from the leaves before it beyond the identity state `state`.
fn decode_leaf(
    source: &dyn LogSource,
    state: &rules::State,
    seq: u64,
    signatures: Signatures,
) -> Decoded {
    let fail = |rule: Message| VerifyError::Leaf { seq, rule };
    let bytes = source.leaf(seq)?;
    let leaf = Leaf::decode(&bytes).map_err(|e| fail(e.explain()))?;
    let statement = Statement::parse(leaf.envelope.payload()).map_err(|e| fail(e.explain()))?;
    let pre = match signatures {
        Signatures::Verify => rules::preverify(state, &leaf.envelope, &statement),
        Signatures::TrustRecorded => rules::trust_recorded(state, &leaf.envelope, &statement),
    };
    Ok((bytes, leaf, statement, pre))
}

/// Statement type names in the order people read them in a summary.
pub fn type_order() -> impl Iterator<Item = &'static str> {
    StatementType::ALL.iter().map(|t| t.as_str())
}

impl LogSource for crate::storage::store::LedgerStore {
    fn leaf(&self, seq: u64) -> Result<Vec<u8>, VerifyError> {
        crate::storage::store::LedgerStore::leaf(self, seq)
            .map_err(|e| VerifyError::Read(e.explain()))?
            .ok_or_else(|| VerifyError::Leaf {
                seq,
                rule: msg("err.verify.leaf_missing"),
            })
    }

    fn check_node(&self, level: u8, index: u64, hash: &Hash) -> Result<(), VerifyError> {
        // Below this level the store computes its nodes from the very leaves being verified
        // (or reads them from hash tiles it checks against the node above): nothing to compare.
        if level < crate::storage::low_nodes::SLED_NODE_LEVEL_MIN {
            return Ok(());
        }
        match self.sled_node(level, index) {
            Ok(Some(stored)) if &stored == hash => Ok(()),
            Ok(Some(_)) => Err(VerifyError::Node {
                level,
                index,
                rule: msg("err.verify.node_differs"),
            }),
            Ok(None) => Err(VerifyError::Node {
                level,
                index,
                rule: msg("err.verify.node_missing"),
            }),
            Err(e) => Err(VerifyError::Read(e.explain())),
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

//! The ledger: the write path and its crash windows. Owns the sequencer and committer threads
//! (a two-stage group commit), the ledger directory layout, opening with its consistency checks
//! (sled caught up from the journal, both against the checkpoint kept outside them), and the
//! answers given to writers (receipts). Never renders output, never speaks HTTP, and never
//! acknowledges a statement before its leaf is durable in the journal and a checkpoint covering
//! it is signed.
//!
//! Life of a statement (crash windows marked ✝; docs/STORAGE.md §5):
//! 1. caller thread: parse envelope and statement (schema), check duplicate id, pre-verify
//!    signatures against the published identity state (parallel across callers);
//! 2. sequencer: take every queued statement (up to `BATCH_STATEMENTS_MAX`), run
//!    `custody::admit` (`rules::check`, then the custody rules) on the working state, assign
//!    seq / recorded_at / prev, encode the leaf, collect the leaf, Merkle nodes, id index, head
//!    and the newly signed checkpoint, and hand the batch to the committer; ✝ nothing written;
//! 3. committer: append the leaves to the journal (one write, one fdatasync): the
//!    acknowledgement point; ✝ a torn batch is cut on open, a whole one kept (no writer was
//!    answered: a retry with the same id gets the original seq);
//! 4. write nodes, ids, head and checkpoint to sled, then the views (neither flushed here); ✝
//!    sled trails the journal and is caught up from it on open;
//! 5. publish the checkpoint and answer every writer of the batch;
//! 6. write the checkpoint file (the copy outside the journal and sled that catches either
//!    rolled back) at most `CHECKPOINT_FILE_INTERVAL_MS` later, flush sled at most
//!    `SLED_FLUSH_INTERVAL_MS` later, both on close; ✝ a torn slot is ignored and the other slot
//!    holds an older checkpoint, which the log extends.

use crate::app::publish;
use crate::app::subjects::{self, Subjects, SubjectsError};
use crate::app::verify::Signatures;
use crate::base::class::{Class, Classify};
use crate::base::ids::ItemId;
use crate::base::ids::Origin;
use crate::base::limits::{BATCH_STATEMENTS_MAX, QUEUE_STATEMENTS_MAX};
use crate::base::metrics::{Counter, Histogram};
use crate::base::time::{Clock, SystemClock, Timestamp};
use crate::base::words::{Explain, Message, msg};
use crate::domain::custody::{self, ItemState};
use crate::domain::projection;
use crate::domain::rules::{self, PreVerified, RuleError};
use crate::format::envelope::{Envelope, EnvelopeError};
use crate::format::leaf::{GENESIS_PREV, Leaf, LeafError};
use crate::format::merkle::{self, CompactRange, Hash};
use crate::format::note::{self, Checkpoint, VerifierKey};
use crate::format::statement::{Statement, StatementError};
use crate::keys::signing::{KeyError, SecretKey};
use crate::storage::fault::Detail;
use crate::storage::journal::TailCut;
use crate::storage::layout;
use crate::storage::node_cache::{CachedNodes, UpperNodes};
use crate::storage::recovery::{self, LedgerLock};
use crate::storage::store::{
    AppendBatch, CheckpointFile, Faults, Head, IdEntry, JOURNAL_DIR, LedgerStore, SLED_DIR,
    StoreError,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

/// Why a statement was not appended. Nothing was written in any of these cases.
#[derive(Debug)]
pub enum AppendError {
    Envelope(EnvelopeError),
    Statement(StatementError),
    Leaf(LeafError),
    Rule(RuleError),
    IdConflict {
        id: String,
        seq: u64,
    },
    Storage(StoreError),
    /// Why the write path stopped (the storage failure, or the sequencer gone).
    Stopped(Message),
    ReadOnly,
}

crate::english_display!(AppendError);

impl Explain for AppendError {
    fn explain(&self) -> Message {
        match self {
            Self::Envelope(e) => e.explain(),
            Self::Statement(e) => e.explain(),
            Self::Leaf(e) => e.explain(),
            Self::Rule(e) => msg("err.ledger.rule").part("reason", e.explain()),
            Self::IdConflict { id, seq } => {
                msg("err.ledger.id_conflict").arg("id", id).arg("seq", seq)
            }
            Self::Storage(e) => e.explain(),
            Self::Stopped(reason) => msg("err.ledger.stopped").part("reason", reason.clone()),
            Self::ReadOnly => msg("err.ledger.read_only"),
        }
    }
}

impl From<EnvelopeError> for AppendError {
    fn from(e: EnvelopeError) -> Self {
        Self::Envelope(e)
    }
}

impl From<StatementError> for AppendError {
    fn from(e: StatementError) -> Self {
        Self::Statement(e)
    }
}

impl From<LeafError> for AppendError {
    fn from(e: LeafError) -> Self {
        Self::Leaf(e)
    }
}

impl From<RuleError> for AppendError {
    fn from(e: RuleError) -> Self {
        Self::Rule(e)
    }
}

impl From<StoreError> for AppendError {
    fn from(e: StoreError) -> Self {
        Self::Storage(e)
    }
}

/// Why a ledger could not be created or opened.
#[derive(Debug)]
pub enum OpenError {
    /// `reason` says what is missing or wrong in the folder.
    NotALedger {
        path: String,
        reason: Message,
    },
    Exists {
        path: String,
    },
    OldLayout {
        path: String,
        found: u32,
        wanted: u32,
    },
    Key(KeyError),
    Storage(StoreError),
    /// What does not agree; read as text it is the English sentence (`custody doctor` and the
    /// torture harness look for words in it).
    Corrupt(Detail),
    Genesis(AppendError),
    /// A file or thread the system refused: what, and the system's own words.
    Io(Message),
}

crate::english_display!(OpenError);

impl Explain for OpenError {
    fn explain(&self) -> Message {
        match self {
            Self::NotALedger { path, reason } => msg("err.ledger.not_a_ledger")
                .arg("path", path)
                .part("reason", reason.clone()),
            Self::Exists { path } => msg("err.ledger.exists").arg("path", path),
            Self::OldLayout {
                path,
                found,
                wanted,
            } => msg("err.ledger.old_layout")
                .arg("path", path)
                .arg("found", found)
                .arg("wanted", wanted),
            Self::Key(e) => msg("err.ledger.key").part("reason", e.explain()),
            Self::Storage(e) => e.explain(),
            Self::Corrupt(d) => msg("err.ledger.corrupt").part("reason", d.message().clone()),
            Self::Genesis(e) => msg("err.ledger.genesis").part("reason", e.explain()),
            Self::Io(why) => why.clone(),
        }
    }
}

impl From<KeyError> for OpenError {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl From<StoreError> for OpenError {
    fn from(e: StoreError) -> Self {
        Self::Storage(e)
    }
}

impl From<AppendError> for OpenError {
    fn from(e: AppendError) -> Self {
        Self::Genesis(e)
    }
}

/// The system refused `e` on `path`: the path and the system's own words, nothing to translate.
fn io_at(path: &Path, e: &std::io::Error) -> OpenError {
    OpenError::Io(Message::verbatim(format!("{}: {e}", path.display())))
}

/// The log does not agree with itself or with what was signed, for the reason `why`.
fn corrupt(why: Message) -> OpenError {
    OpenError::Corrupt(why.into())
}

/// "leaf `seq`: `why`", a leaf read while opening that does not decode or parse.
fn bad_leaf(seq: u64, why: Message) -> OpenError {
    corrupt(
        msg("err.ledger.leaf_bad")
            .arg("seq", seq)
            .part("reason", why),
    )
}

/// Something opening a ledger repaired, safely, before it accepted anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    /// A file sled would have misread, moved to `quarantine/`.
    Quarantined(recovery::Moved),
    /// The views disagreed with the log and were rebuilt from it.
    ViewsRebuilt { entries: u64, why: Message },
    /// The journal's torn tail (a batch never acknowledged) was cut.
    TailCut(TailCut),
    /// sled was behind the journal (it is not flushed per batch) and was caught up from it.
    CaughtUp { from: u64, to: u64 },
}

impl Explain for Repair {
    fn explain(&self) -> Message {
        match self {
            Self::Quarantined(moved) => moved.explain(),
            Self::ViewsRebuilt { entries, why } => msg("repair.views_rebuilt")
                .arg("entries", entries)
                .part("why", why.clone()),
            Self::TailCut(cut) => cut.explain(),
            Self::CaughtUp { from, to } => msg("repair.caught_up").arg("from", from).arg("to", to),
        }
    }
}

/// A repair in English, as the logs and tests read it; the edges say it in either language.
impl std::fmt::Display for Repair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::base::words::english(self, f)
    }
}

/// A signed checkpoint and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub note: String,
    pub size: u64,
    pub root: Hash,
}

/// The answer to a writer: where the statement is, and a checkpoint that covers it.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub seq: u64,
    pub leaf_hash: Hash,
    /// True when the statement id was already in the log and nothing new was written.
    pub duplicate: bool,
    pub checkpoint: Arc<SignedCheckpoint>,
}

/// What `rebuild` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildReport {
    pub size: u64,
    pub before: Hash,
    pub after: Hash,
    /// Signatures checked strictly again (`--verify-signatures`); 0 when the recorded ones were
    /// trusted.
    pub signatures_verified: u64,
}

/// Files of a ledger directory.
#[derive(Debug, Clone)]
pub struct LedgerPaths {
    pub dir: PathBuf,
}

impl LedgerPaths {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }
    pub fn sled(&self) -> PathBuf {
        self.dir.join(SLED_DIR)
    }
    /// The journal: the log's entries, the acknowledgement point.
    pub fn journal(&self) -> PathBuf {
        self.dir.join(JOURNAL_DIR)
    }
    /// The ledger's checkpoint signing key (PKCS#8 PEM, 0600).
    pub fn key(&self) -> PathBuf {
        self.dir.join(layout::KEY_FILE)
    }
    /// The latest signed checkpoint, outside sled (two alternating slots; see `CheckpointFile`).
    pub fn checkpoint(&self) -> PathBuf {
        self.dir.join(layout::CHECKPOINT_SLOTS_FILE)
    }
    /// A read-only replica's verifier key, kept instead of the ledger key.
    pub fn vkey(&self) -> PathBuf {
        self.dir.join(layout::VKEY_FILE)
    }
    /// What a mirror copies: the published checkpoint and its tiles. Never anything from
    /// `private/`.
    pub fn public(&self) -> PathBuf {
        self.dir.join(layout::PUBLIC_DIR)
    }
}

struct Request {
    envelope: Envelope,
    statement: Statement,
    payload_hash: Hash,
    pre: PreVerified,
    reply: mpsc::SyncSender<Result<Receipt, AppendError>>,
}

struct Published {
    checkpoint: Arc<SignedCheckpoint>,
    state: Arc<rules::State>,
}

struct Shared {
    /// The clock the ledger records by (times in the subject register's access log too).
    clock: Arc<dyn Clock>,
    store: LedgerStore,
    /// The upper Merkle levels in memory, so a proof reads only its lowest nodes from the store.
    upper: UpperNodes,
    published: RwLock<Published>,
    /// Set when a storage failure stopped the sequencer; every later write is refused.
    stopped: Mutex<Option<Message>>,
    origin: Origin,
    vkey: VerifierKey,
    checkpoint_file: CheckpointFile,
    /// The checkpoint signing key, shared with the sequencer (`Ledger::checkpoint_at`); `None`
    /// in a read-only replica (`custody import` without the key), which appends nothing.
    key: Option<Arc<SecretKey>>,
    /// `public/`: what mirrors copy (`Publisher`).
    public: PathBuf,
    stats: LedgerStats,
    /// What opening had to repair (quarantined files, rebuilt views).
    repairs: Vec<Repair>,
    /// The ledger's own lock, held while the ledger is open (dropped last).
    lock: LedgerLock,
}

impl Shared {
    /// The node source of proofs and roots: upper levels from memory, the rest from the store.
    fn nodes(&self) -> CachedNodes<'_, LedgerStore> {
        self.upper.over(&self.store)
    }

    fn stopped_reason(&self) -> Option<Message> {
        self.stopped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stops the write path for good after a storage failure; answers the first reason given.
    fn stop(&self, e: &StoreError) -> Message {
        let mut stopped = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        stopped.get_or_insert_with(|| e.explain()).clone()
    }

    fn published_checkpoint(&self) -> Arc<SignedCheckpoint> {
        Arc::clone(
            &self
                .published
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .checkpoint,
        )
    }

    /// Stops the ledger for `what` (storage that returns other bytes than it was given) and
    /// answers the error to give the caller. Nothing built on those bytes is served or written.
    fn corrupt(&self, what: Message) -> StoreError {
        let error = StoreError::corrupt(msg("err.ledger.store_stopped").part("what", what));
        let mut stopped = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        stopped.get_or_insert_with(|| error.explain());
        error
    }

    /// The leaf at `seq`, checked against its hash in the Merkle tree.
    fn checked_leaf(&self, seq: u64) -> Result<Vec<u8>, StoreError> {
        let bytes = self
            .store
            .leaf(seq)?
            .ok_or_else(|| self.corrupt(msg("err.ledger.leaf_missing").arg("seq", seq)))?;
        if self.store.stored_node(0, seq)? != Some(merkle::leaf_hash(&bytes)) {
            return Err(self.corrupt(msg("err.ledger.leaf_hash_mismatch").arg("seq", seq)));
        }
        Ok(bytes)
    }

    /// The leaf hash of the statement an id index entry points at, after checking that the leaf
    /// there really holds a payload with the indexed hash.
    fn recorded(&self, found: IdEntry) -> Result<Hash, StoreError> {
        let bytes = self.checked_leaf(found.seq)?;
        let leaf = Leaf::decode(&bytes).map_err(|e| {
            self.corrupt(
                msg("err.ledger.leaf_undecodable")
                    .arg("seq", found.seq)
                    .part("reason", e.explain()),
            )
        })?;
        if payload_hash(leaf.envelope.payload()) != found.payload_hash {
            return Err(self.corrupt(msg("err.ledger.index_other_statement").arg("seq", found.seq)));
        }
        Ok(merkle::leaf_hash(&bytes))
    }

    /// The root of the first `size` leaves, proven consistent with the signed checkpoint `cp`
    /// (for `size == cp.size`, the signed root itself).
    fn trusted_root(&self, size: u64, cp: &SignedCheckpoint) -> Result<Hash, ProofRequestError> {
        if size == cp.size {
            return Ok(cp.root);
        }
        let root = merkle::root(&self.nodes(), size)?;
        if size > 0 {
            let proof = merkle::consistency_proof(&self.nodes(), size, cp.size)?;
            merkle::verify_consistency(size, cp.size, &root, &cp.root, &proof).map_err(|e| {
                self.corrupt(
                    msg("err.ledger.nodes_inconsistent")
                        .arg("size", size)
                        .arg("checkpoint", cp.size)
                        .arg("reason", e),
                )
            })?;
        }
        Ok(root)
    }
}

pub use crate::storage::fault::CRASH_AT_ENV;
use crate::storage::fault::crash_point;

/// The crash points of one group commit, in order (see the crash windows ✝ above), then those of
/// dropping covered journal segments (`LedgerStore::drop_covered`, docs/STORAGE.md §8).
pub const CRASH_POINTS: [&str; 6] = [
    // the batch is built, nothing written
    "before-write",
    // the leaves are durable in the journal, sled not written yet
    "after-write",
    // sled and the views written (not flushed), no writer answered
    "after-flush",
    // the checkpoint file written
    "after-checkpoint",
    // the journal's drop mark durable, no segment deleted yet
    "drop-marked",
    // the first segment of a drop deleted, the others not yet
    "drop-partial",
];

/// Upper bounds of the statements-per-commit histogram: powers of two up to the batch limit.
const BATCH_BUCKETS: [f64; 11] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];
/// Upper bounds of the commit-latency histogram, in seconds (write, flush, sign, checkpoint file).
const COMMIT_SECONDS_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0,
];

/// What the sequencer has done since the ledger was opened, for monitoring (`/metrics`).
#[derive(Debug)]
pub struct LedgerStats {
    /// Statements made durable and acknowledged.
    pub appended: Counter,
    /// Retries of statements already in the log, answered with the original seq.
    pub duplicates: Counter,
    /// Statements refused by the rules or signatures inside the sequencer.
    pub refused: Counter,
    /// New statements per group commit.
    pub batch_statements: Histogram,
    /// Seconds from the batch write to the checkpoint on disk.
    pub commit_seconds: Histogram,
    /// Seconds of the journal append (one write and its fdatasync) alone, within a commit.
    pub flush_seconds: Histogram,
    /// Times the views were rebuilt from the log on open because they disagreed with it.
    pub projection_rebuilds: Counter,
    /// Files moved to `quarantine/` on open (snapshots sled never committed, and `snap.` names
    /// sled did not write).
    pub quarantined_files: Counter,
    /// Publications of `public/` that failed (each is retried at the next interval).
    pub publish_failures: Counter,
    /// Drops of journal segments covered by `public/` that failed (retried after the next
    /// publication; the journal keeps the leaves meanwhile).
    pub journal_drop_failures: Counter,
}

impl LedgerStats {
    /// The counters of a ledger just opened, with what opening moved aside and repaired.
    fn opened(quarantined: u64, repairs: &[Repair]) -> Self {
        let stats = Self::new();
        stats.quarantined_files.add(quarantined);
        let rebuilt = repairs
            .iter()
            .filter(|r| matches!(r, Repair::ViewsRebuilt { .. }))
            .count();
        stats.projection_rebuilds.add(rebuilt as u64);
        stats
    }

    fn new() -> Self {
        Self {
            appended: Counter::default(),
            duplicates: Counter::default(),
            refused: Counter::default(),
            batch_statements: Histogram::new(&BATCH_BUCKETS),
            commit_seconds: Histogram::new(&COMMIT_SECONDS_BUCKETS),
            flush_seconds: Histogram::new(&COMMIT_SECONDS_BUCKETS),
            projection_rebuilds: Counter::default(),
            quarantined_files: Counter::default(),
            publish_failures: Counter::default(),
            journal_drop_failures: Counter::default(),
        }
    }
}

/// An open ledger. Cheap to share behind an `Arc`; every method may be called from any thread.
pub struct Ledger {
    shared: Arc<Shared>,
    queue: Mutex<Option<mpsc::SyncSender<Request>>>,
    /// The sequencer, committer and publisher threads.
    writer: Mutex<Option<Threads>>,
    /// The subject register, opened on first use (`Ledger::subjects`).
    subjects: Mutex<Option<Arc<Subjects>>>,
}

/// The threads of an open ledger, joined on close in this order.
struct Threads {
    sequencer: JoinHandle<()>,
    committer: JoinHandle<()>,
    /// The publisher, and the sender whose drop tells it to publish once more and stop.
    publisher: (JoinHandle<()>, mpsc::Sender<()>),
}

/// How often `public/` (tiles and checkpoint) follows the log while statements keep coming. A
/// mirror polls a checkpoint at most this fresh; each publication costs a few file writes and
/// fsyncs, kept off the committer's thread.
const PUBLISH_INTERVAL_MS: u64 = 1000;

/// Writes the tiles and the checkpoint of the latest published checkpoint into `public/`
/// (`publish::publish`) every `PUBLISH_INTERVAL_MS`, and once more on close; after each
/// publication, drops the journal segments its full entry bundles cover
/// (`LedgerStore::drop_covered`).
struct Publisher {
    shared: Arc<Shared>,
    public: PathBuf,
    /// The size last published (its tiles and checkpoint are durable in `public/`).
    published: u64,
}

impl Publisher {
    fn run(mut self, stop: mpsc::Receiver<()>) {
        let interval = std::time::Duration::from_millis(PUBLISH_INTERVAL_MS);
        while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(interval) {
            self.once();
        }
        self.once();
    }

    /// Publishes the latest checkpoint if it is newer than the last one published. A failure is
    /// counted and retried next time: `public/` is a copy for mirrors, never the record.
    fn once(&mut self) {
        let cp = self.shared.published_checkpoint();
        if cp.size == self.published && self.public.join(publish::CHECKPOINT_FILE).exists() {
            return;
        }
        let from = if cp.size >= self.published {
            self.published
        } else {
            0
        };
        match publish::publish(
            &self.shared.store,
            &self.public,
            from,
            cp.size,
            cp.note.as_bytes(),
        ) {
            Ok(_) => {
                self.published = cp.size;
                // The full bundles now durable hold these leaves: the journal need not too.
                if self.shared.store.drop_covered(cp.size).is_err() {
                    self.shared.stats.journal_drop_failures.add(1);
                }
            }
            Err(_) => self.shared.stats.publish_failures.add(1),
        }
    }
}

/// The size of the checkpoint already in `public/`, if it verifies with the ledger's key and the
/// log covers it; 0 (publish every tile again) otherwise.
fn published_size(public: &Path, vkey: &VerifierKey, log_size: u64) -> u64 {
    std::fs::read(public.join(publish::CHECKPOINT_FILE))
        .ok()
        .and_then(|bytes| note::open_checkpoint(&bytes, vkey).ok())
        .map_or(0, |cp| cp.size)
        .min(log_size)
}

/// Group commits staged by the sequencer and not yet answered by the committer. Two lets the
/// sequencer admit the next batch while one is being flushed; more would only grow the batch
/// that waits, and the memory the overlay holds.
const COMMITS_IN_FLIGHT_MAX: usize = 2;

/// The sequencer's private state: the only mutable view of the log's tip.
struct Sequencer {
    shared: Arc<Shared>,
    /// `None` in a read-only replica, to which nothing is ever submitted (`Ledger::enqueue`).
    key: Option<Arc<SecretKey>>,
    clock: Arc<dyn Clock>,
    state: rules::State,
    range: CompactRange,
    last_leaf: Hash,
    last_recorded: Option<Timestamp>,
    /// Items changed by batches whose views the committer has not applied yet, with the number
    /// of the batch that last changed them.
    overlay: HashMap<ItemId, (u64, ItemState)>,
    /// Seal numbers first applied by batches whose views the committer has not applied yet: the
    /// batch number, the item and the seq.
    seal_overlay: HashMap<String, (u64, ItemId, u64)>,
    /// Statement ids of batches the committer has not written to sled yet (by batch number),
    /// with their seq, leaf hash and payload hash: a retry arriving meanwhile is a duplicate.
    in_flight: HashMap<[u8; 16], (u64, u64, Hash, Hash)>,
    /// Number of the last batch staged.
    number: u64,
    /// Numbers of batches whose views the committer has applied.
    applied: mpsc::Receiver<u64>,
    /// Projection writes of the batch being built.
    views: Vec<projection::Write>,
}

/// The sibling folder (`.<name>.<purpose>`) in which a new ledger for `dir` is built before it
/// is renamed into place, and `dir`'s parent (to `fsync` after the rename). Refuses a `dir` that
/// exists and is not empty. A sibling left by a killed run holds nothing acknowledged and is
/// removed — unless another run of the same name holds its lock right now.
pub(crate) fn aside(dir: &Path, purpose: &str) -> Result<(PathBuf, PathBuf), OpenError> {
    let io = |p: &Path, e: std::io::Error| io_at(p, &e);
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .next()
            .is_some()
    {
        return Err(OpenError::Exists {
            path: dir.display().to_string(),
        });
    }
    let name = dir.file_name().ok_or_else(|| {
        OpenError::Io(msg("err.ledger.not_a_folder_name").arg("path", dir.display()))
    })?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| io(&parent, e))?;
    let building = parent.join(format!(".{}.{purpose}", name.to_string_lossy()));
    if building.exists() {
        match LedgerLock::try_acquire(&building)? {
            Some(_) => std::fs::remove_dir_all(&building).map_err(|e| io(&building, e))?,
            None => {
                return Err(OpenError::Exists {
                    path: building.display().to_string(),
                });
            }
        }
    }
    Ok((parent, building))
}

fn payload_hash(payload: &[u8]) -> Hash {
    Sha256::digest(payload).into()
}

impl Ledger {
    /// Creates a new ledger in `dir` (which must not exist or be empty): a fresh checkpoint key,
    /// the origin, and the genesis statement that `genesis` builds and signs given the ledger's
    /// verifier key.
    ///
    /// The ledger is built in a sibling folder (`.<name>.init`) and renamed into place only once
    /// its genesis is durable, so a kill at any moment leaves either no ledger at `dir` or a whole
    /// one (sled writes its `conf` without a temporary file or fsync on first open; a torn `conf`
    /// would otherwise make the ledger unopenable). A `.init` folder left by a killed `init` holds
    /// nothing that was acknowledged and is removed by the next `init` of the same name.
    pub fn init(
        dir: &Path,
        origin: &Origin,
        clock: Arc<dyn Clock>,
        genesis: impl FnOnce(&VerifierKey) -> Result<Envelope, AppendError>,
    ) -> Result<(Ledger, Receipt), OpenError> {
        let (parent, building) = aside(dir, "init")?;
        let built = Self::build(&building, origin, Arc::clone(&clock), genesis);
        let receipt = match built {
            Ok(receipt) => receipt,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&building);
                return Err(e);
            }
        };
        // An empty `dir` is replaced by the rename (rename(2) allows an empty target folder).
        std::fs::rename(&building, dir).map_err(|e| io_at(dir, &e))?;
        recovery::sync_dir(&parent)?;
        let ledger = Self::open_with_clock(dir, clock)?;
        Ok((ledger, receipt))
    }

    /// Builds a whole ledger in `dir`: key, origin, genesis, all durable, then closed.
    fn build(
        dir: &Path,
        origin: &Origin,
        clock: Arc<dyn Clock>,
        genesis: impl FnOnce(&VerifierKey) -> Result<Envelope, AppendError>,
    ) -> Result<Receipt, OpenError> {
        let paths = LedgerPaths::new(dir);
        std::fs::create_dir_all(dir).map_err(|e| io_at(dir, &e))?;
        let key = SecretKey::generate()?;
        layout::make_dirs(dir)?;
        key.write_new_file(&paths.key())?;
        subjects::create_master_key(dir).map_err(|e| OpenError::Io(e.explain()))?;
        {
            let _lock = LedgerLock::acquire(dir)?;
            let store = LedgerStore::open(dir)?;
            store.set_origin(origin.as_str())?;
            store.flush()?;
            layout::write(dir)?;
        }
        let ledger = Self::open_with_clock(dir, clock)?;
        let envelope = genesis(&ledger.shared.vkey)?;
        let receipt = ledger.submit_envelope(envelope)?;
        ledger.close();
        drop(ledger);
        // sled writes `conf` without an fsync; everything is made durable before the rename.
        recovery::sync_tree(dir)?;
        Ok(receipt)
    }

    /// Opens an existing ledger with the system clock.
    pub fn open(dir: &Path) -> Result<Ledger, OpenError> {
        Self::open_with_clock(dir, Arc::new(SystemClock))
    }

    /// Opens an existing ledger: checks sled against the checkpoint file (a log shorter than, or
    /// inconsistent with, the last signed checkpoint is a hard error), replays identity
    /// statements, signs a checkpoint for leaves flushed but never checkpointed, and starts the
    /// sequencer.
    pub fn open_with_clock(dir: &Path, clock: Arc<dyn Clock>) -> Result<Ledger, OpenError> {
        Self::open_with_faults(dir, clock, None)
    }

    /// Opens like `open_with_clock`, with storage faults injected into the store and the
    /// checkpoint file (the reliability suite's way in; `None` for every real use).
    pub fn open_with_faults(
        dir: &Path,
        clock: Arc<dyn Clock>,
        faults: Option<Arc<Faults>>,
    ) -> Result<Ledger, OpenError> {
        // Before the lock, which would create its file: a refused layout changes nothing.
        check_layout(dir)?;
        if !dir.join(SLED_DIR).exists() {
            return Err(OpenError::NotALedger {
                path: dir.display().to_string(),
                reason: msg("err.ledger.no_sled"),
            });
        }
        // The ledger's own lock first: a live server may be writing the very files below.
        let lock = LedgerLock::acquire(dir)?;
        Self::open_locked(lock, clock, faults)
    }

    /// Opens the ledger whose lock the caller already holds (`custody doctor` checks and
    /// repairs under the same lock, so nothing can take the ledger in between).
    pub fn open_locked(
        lock: LedgerLock,
        clock: Arc<dyn Clock>,
        faults: Option<Arc<Faults>>,
    ) -> Result<Ledger, OpenError> {
        let dir = lock.dir().to_path_buf();
        let dir = dir.as_path();
        let paths = LedgerPaths::new(dir);
        check_ledger_files(dir, &paths)?;
        check_layout(dir)?;
        let mut repairs: Vec<Repair> =
            recovery::make_safe_for_open(&lock, &paths.sled(), &recovery::stamp(clock.now()))?
                .into_iter()
                .map(Repair::Quarantined)
                .collect();
        let quarantined = repairs.len() as u64;
        let key = read_key(&paths)?;
        // Under injected faults the checkpoint file is written after every batch, so that a failed
        // write lands between statements, where the fault suite can see what it stopped.
        let checkpoint_file_interval = match faults {
            Some(_) => std::time::Duration::ZERO,
            None => std::time::Duration::from_millis(CHECKPOINT_FILE_INTERVAL_MS),
        };
        let (store, head) = open_store(dir, faults.clone(), &mut repairs)?;
        let (origin, vkey) = ledger_identity(dir, &paths, &store, key.as_deref())?;
        let file = CheckpointFile::with_faults(paths.checkpoint(), faults);
        let latest = latest_checkpoint(&store, &file, &vkey, head)?;
        let root_now = checked_head_root(&store, head)?;
        let (state, rebuilt) = catch_up(&store, &origin, &vkey, head)?;
        repairs.extend(rebuilt);
        let tip = verified_tip(&store, head.size, root_now, state)?;
        let upper = UpperNodes::load(&store, head.size)?;

        let stats = LedgerStats::opened(quarantined, &repairs);
        // Leaves flushed after the last checkpoint (a crash in step 4) get their checkpoint now.
        let checkpoint =
            checkpoint_for_head(latest, &origin, head, root_now, key.as_deref(), &file)?;

        let shared = Arc::new(Shared {
            clock: Arc::clone(&clock),
            store,
            upper,
            published: RwLock::new(Published {
                checkpoint: Arc::new(checkpoint.clone()),
                state: Arc::new(tip.state.clone()),
            }),
            stopped: Mutex::new(None),
            stats,
            origin,
            vkey,
            checkpoint_file: file,
            key: key.clone(),
            public: paths.public(),
            repairs,
            lock,
        });
        let sequencer = {
            let shared = Arc::clone(&shared);
            move |applied| Sequencer::continuing(shared, key, clock, tip, applied)
        };
        Self::start(shared, sequencer, checkpoint_file_interval)
    }

    /// Starts the committer thread and the sequencer (made by `sequencer`, given the channel on
    /// which the committer says which batches' views it applied) over an opened store.
    fn start(
        shared: Arc<Shared>,
        sequencer: impl FnOnce(mpsc::Receiver<u64>) -> Sequencer,
        checkpoint_file_interval: std::time::Duration,
    ) -> Result<Ledger, OpenError> {
        let (applied_tx, applied_rx) = mpsc::channel();
        let sequencer = sequencer(applied_rx);
        let committer = Committer {
            shared: Arc::clone(&shared),
            applied: applied_tx,
            unwritten: None,
            written_at: std::time::Instant::now(),
            interval: checkpoint_file_interval,
            sled_dirty: false,
            flushed_at: std::time::Instant::now(),
        };
        let (tx, rx) = mpsc::sync_channel(QUEUE_STATEMENTS_MAX);
        let (commits_tx, commits_rx) = mpsc::sync_channel(COMMITS_IN_FLIGHT_MAX);
        let committer = std::thread::Builder::new()
            .name("custody-committer".into())
            .spawn(move || committer.run(commits_rx))
            .map_err(|e| OpenError::Io(msg("err.ledger.committer_thread").arg("reason", e)))?;
        let writer = std::thread::Builder::new()
            .name("custody-sequencer".into())
            .spawn(move || sequencer.run(rx, commits_tx))
            .map_err(|e| OpenError::Io(msg("err.ledger.sequencer_thread").arg("reason", e)))?;
        let publisher = Publisher {
            shared: Arc::clone(&shared),
            public: shared.public.clone(),
            published: published_size(
                &shared.public,
                &shared.vkey,
                shared.published_checkpoint().size,
            ),
        };
        let (stop, stopping) = mpsc::channel();
        let publisher = std::thread::Builder::new()
            .name("custody-publisher".into())
            .spawn(move || publisher.run(stopping))
            .map_err(|e| OpenError::Io(msg("err.ledger.publisher_thread").arg("reason", e)))?;
        crate::format::statement::warm_up();
        Ok(Ledger {
            shared,
            queue: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(Threads {
                sequencer: writer,
                committer,
                publisher: (publisher, stop),
            })),
            subjects: Mutex::new(None),
        })
    }

    pub fn origin(&self) -> &Origin {
        &self.shared.origin
    }

    pub fn verifier_key(&self) -> &VerifierKey {
        &self.shared.vkey
    }

    pub fn checkpoint(&self) -> Arc<SignedCheckpoint> {
        Arc::clone(&self.read_published().checkpoint)
    }

    /// The item rules a statement would meet if it were recorded now (`custody::check`: the
    /// items' states, seals, masses, write scope and, from rules version 5, impossible facts),
    /// without its signatures: what a draft is told before anyone else signs it. Decides nothing
    /// for the log — the sequencer checks everything again, signatures first, when it is submitted.
    pub fn precheck(&self, statement: &Statement) -> Result<(), rules::RuleError> {
        let store = &self.shared.store;
        let view = custody::View {
            items: |id: &ItemId| stored_item(store, id),
            seals: |seal: &str| stored_seal(store, seal),
        };
        custody::check(&self.state(), &view, statement)
    }

    /// Who may sign, as of the latest identity statement (refreshed only when an identity
    /// statement lands, so its `size` may trail the log).
    pub fn state(&self) -> Arc<rules::State> {
        Arc::clone(&self.read_published().state)
    }

    fn read_published(&self) -> std::sync::RwLockReadGuard<'_, Published> {
        self.shared
            .published
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// What opening this ledger had to repair (empty on a clean open): the edges print them, so
    /// an operator learns what was moved to `quarantine/` and why.
    pub fn repairs(&self) -> &[Repair] {
        &self.shared.repairs
    }

    /// Counters and histograms of the write path since open.
    pub fn stats(&self) -> &LedgerStats {
        &self.shared.stats
    }

    /// The ledger's folder.
    pub fn dir(&self) -> &Path {
        self.shared.lock.dir()
    }

    pub fn store(&self) -> &LedgerStore {
        &self.shared.store
    }

    /// Destroys the key of every subject a `subject_erased` act in the log erased whose key is
    /// still live: the act is recorded before the key is destroyed, so a crash between the two
    /// leaves this to do.
    fn finish_erasures(&self, register: &Subjects) -> Result<(), SubjectsError> {
        let prefix = crate::domain::projection::ERASED;
        let erased = self.store().projection_scan(prefix).map_err(|e| {
            SubjectsError::AccessLog(msg("err.subjects.reading_views").part("reason", e.explain()))
        })?;
        for (k, v) in erased {
            let id = String::from_utf8_lossy(&k[prefix.len()..])
                .parse::<crate::format::subject::SubjectId>();
            let seq = crate::domain::projection::decode::<u64>(&v).unwrap_or_default();
            if let Ok(id) = id
                && register.is_live(&id)
            {
                register.erase_recorded(&id, seq, None, self.now())?;
            }
        }
        Ok(())
    }

    /// Now, by the ledger's clock.
    pub fn now(&self) -> Timestamp {
        self.shared.clock.now()
    }

    /// The clock the ledger records by.
    pub fn clock(&self) -> &dyn Clock {
        self.shared.clock.as_ref()
    }

    /// Moves the personal data of the persons this ledger's older entries name in the clear into
    /// its subject register (`subjects::migrate`), as `asker`.
    pub fn migrate_subjects(
        &self,
        asker: &subjects::Asker,
    ) -> Result<subjects::Migrated, SubjectsError> {
        subjects::migrate(
            self.dir(),
            self.store(),
            || self.subjects(),
            asker,
            self.now(),
        )
    }

    /// The subject register of this ledger (personal data of the people its statements name by
    /// subject id), opened on first use with the master key (`subjects::master_key_path`) and the
    /// ledger's key, which signs its access log. A replica has no register.
    pub fn subjects(&self) -> Result<Arc<Subjects>, SubjectsError> {
        let mut slot = self.subjects.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Ok(Arc::clone(s));
        }
        let key = SecretKey::read_file(&LedgerPaths::new(self.dir()).key())?;
        let opened = Arc::new(Subjects::open(self.dir(), key)?);
        self.finish_erasures(&opened)?;
        *slot = Some(Arc::clone(&opened));
        Ok(opened)
    }

    /// The raw leaf bytes at `seq`, if it is covered by the latest checkpoint; checked against
    /// its hash in the Merkle tree (a mismatch stops the ledger and is an error, never served).
    pub fn leaf(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if seq >= self.checkpoint().size {
            return Ok(None);
        }
        self.shared.checked_leaf(seq).map(Some)
    }

    /// Appends a signed envelope given as bytes (as a client sends it).
    pub fn submit(&self, envelope_bytes: &[u8]) -> Result<Receipt, AppendError> {
        let envelope = Envelope::parse(envelope_bytes)?;
        self.submit_envelope(envelope)
    }

    /// Appends a signed envelope and waits until it is durable and checkpointed (or refused).
    pub fn submit_envelope(&self, envelope: Envelope) -> Result<Receipt, AppendError> {
        let rx = self.enqueue(envelope)?;
        match rx {
            Enqueued::Done(result) => result,
            Enqueued::Waiting(rx) => rx
                .recv()
                .unwrap_or_else(|_| Err(AppendError::Stopped(msg("err.ledger.sequencer_exited")))),
        }
    }

    fn enqueue(&self, envelope: Envelope) -> Result<Enqueued, AppendError> {
        if let Some(reason) = self.stopped() {
            return Err(AppendError::Stopped(reason));
        }
        if self.shared.key.is_none() {
            return Err(AppendError::ReadOnly);
        }
        let statement = Statement::parse(envelope.payload())?;
        let hash = payload_hash(envelope.payload());
        // A retry of a recorded statement is answered without touching the sequencer.
        if let Some(found) = self.shared.store.statement_id(statement.id.as_bytes())? {
            let checkpoint = self.checkpoint();
            if found.seq < checkpoint.size {
                let answer = self.duplicate_answer(&statement, hash, found, checkpoint);
                if answer.is_ok() {
                    self.shared.stats.duplicates.add(1);
                }
                return Ok(Enqueued::Done(answer));
            }
        }
        let state = self.state();
        let pre = rules::preverify(&state, &envelope, &statement);
        let (reply, rx) = mpsc::sync_channel(1);
        let request = Request {
            envelope,
            statement,
            payload_hash: hash,
            pre,
            reply,
        };
        let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let sender = queue
            .as_ref()
            .ok_or_else(|| AppendError::Stopped(msg("err.ledger.closed")))?;
        sender
            .send(request)
            .map_err(|_| AppendError::Stopped(msg("err.ledger.sequencer_exited")))?;
        Ok(Enqueued::Waiting(rx))
    }

    fn duplicate_answer(
        &self,
        statement: &Statement,
        hash: Hash,
        found: IdEntry,
        checkpoint: Arc<SignedCheckpoint>,
    ) -> Result<Receipt, AppendError> {
        // The leaf is the truth: the index entry is checked against it before either answer.
        let leaf_hash = self.shared.recorded(found)?;
        if found.payload_hash != hash {
            return Err(AppendError::IdConflict {
                id: statement.id.to_string(),
                seq: found.seq,
            });
        }
        Ok(Receipt {
            seq: found.seq,
            leaf_hash,
            duplicate: true,
            checkpoint,
        })
    }

    /// Why the ledger stopped accepting statements, if a storage failure stopped it.
    pub fn stopped_reason(&self) -> Option<Message> {
        self.stopped()
    }

    fn stopped(&self) -> Option<Message> {
        self.shared.stopped_reason()
    }

    /// An inclusion proof for `seq` in the tree of `size` leaves (at most the checkpoint size).
    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>, ProofRequestError> {
        let cp = self.checkpoint();
        if size > cp.size {
            return Err(ProofRequestError::BeyondCheckpoint {
                size,
                checkpoint: cp.size,
            });
        }
        let proof = merkle::inclusion_proof(&self.shared.nodes(), seq, size)?;
        // Served only once it proves the stored leaf hash against the signed checkpoint.
        let root = self.shared.trusted_root(size, &cp)?;
        let leaf_hash = self.shared.store.stored_node(0, seq)?.ok_or_else(|| {
            self.shared
                .corrupt(msg("err.ledger.leaf_hash_missing").arg("seq", seq))
        })?;
        merkle::verify_inclusion(seq, size, &leaf_hash, &proof, &root).map_err(|e| {
            self.shared.corrupt(
                msg("err.ledger.nodes_not_inclusion")
                    .arg("seq", seq)
                    .arg("size", size)
                    .arg("reason", e),
            )
        })?;
        Ok(proof)
    }

    /// A consistency proof between two tree sizes (at most the checkpoint size).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofRequestError> {
        let cp = self.checkpoint();
        if new > cp.size {
            return Err(ProofRequestError::BeyondCheckpoint {
                size: new,
                checkpoint: cp.size,
            });
        }
        let proof = merkle::consistency_proof(&self.shared.nodes(), old, new)?;
        // Served only once it links the stored root at `old` to a root proven against the
        // signed checkpoint (a wrong old root or proof fails here).
        if old > 0 {
            let old_root = merkle::root(&self.shared.nodes(), old)?;
            let new_root = self.shared.trusted_root(new, &cp)?;
            merkle::verify_consistency(old, new, &old_root, &new_root, &proof).map_err(|e| {
                self.shared.corrupt(
                    msg("err.ledger.nodes_not_consistent")
                        .arg("old", old)
                        .arg("new", new)
                        .arg("reason", e),
                )
            })?;
        }
        Ok(proof)
    }

    /// The Merkle root of the first `size` leaves (at most the checkpoint size), proven
    /// consistent with the signed checkpoint.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofRequestError> {
        let cp = self.checkpoint();
        if size > cp.size {
            return Err(ProofRequestError::BeyondCheckpoint {
                size,
                checkpoint: cp.size,
            });
        }
        self.shared.trusted_root(size, &cp)
    }

    /// The checkpoint of the first `size` leaves (at most the latest checkpoint's size): the
    /// latest itself, or one signed now over the root proven consistent with it. Signing is
    /// deterministic (Ed25519 over origin, size and root), so this is byte for byte the
    /// checkpoint the ledger gave when its log had `size` entries: the checkpoint history,
    /// derived rather than stored, for proofs, bundles and reports at an older size.
    pub fn checkpoint_at(&self, size: u64) -> Result<Arc<SignedCheckpoint>, ProofRequestError> {
        let cp = self.checkpoint();
        if size == cp.size {
            return Ok(cp);
        }
        let root = self.root_at(size)?;
        let key = self.shared.key.as_deref().ok_or_else(|| {
            ProofRequestError::Range(msg("err.ledger.replica_no_key").arg("checkpoint", cp.size))
        })?;
        let signed = sign_checkpoint(&self.shared.origin, size, root, key).map_err(|e| {
            ProofRequestError::Storage(StoreError::io(
                msg("err.ledger.cannot_sign").part("reason", e.explain()),
            ))
        })?;
        Ok(Arc::new(signed))
    }

    /// Rebuilds every projection from the log: opens the ledger (catching up), takes the digest
    /// of the views, drops them, folds the whole log again and takes the digest anew. Equal
    /// digests show that the views are a pure function of the log.
    ///
    /// The leaves' signatures were checked strictly when they were appended, and the signed
    /// checkpoint covers exactly these leaves, so by default the fold takes them as recorded and
    /// proves the leaves are those by recomputing the root; `verify_signatures` checks every
    /// signature again as well (all cores), for an operator who trusts nothing on the disk.
    pub fn rebuild(
        dir: &Path,
        verify_signatures: bool,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RebuildReport, OpenError> {
        let ledger = Self::open(dir)?;
        let size = ledger.checkpoint().size;
        let before = ledger.store().projection_digest()?;
        let origin = ledger.origin().clone();
        let vkey = ledger.verifier_key().to_string();
        ledger.close();
        let store = &ledger.shared.store;
        store.clear_projections()?;
        let mut state = rules::State::new(origin, vkey);
        let signatures = if verify_signatures {
            Signatures::Verify
        } else {
            Signatures::TrustRecorded
        };
        let (root, signatures_verified) = replay(store, &mut state, size, signatures, progress)?;
        let signed = ledger.checkpoint();
        if root != signed.root {
            return Err(corrupt(
                msg("err.ledger.rebuilt_root_differs").arg("size", size),
            ));
        }
        store.flush()?;
        let after = store.projection_digest()?;
        Ok(RebuildReport {
            size,
            before,
            after,
            signatures_verified,
        })
    }

    /// Stops the sequencer after it has finished (and answered) every queued statement.
    pub fn close(&self) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(threads) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            // The sequencer exits when the queue is empty; the committer when the sequencer's
            // last batch is answered and its checkpoint file written; the publisher after one
            // last publication.
            let _ = threads.sequencer.join();
            let _ = threads.committer.join();
            let (publisher, stop) = threads.publisher;
            drop(stop);
            let _ = publisher.join();
            // The views are written without a flush of their own; make them durable now so the
            // next open has nothing to catch up. A failure only means a catch-up next time.
            let _ = self.shared.store.flush();
        }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        self.close();
    }
}

enum Enqueued {
    Done(Result<Receipt, AppendError>),
    Waiting(mpsc::Receiver<Result<Receipt, AppendError>>),
}

/// A proof that cannot be served.
#[derive(Debug)]
pub enum ProofRequestError {
    BeyondCheckpoint {
        size: u64,
        checkpoint: u64,
    },
    /// Why the sizes or the entry asked for have no proof here.
    Range(Message),
    Storage(StoreError),
}

crate::english_display!(ProofRequestError);

impl Explain for ProofRequestError {
    fn explain(&self) -> Message {
        match self {
            Self::BeyondCheckpoint { size, checkpoint } => msg("err.ledger.beyond_checkpoint")
                .arg("size", size)
                .arg("checkpoint", checkpoint),
            Self::Range(why) => why.clone(),
            Self::Storage(e) => e.explain(),
        }
    }
}

impl From<StoreError> for ProofRequestError {
    fn from(e: StoreError) -> Self {
        Self::Storage(e)
    }
}

impl From<merkle::ProofError<StoreError>> for ProofRequestError {
    fn from(e: merkle::ProofError<StoreError>) -> Self {
        // The Merkle layer's own sentences, said here in the catalogue's words.
        match e {
            merkle::ProofError::Source(s) => Self::Storage(s),
            merkle::ProofError::IndexOutOfRange { index, size } => Self::Range(
                msg("err.ledger.proof_index_out_of_range")
                    .arg("index", index)
                    .arg("size", size),
            ),
            merkle::ProofError::BadSizes { old, new } => Self::Range(
                msg("err.ledger.proof_bad_sizes")
                    .arg("old", old)
                    .arg("new", new),
            ),
        }
    }
}

fn sign_checkpoint(
    origin: &Origin,
    size: u64,
    root: Hash,
    key: &SecretKey,
) -> Result<SignedCheckpoint, note::NoteError> {
    let cp = Checkpoint {
        origin: origin.clone(),
        size,
        root,
        extensions: Vec::new(),
    };
    let note = note::sign_checkpoint(&cp, key)?;
    Ok(SignedCheckpoint { note, size, root })
}

fn read_leaf(store: &LedgerStore, seq: u64) -> Result<(Leaf, Statement), OpenError> {
    let bytes = store
        .leaf(seq)?
        .ok_or_else(|| corrupt(msg("err.ledger.leaf_missing").arg("seq", seq)))?;
    check_leaf_hash(store, seq, &bytes)?;
    let leaf = Leaf::decode(&bytes).map_err(|e| bad_leaf(seq, e.explain()))?;
    let statement =
        Statement::parse(leaf.envelope.payload()).map_err(|e| bad_leaf(seq, e.explain()))?;
    Ok((leaf, statement))
}

/// Leaves folded into the projections per write when replaying.
const REPLAY_CHUNK_LEAVES: u64 = 4096;

/// An item's state from the projections.
/// The first item seal number `seal` was applied to, and the seq, from the stored seal index.
fn stored_seal(store: &LedgerStore, seal: &str) -> Option<(ItemId, u64)> {
    let entries = store.projection_scan(&projection::seal_prefix(seal)).ok()?;
    projection::first_seal_use(&entries)
}

fn stored_item(store: &LedgerStore, id: &ItemId) -> Option<ItemState> {
    let bytes = store
        .projection_get(&projection::key(
            projection::ITEMS,
            &[id.as_str().as_bytes()],
        ))
        .ok()??;
    projection::decode(&bytes).ok()
}

/// A leaf read while opening must hash to its stored level-0 node: the state and the views are
/// built only from leaves the Merkle tree vouches for.
fn check_leaf_hash(store: &LedgerStore, seq: u64, bytes: &[u8]) -> Result<(), OpenError> {
    if store.stored_node(0, seq)? != Some(merkle::leaf_hash(bytes)) {
        return Err(corrupt(
            msg("err.ledger.leaf_hash_mismatch").arg("seq", seq),
        ));
    }
    Ok(())
}

/// Refuses a folder that lacks the sled directory or the ledger key.
pub(crate) fn check_ledger_files(dir: &Path, paths: &LedgerPaths) -> Result<(), OpenError> {
    let not_a_ledger = |reason: &'static str| OpenError::NotALedger {
        path: dir.display().to_string(),
        reason: msg(reason),
    };
    if !paths.sled().exists() {
        return Err(not_a_ledger("err.ledger.no_sled"));
    }
    if !paths.key().exists() && !paths.vkey().exists() {
        return Err(not_a_ledger("err.ledger.no_key_file"));
    }
    Ok(())
}

/// The ledger key, or `None` for a read-only replica: a ledger imported without its key keeps the
/// verifier key instead (`private/vkey`).
fn read_key(paths: &LedgerPaths) -> Result<Option<Arc<SecretKey>>, OpenError> {
    if !paths.key().exists() && paths.vkey().exists() {
        return Ok(None);
    }
    Ok(Some(Arc::new(SecretKey::read_file(&paths.key())?)))
}

/// The origin stored in sled and the verifier key: made from the ledger key, or, in a replica,
/// read from `private/vkey`, which must name the same origin.
fn ledger_identity(
    dir: &Path,
    paths: &LedgerPaths,
    store: &LedgerStore,
    key: Option<&SecretKey>,
) -> Result<(Origin, VerifierKey), OpenError> {
    if let Some(key) = key {
        return stored_origin(dir, store, key);
    }
    let origin = store
        .origin()?
        .ok_or_else(|| corrupt(msg("err.ledger.no_origin")))?;
    let text = std::fs::read_to_string(paths.vkey()).map_err(|e| io_at(&paths.vkey(), &e))?;
    let vkey = VerifierKey::parse(text.trim())
        .map_err(|e| corrupt(e.explain().after(&paths.vkey().display().to_string())))?;
    if vkey.name() != origin {
        return Err(corrupt(
            msg("err.ledger.vkey_origin")
                .arg("path", paths.vkey().display())
                .arg("name", vkey.name())
                .arg("origin", &origin),
        ));
    }
    let origin = Origin::parse(&origin)
        .map_err(|e| corrupt(msg("err.ledger.stored_origin").part("reason", e.explain())))?;
    Ok((origin, vkey))
}

/// Opens the ledger's storage and brings sled up to the journal, noting in `repairs` a torn tail
/// cut and a catch-up. Answers the store and its head.
fn open_store(
    dir: &Path,
    faults: Option<Arc<Faults>>,
    repairs: &mut Vec<Repair>,
) -> Result<(LedgerStore, Head), OpenError> {
    let store = LedgerStore::open_with_faults(dir, faults)?;
    if store.tail_cut().bytes > 0 {
        repairs.push(Repair::TailCut(store.tail_cut().clone()));
    }
    let sled_head = store.head()?;
    let head = catch_up_tree(&store, sled_head)?;
    if head.size > sled_head.size {
        repairs.push(Repair::CaughtUp {
            from: sled_head.size,
            to: head.size,
        });
    }
    Ok((store, head))
}

/// Refuses a ledger in another storage layout than this version's: an older one names
/// `custody upgrade`; a newer one (or a damaged layout file) is not opened at all.
fn check_layout(dir: &Path) -> Result<(), OpenError> {
    match layout::read(dir)? {
        layout::LAYOUT_VERSION => Ok(()),
        // Same files; the new number keeps versions that know only layout 2 from opening a
        // journal that later drops segments. Written under the ledger's lock, before any drop.
        // Layout 3 to 4 likewise converts nothing (see `layout::LAYOUT_SLED_ALL_NODES`).
        layout::LAYOUT_JOURNAL_FROM_ZERO | layout::LAYOUT_SLED_ALL_NODES => Ok(layout::write(dir)?),
        layout::LAYOUT_UNNAMED
            if !dir.join(layout::LEGACY_SLED_DIR).exists() && !dir.join(SLED_DIR).exists() =>
        {
            Err(OpenError::NotALedger {
                path: dir.display().to_string(),
                reason: msg("err.ledger.no_layout"),
            })
        }
        found if found < layout::LAYOUT_VERSION => Err(OpenError::OldLayout {
            path: dir.display().to_string(),
            found,
            wanted: layout::LAYOUT_VERSION,
        }),
        found => Err(OpenError::NotALedger {
            path: dir.display().to_string(),
            reason: msg("err.ledger.newer_layout")
                .arg("found", found)
                .arg("wanted", layout::LAYOUT_VERSION),
        }),
    }
}

/// Brings sled up to the journal. sled is written after the journal has made a batch durable and
/// is flushed only every `SLED_FLUSH_INTERVAL_MS`, so after a crash it may lack the last batches:
/// their Merkle nodes, id index entries and identity marks are derived from the journal again, in
/// chunks, and the head moved to the journal's end. Answers the new head. sled ahead of the
/// journal is corruption: the journal lost entries sled saw durable.
fn catch_up_tree(store: &LedgerStore, head: Head) -> Result<Head, OpenError> {
    let len = store.log_len();
    if head.size > len {
        return Err(corrupt(
            msg("err.ledger.journal_short")
                .arg("size", head.size)
                .arg("len", len),
        ));
    }
    let mut range = compact_range(store, head.size)?;
    if range.root() != head.root {
        return Err(corrupt(
            msg("err.ledger.head_mismatch").arg("size", head.size),
        ));
    }
    let mut at = head.size;
    while at < len {
        let end = (at + REPLAY_CHUNK_LEAVES).min(len);
        let mut batch = AppendBatch::default();
        for (seq, bytes) in (at..end).zip(store.leaves(at, end)?) {
            let leaf = Leaf::decode(&bytes).map_err(|e| bad_leaf(seq, e.explain()))?;
            if leaf.seq != seq {
                return Err(bad_leaf(
                    seq,
                    msg("err.ledger.leaf_says_seq").arg("said", leaf.seq),
                ));
            }
            let payload = leaf.envelope.payload();
            let statement = Statement::parse(payload).map_err(|e| bad_leaf(seq, e.explain()))?;
            for (level, index, hash) in range.append(merkle::leaf_hash(&bytes)) {
                batch.node(level, index, &hash);
            }
            let payload_hash = payload_hash(payload);
            batch.statement_id(statement.id.as_bytes(), IdEntry { seq, payload_hash });
            if statement.kind.is_identity() {
                batch.identity(seq);
            }
        }
        batch.head(Head {
            size: end,
            root: range.root(),
        });
        store.append(batch)?;
        at = end;
    }
    Ok(Head {
        size: len,
        root: range.root(),
    })
}

/// The origin stored in sled, and the verifier key it makes with the ledger key.
pub(crate) fn stored_origin(
    dir: &Path,
    store: &LedgerStore,
    key: &SecretKey,
) -> Result<(Origin, VerifierKey), OpenError> {
    let origin_text = store.origin()?.ok_or_else(|| OpenError::NotALedger {
        path: dir.display().to_string(),
        reason: msg("err.ledger.no_origin"),
    })?;
    let origin = Origin::parse(&origin_text)
        .map_err(|e| corrupt(msg("err.ledger.stored_origin").part("reason", e.explain())))?;
    let vkey = VerifierKey::new(origin.as_str(), key.public())
        .map_err(|e| corrupt(msg("err.ledger.key").part("reason", e.explain())))?;
    Ok((origin, vkey))
}

/// The root of the stored Merkle nodes for the stored head, which must be the head's root.
fn checked_head_root(store: &LedgerStore, head: Head) -> Result<Hash, OpenError> {
    let root_now = merkle::root(store, head.size)?;
    if root_now != head.root {
        return Err(corrupt(
            msg("err.ledger.head_mismatch").arg("size", head.size),
        ));
    }
    Ok(root_now)
}

/// Where the sequencer continues from: the identity state, the Merkle edge and the last leaf.
struct Tip {
    state: rules::State,
    range: CompactRange,
    last_leaf: Hash,
    last_recorded: Option<Timestamp>,
}

/// The tip the sequencer continues from, over the identity state `state`: the stored edge and
/// the last leaf of a log of `size`, both checked against the verified `root`, so a bad read
/// here cannot leak into new leaves.
fn verified_tip(
    store: &LedgerStore,
    size: u64,
    root: Hash,
    state: rules::State,
) -> Result<Tip, OpenError> {
    let range = compact_range(store, size)?;
    if range.root() != root {
        return Err(corrupt(msg("err.ledger.edge_mismatch")));
    }
    let (last_leaf, last_recorded) = last_leaf(store, size, &root)?;
    Ok(Tip {
        state,
        range,
        last_leaf,
        last_recorded,
    })
}

/// The checkpoint of the log's head: the latest signed one if it covers the head, else a new one
/// signed now and written to the checkpoint file (for leaves flushed but never checkpointed).
fn checkpoint_for_head(
    latest: Option<SignedCheckpoint>,
    origin: &Origin,
    head: Head,
    root: Hash,
    key: Option<&SecretKey>,
    file: &CheckpointFile,
) -> Result<SignedCheckpoint, OpenError> {
    Ok(match latest {
        Some(cp) if cp.size == head.size => cp,
        _ => {
            let key = key.ok_or_else(|| {
                corrupt(msg("err.ledger.replica_unsigned").arg("size", head.size))
            })?;
            let signed =
                sign_checkpoint(origin, head.size, root, key).map_err(|e| corrupt(e.explain()))?;
            file.write(signed.note.as_bytes())?;
            signed
        }
    })
}

/// The hash of the last leaf of a log of `size` (the next leaf's `prev`) and its recorded time,
/// proven against the verified `root`, so a bad read here cannot leak into new leaves.
fn last_leaf(
    store: &LedgerStore,
    size: u64,
    root: &Hash,
) -> Result<(Hash, Option<Timestamp>), OpenError> {
    if size == 0 {
        return Ok((GENESIS_PREV, None));
    }
    let last = size - 1;
    let bytes = store
        .leaf(last)?
        .ok_or_else(|| corrupt(msg("err.ledger.leaf_missing").arg("seq", last)))?;
    let leaf = Leaf::decode(&bytes).map_err(|e| bad_leaf(last, e.explain()))?;
    let hash = merkle::leaf_hash(&bytes);
    let proof = merkle::inclusion_proof(store, last, size)
        .map_err(|e| bad_leaf(last, ProofRequestError::from(e).explain()))?;
    merkle::verify_inclusion(last, size, &hash, &proof, root).map_err(|e| {
        corrupt(
            msg("err.ledger.leaf_not_in_tree")
                .arg("seq", last)
                .arg("reason", e),
        )
    })?;
    Ok((hash, Some(leaf.recorded_at)))
}

/// The newest checkpoint this ledger ever signed: the larger of sled's copy and the file's. A
/// checkpoint that does not verify, or that the log does not extend, is corruption.
pub(crate) fn latest_checkpoint(
    store: &LedgerStore,
    file: &CheckpointFile,
    vkey: &VerifierKey,
    head: Head,
) -> Result<Option<SignedCheckpoint>, OpenError> {
    let mut latest: Option<SignedCheckpoint> = None;
    // Each copy names itself in the refusal, a sentence of its own in the catalogue.
    for (unverified, bytes) in [
        ("err.ledger.file_checkpoint_unverified", file.read()?),
        ("err.ledger.sled_checkpoint_unverified", store.checkpoint()?),
    ] {
        let Some(bytes) = bytes else { continue };
        let cp = note::open_checkpoint(&bytes, vkey)
            .map_err(|e| corrupt(msg(unverified).part("reason", e.explain())))?;
        let signed = SignedCheckpoint {
            note: String::from_utf8_lossy(&bytes).into_owned(),
            size: cp.size,
            root: cp.root,
        };
        if latest.as_ref().is_none_or(|l| signed.size > l.size) {
            latest = Some(signed);
        }
    }
    if let Some(cp) = &latest {
        if head.size < cp.size {
            return Err(corrupt(
                msg("err.ledger.log_short")
                    .arg("size", head.size)
                    .arg("checkpoint", cp.size),
            ));
        }
        let root_then = merkle::root(store, cp.size)?;
        if root_then != cp.root {
            return Err(corrupt(msg("err.ledger.log_altered").arg("size", cp.size)));
        }
    }
    Ok(latest)
}

/// Brings the identity state and the views up to the log's head. The views are disposable: when
/// catching them up from their watermark fails (a watermark beyond the log or malformed, a view
/// that no longer agrees with the leaves), they are dropped and rebuilt from the whole log, and
/// the sentence saying so is returned. Only a log that fails from scratch is an error.
fn catch_up(
    store: &LedgerStore,
    origin: &Origin,
    vkey: &VerifierKey,
    head: Head,
) -> Result<(rules::State, Option<Repair>), OpenError> {
    let first = match (store.projection_watermark(), store.projection_format()) {
        (Err(e), _) | (_, Err(e)) => Err(e.into()),
        // Views of another format (an older version's) are rebuilt, not read.
        (Ok(watermark), Ok(format)) if watermark > 0 && format != projection::VIEWS_FORMAT => {
            Err(corrupt(
                msg("err.ledger.view_format")
                    .arg("format", format)
                    .arg("wanted", projection::VIEWS_FORMAT),
            ))
        }
        (Ok(watermark), _) if watermark <= head.size => {
            catch_up_from(store, origin, vkey, head, watermark)
        }
        (Ok(watermark), _) => Err(corrupt(
            msg("err.ledger.watermark_beyond")
                .arg("watermark", watermark)
                .arg("size", head.size),
        )),
    };
    match first {
        Ok(state) => Ok((state, None)),
        // Only the views can be at fault when catching up from them fails but from scratch not.
        Err(why) => {
            store.clear_projections()?;
            let state = catch_up_from(store, origin, vkey, head, 0)?;
            Ok((
                state,
                Some(Repair::ViewsRebuilt {
                    entries: head.size,
                    why: why.explain(),
                }),
            ))
        }
    }
}

/// "leaf `seq` no longer passes the rules": a recorded leaf the rules now refuse.
fn no_longer_passes(seq: u64, e: &RuleError) -> OpenError {
    corrupt(
        msg("err.ledger.leaf_fails_rules")
            .arg("seq", seq)
            .part("reason", e.explain()),
    )
}

/// Replays (and re-checks) the identity statements before `watermark`, then folds every leaf from
/// `watermark` to the head into the identity state and the views.
fn catch_up_from(
    store: &LedgerStore,
    origin: &Origin,
    vkey: &VerifierKey,
    head: Head,
    watermark: u64,
) -> Result<rules::State, OpenError> {
    let mut state = rules::State::new(origin.clone(), vkey.to_string());
    for seq in store.identity_seqs()? {
        if seq >= head.size {
            return Err(corrupt(
                msg("err.ledger.identity_beyond")
                    .arg("seq", seq)
                    .arg("size", head.size),
            ));
        }
        if seq >= watermark {
            break;
        }
        let (leaf, statement) = read_leaf(store, seq)?;
        rules::skip_to(&mut state, seq);
        let admitted = custody::admit(
            &state,
            &custody::NoItems,
            leaf.envelope,
            statement,
            None,
            leaf.recorded_at,
        )
        .map_err(|e| no_longer_passes(seq, &e))?;
        rules::apply(&mut state, &admitted);
    }
    rules::skip_to(&mut state, watermark);
    replay(
        store,
        &mut state,
        head.size,
        Signatures::Verify,
        &mut |_, _| {},
    )?;
    Ok(state)
}

/// Checks a replayed leaf against the Merkle tree with the hash replay computes anyway: each group
/// of `GROUP_LEAVES` leaves against sled's node over it when `nodes` (what appending the leaf to
/// the replay's range completed) holds that node, and a leaf of the last, incomplete group of
/// `..to` against its level-0 node.
fn check_replayed(
    store: &LedgerStore,
    seq: u64,
    to: u64,
    leaf_hash: &Hash,
    nodes: Vec<(u8, u64, Hash)>,
) -> Result<(), OpenError> {
    use crate::storage::low_nodes::{GROUP_LEAVES, SLED_NODE_LEVEL_MIN};
    if seq >= to / GROUP_LEAVES * GROUP_LEAVES {
        if store.stored_node(0, seq)? != Some(*leaf_hash) {
            return Err(corrupt(
                msg("err.ledger.leaf_hash_mismatch").arg("seq", seq),
            ));
        }
        return Ok(());
    }
    for (level, index, hash) in nodes {
        if level == SLED_NODE_LEVEL_MIN && store.stored_node(level, index)? != Some(hash) {
            return Err(corrupt(
                msg("err.ledger.group_mismatch")
                    .arg("from", index * GROUP_LEAVES)
                    .arg("to", (index + 1) * GROUP_LEAVES)
                    .arg("level", level)
                    .arg("index", index),
            ));
        }
    }
    Ok(())
}

/// Folds leaves `state.size()..to` into the identity state and the projections, re-checking each
/// (signatures pre-verified in parallel), and moves the projection watermark along.
fn replay(
    store: &LedgerStore,
    state: &mut rules::State,
    to: u64,
    signatures: Signatures,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(Hash, u64), OpenError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut range = compact_range(store, state.size())?;
    let mut verified = 0u64;
    while state.size() < to {
        let start = state.size();
        let end = (start + REPLAY_CHUNK_LEAVES).min(to);
        let decoded =
            crate::app::verify::decode_chunk(store, state, start, end, threads, signatures)
                .map_err(|e| corrupt(e.explain()))?;
        let mut overlay: HashMap<ItemId, ItemState> = HashMap::new();
        let mut seals: HashMap<String, (ItemId, u64)> = HashMap::new();
        let mut writes = Vec::new();
        for item in decoded {
            let seq = state.size();
            let (bytes, leaf, statement, pre) = item.map_err(|e| corrupt(e.explain()))?;
            let leaf_hash = merkle::leaf_hash(&bytes);
            check_replayed(store, seq, to, &leaf_hash, range.append(leaf_hash))?;
            if signatures == Signatures::Verify {
                verified += leaf.envelope.signatures().len() as u64;
            }
            let view = custody::View {
                items: |id: &ItemId| overlay.get(id).cloned().or_else(|| stored_item(store, id)),
                seals: |seal: &str| {
                    seals
                        .get(seal)
                        .cloned()
                        .or_else(|| stored_seal(store, seal))
                },
            };
            let recorded_at = leaf.recorded_at;
            let admitted = custody::admit(
                state,
                &view,
                leaf.envelope,
                statement,
                Some(&pre),
                recorded_at,
            )
            .map_err(|e| no_longer_passes(seq, &e))?;
            let changes = custody::apply(state, &view, &admitted, &leaf_hash, leaf.recorded_at);
            writes.extend(projection::writes(
                state,
                &admitted,
                &leaf_hash,
                leaf.recorded_at,
                &changes,
            ));
            for (item, _, seal) in custody::seals_applied(admitted.statement()) {
                seals.entry(seal).or_insert((item, seq));
            }
            for c in changes {
                overlay.insert(c.after.id.clone(), c.after);
            }
            rules::apply(state, &admitted);
        }
        store.apply_projection(&writes, end)?;
        progress(end, to);
    }
    Ok((range.root(), verified))
}

/// The right edge of the tree of `size` leaves, read from stored complete subtrees.
fn compact_range(store: &LedgerStore, size: u64) -> Result<CompactRange, OpenError> {
    let mut peaks = Vec::new();
    let mut start = 0u64;
    for level in (0..64u8).rev() {
        if size & (1u64 << level) != 0 {
            let index = start >> level;
            peaks.push(merkle::NodeSource::node(store, level, index)?);
            start += 1u64 << level;
        }
    }
    CompactRange::from_parts(size, peaks)
        .map_err(|e| corrupt(msg("err.ledger.stored_edge").arg("reason", e)))
}

impl Sequencer {
    /// A sequencer continuing from `tip`; `applied` tells it which batches' views the committer
    /// has applied.
    fn continuing(
        shared: Arc<Shared>,
        key: Option<Arc<SecretKey>>,
        clock: Arc<dyn Clock>,
        tip: Tip,
        applied: mpsc::Receiver<u64>,
    ) -> Self {
        let Tip {
            state,
            range,
            last_leaf,
            last_recorded,
        } = tip;
        Sequencer {
            shared,
            key,
            clock,
            state,
            range,
            last_leaf,
            last_recorded,
            overlay: HashMap::new(),
            seal_overlay: HashMap::new(),
            in_flight: HashMap::new(),
            number: 0,
            applied,
            views: Vec::new(),
        }
    }

    fn run(mut self, rx: mpsc::Receiver<Request>, commits: mpsc::SyncSender<Staged>) {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < BATCH_STATEMENTS_MAX {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            let reason = if let Some(reason) = self.shared.stopped_reason() {
                // The committer stopped (a flush or checkpoint failed): the working state may be
                // ahead of the disk, so nothing more is staged.
                for r in batch {
                    let _ = r.reply.send(Err(AppendError::Stopped(reason.clone())));
                }
                reason
            } else {
                match self.stage(batch) {
                    Ok(staged) => match commits.send(staged) {
                        Ok(()) => continue,
                        Err(mpsc::SendError(staged)) => {
                            let e = StoreError::io(msg("err.ledger.committer_exited"));
                            not_acknowledged(staged.appended, &e);
                            self.shared.stop(&e)
                        }
                    },
                    // `stage` answered its own batch.
                    Err(e) => self.shared.stop(&e),
                }
            };
            // Stop for good. Reopening rebuilds the working state from what is durable. Requests
            // still queued are refused, not acknowledged.
            while let Ok(r) = rx.try_recv() {
                let _ = r.reply.send(Err(AppendError::Stopped(reason.clone())));
            }
            return;
        }
    }

    /// Builds one group commit (nothing written yet); the committer
    /// makes it durable and answers. Refused statements are answered at once. On a storage error
    /// every statement of the batch is answered with it.
    fn stage(&mut self, batch: Vec<Request>) -> Result<Staged, StoreError> {
        self.forget_applied();
        self.number += 1;
        let started = std::time::Instant::now();
        let mut writes = AppendBatch::default();
        let (appended, identity_changed) = self.admit_batch(batch, &mut writes)?;
        if writes.leaf_count() == 0 {
            // Only duplicates: answered by the committer once every earlier batch is durable
            // (a duplicate may sit in a batch still being flushed).
            return Ok(Staged {
                number: self.number,
                writes: None,
                checkpoint: None,
                views: Vec::new(),
                appended,
                new_leaves: 0,
                state: None,
                started,
            });
        }
        self.write_batch(writes, appended, identity_changed, started)
    }

    /// Drops from the overlay the items whose views the committer has applied since: they are
    /// read from the views again.
    fn forget_applied(&mut self) {
        while let Ok(applied) = self.applied.try_recv() {
            self.overlay.retain(|_, (number, _)| *number > applied);
            self.seal_overlay
                .retain(|_, (number, ..)| *number > applied);
            self.in_flight.retain(|_, (number, ..)| *number > applied);
        }
    }

    /// Admits every request of the batch into `writes`, in order, answering refusals at once.
    /// Answers the writers to answer once the batch is durable, and whether the identity state
    /// changed. On a storage error every writer of the batch is answered with it.
    fn admit_batch(
        &mut self,
        batch: Vec<Request>,
        writes: &mut AppendBatch,
    ) -> Result<(Vec<Appended>, bool), StoreError> {
        let mut appended: Vec<Appended> = Vec::with_capacity(batch.len());
        let mut in_batch: HashMap<[u8; 16], (u64, Hash, Hash)> = HashMap::new();
        let mut identity_changed = false;
        for request in batch {
            let reply = request.reply.clone();
            match self.admit(request, writes, &mut in_batch) {
                Ok(Admit::New {
                    seq,
                    leaf_hash,
                    identity,
                }) => {
                    identity_changed |= identity;
                    appended.push(Appended {
                        reply,
                        seq,
                        leaf_hash,
                        duplicate: false,
                    });
                }
                Ok(Admit::Duplicate { seq, leaf_hash }) => {
                    appended.push(Appended {
                        reply,
                        seq,
                        leaf_hash,
                        duplicate: true,
                    });
                }
                Err(AppendError::Storage(e)) => {
                    // The store failed or lied while admitting: nothing of this batch is written,
                    // and the sequencer stops (see `run`).
                    let _ = reply.send(Err(AppendError::Storage(e.clone())));
                    not_acknowledged(appended, &e);
                    return Err(e);
                }
                Err(err) => {
                    self.shared.stats.refused.add(1);
                    let _ = reply.send(Err(err));
                }
            }
        }
        Ok((appended, identity_changed))
    }

    /// Signs the checkpoint for the new size and root and adds it and the head to `writes`, for
    /// the committer to write. On a failure every writer of the batch is told nothing was
    /// acknowledged.
    fn write_batch(
        &mut self,
        mut writes: AppendBatch,
        appended: Vec<Appended>,
        identity_changed: bool,
        started: std::time::Instant,
    ) -> Result<Staged, StoreError> {
        let size = self.range.size();
        let root = self.range.root();
        // Signed here, off the committer's path; the committer writes sled's copy with the head.
        let Some(key) = self.key.as_deref() else {
            let e = StoreError::misuse(msg("err.ledger.replica_appends_nothing"));
            not_acknowledged(appended, &e);
            return Err(e);
        };
        let signed = match sign_checkpoint(&self.shared.origin, size, root, key) {
            Ok(signed) => signed,
            Err(e) => {
                let e = StoreError::io(
                    msg("err.ledger.cannot_sign_checkpoint").part("reason", e.explain()),
                );
                not_acknowledged(appended, &e);
                return Err(e);
            }
        };
        writes.checkpoint(signed.note.as_bytes());
        writes.head(Head { size, root });
        let new_leaves = writes.leaf_count();
        Ok(Staged {
            number: self.number,
            writes: Some(writes),
            checkpoint: Some(signed),
            views: std::mem::take(&mut self.views),
            appended,
            new_leaves,
            state: identity_changed.then(|| Arc::new(self.state.clone())),
            started,
        })
    }
}

/// A group commit built by the sequencer, for the committer to make durable
/// and answer.
struct Staged {
    /// Batches are numbered from 1 in the order they are staged (and committed).
    number: u64,
    /// The leaves (for the journal) and what they add to sled; `None` with `checkpoint`.
    writes: Option<AppendBatch>,
    /// The checkpoint covering the batch (also in the batch, as sled's copy); `None` when the
    /// batch appended nothing (only duplicates to answer).
    checkpoint: Option<SignedCheckpoint>,
    views: Vec<projection::Write>,
    appended: Vec<Appended>,
    new_leaves: u64,
    /// The identity state after the batch, when the batch changed it.
    state: Option<Arc<rules::State>>,
    started: std::time::Instant,
}

/// The second stage of the write path: flushes what the sequencer staged, applies the views,
/// answers the writers, then writes the checkpoint file. While it waits on the disk, the
/// sequencer admits the next batch.
struct Committer {
    shared: Arc<Shared>,
    /// Numbers of batches whose views are applied: the sequencer drops them from its overlay.
    applied: mpsc::Sender<u64>,
    /// The newest checkpoint not yet in the checkpoint file, and when the file was last written.
    unwritten: Option<String>,
    written_at: std::time::Instant,
    /// `CHECKPOINT_FILE_INTERVAL_MS`, or zero (every batch) under injected faults.
    interval: std::time::Duration,
    /// Whether sled holds batches written since its last flush, and when that flush was.
    sled_dirty: bool,
    flushed_at: std::time::Instant,
}

/// How long sled may hold batches it has not flushed while statements keep coming. sled is not
/// the acknowledgement point (the journal is), so this bounds only how much an open after a
/// power cut catches up from the journal: about a second of appends.
const SLED_FLUSH_INTERVAL_MS: u64 = 1000;

/// How far the checkpoint file may trail the log while statements keep coming. The file exists to
/// catch a journal or sled rolled back to an older copy; the journal's fdatasync is what makes an
/// acknowledgement durable (a checkpoint the file lacks is signed again, identically). Writing the file
/// (with its own fdatasync) once per interval rather than once per batch keeps a second device
/// flush out of every group commit; on close, and whenever no statement is waiting, it is
/// brought up to date.
const CHECKPOINT_FILE_INTERVAL_MS: u64 = 50;

impl Committer {
    fn run(mut self, rx: mpsc::Receiver<Staged>) {
        let interval = self.interval;
        let idle = std::time::Duration::from_millis(CHECKPOINT_FILE_INTERVAL_MS);
        loop {
            let staged = match rx.recv_timeout(idle) {
                Ok(staged) => staged,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.write_checkpoint_file();
                    self.flush_sled();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            if let Some(reason) = self.shared.stopped_reason() {
                for a in staged.appended {
                    a.refuse(reason.clone());
                }
                continue;
            }
            match self.commit(staged) {
                Ok(()) => {
                    if self.written_at.elapsed() >= interval {
                        self.write_checkpoint_file();
                    }
                    if self.flushed_at.elapsed().as_millis() as u64 >= SLED_FLUSH_INTERVAL_MS {
                        self.flush_sled();
                    }
                }
                Err(e) => {
                    self.shared.stop(&e);
                }
            }
        }
        // Closing: the file gets the last checkpoint, which covers only durable leaves.
        self.write_checkpoint_file();
        self.flush_sled();
    }

    /// Flushes sled when it holds batches written since the last flush. A failure stops the
    /// ledger: sled's state on disk is no longer known, and reopening catches it up from the
    /// journal.
    fn flush_sled(&mut self) {
        if !self.sled_dirty || self.shared.stopped_reason().is_some() {
            return;
        }
        self.flushed_at = std::time::Instant::now();
        self.sled_dirty = false;
        if let Err(e) = self.shared.store.flush() {
            self.shared.stop(&e);
        }
    }

    /// Brings the checkpoint file up to date. A failure stops the ledger: nothing is
    /// acknowledged after it.
    fn write_checkpoint_file(&mut self) {
        let Some(note) = self.unwritten.take() else {
            return;
        };
        self.written_at = std::time::Instant::now();
        match self.shared.checkpoint_file.write(note.as_bytes()) {
            Ok(()) => crash_point("after-checkpoint"),
            Err(e) => {
                self.shared.stop(&e);
            }
        }
    }

    /// Makes one staged batch durable, then answers it. On a storage error before the answer,
    /// every writer of the batch is told nothing was acknowledged.
    fn commit(&mut self, staged: Staged) -> Result<(), StoreError> {
        let Staged {
            number,
            writes,
            checkpoint,
            views,
            appended,
            new_leaves,
            state,
            started,
        } = staged;
        let Some(signed) = checkpoint else {
            // Every earlier batch is committed: the published checkpoint covers the duplicates.
            let checkpoint = self.shared.published_checkpoint();
            for a in appended {
                a.answer(&checkpoint);
            }
            return Ok(());
        };
        let size = signed.size;
        let writes = writes.expect("a batch with a checkpoint has writes");
        if let Err(e) = self.write(writes, &views, size - new_leaves, size) {
            not_acknowledged(appended, &e);
            return Err(e);
        }
        let stats = &self.shared.stats;
        let _ = self.applied.send(number);
        // The batch is durable: the upper nodes it completed join the proof cache. A failed read
        // only leaves them to the store until the next batch tries again.
        let _ = self.shared.upper.extend(&self.shared.store, size);
        let note = signed.note.clone();
        let checkpoint = Arc::new(signed);
        {
            let mut published = self
                .shared
                .published
                .write()
                .unwrap_or_else(|p| p.into_inner());
            published.checkpoint = Arc::clone(&checkpoint);
            if let Some(state) = state {
                published.state = state;
            }
        }
        stats
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        stats.batch_statements.observe(new_leaves as f64);
        for a in appended {
            if a.duplicate {
                stats.duplicates.add(1);
            } else {
                stats.appended.add(1);
            }
            a.answer(&checkpoint);
        }
        // The checkpoint file (the copy outside the journal and sled that catches either rolled
        // back) follows (see `CHECKPOINT_FILE_INTERVAL_MS`): the acknowledged leaves are already
        // durable in the journal, and their checkpoint can be signed again identically.
        self.unwritten = Some(note);
        Ok(())
    }

    /// Writes one batch: its leaves `first .. size` to the journal (one write, one fdatasync: the
    /// acknowledgement point), then what they add to sled and the views. sled and the views are
    /// not needed for durability (opening catches them up from the journal), so they get no
    /// flush of their own here; they are written before the answer so that a writer reads its
    /// own statement back.
    fn write(
        &mut self,
        writes: AppendBatch,
        views: &[projection::Write],
        first: u64,
        size: u64,
    ) -> Result<(), StoreError> {
        crash_point("before-write");
        let writing = std::time::Instant::now();
        let journaled = self.shared.store.append_leaves(&writes, first);
        self.shared
            .stats
            .flush_seconds
            .observe(writing.elapsed().as_secs_f64());
        journaled?;
        crash_point("after-write");
        self.shared.store.append(writes)?;
        self.shared.store.apply_projection(views, size)?;
        crash_point("after-flush");
        self.sled_dirty = true;
        Ok(())
    }
}

impl Sequencer {
    /// Checks one statement against the working state and, if admitted, adds its leaf to the
    /// batch.
    fn admit(
        &mut self,
        request: Request,
        writes: &mut AppendBatch,
        in_batch: &mut HashMap<[u8; 16], (u64, Hash, Hash)>,
    ) -> Result<Admit, AppendError> {
        let Request {
            envelope,
            statement,
            payload_hash,
            pre,
            reply: _,
        } = request;
        let id = *statement.id.as_bytes();
        // The same id earlier in this batch, or already durable: a retry racing itself.
        if let Some((seq, leaf_hash, hash)) = self.earlier(&id, in_batch)? {
            if hash != payload_hash {
                return Err(AppendError::IdConflict {
                    id: statement.id.to_string(),
                    seq,
                });
            }
            return Ok(Admit::Duplicate { seq, leaf_hash });
        }
        let identity = statement.kind.is_identity();
        let recorded_at = self.next_recorded_at();
        let view = custody::View {
            items: |id: &ItemId| self.item(id),
            seals: |seal: &str| self.seal(seal),
        };
        let admitted = custody::admit(
            &self.state,
            &view,
            envelope,
            statement,
            Some(&pre),
            recorded_at,
        )?;
        let seq = admitted.seq();
        let leaf = Leaf {
            seq,
            recorded_at,
            prev: self.last_leaf,
            envelope: admitted.envelope().clone(),
        };
        let bytes = leaf.encode()?;
        let leaf_hash = merkle::leaf_hash(&bytes);
        self.fold(&admitted, &leaf_hash, recorded_at);
        self.add_leaf(writes, bytes, leaf_hash);
        writes.statement_id(&id, IdEntry { seq, payload_hash });
        if identity {
            writes.identity(seq);
        }
        self.last_leaf = leaf_hash;
        self.last_recorded = Some(recorded_at);
        in_batch.insert(id, (seq, leaf_hash, payload_hash));
        self.in_flight
            .insert(id, (self.number, seq, leaf_hash, payload_hash));
        Ok(Admit::New {
            seq,
            leaf_hash,
            identity,
        })
    }

    /// The seq, leaf hash and payload hash of statement `id` if it is earlier in this batch or
    /// already durable.
    fn earlier(
        &self,
        id: &[u8; 16],
        in_batch: &HashMap<[u8; 16], (u64, Hash, Hash)>,
    ) -> Result<Option<(u64, Hash, Hash)>, StoreError> {
        let in_flight = self
            .in_flight
            .get(id)
            .map(|&(_, seq, leaf_hash, hash)| (seq, leaf_hash, hash));
        Ok(match in_batch.get(id).copied().or(in_flight) {
            Some((seq, leaf_hash, hash)) => Some((seq, leaf_hash, hash)),
            None => match self.shared.store.statement_id(id)? {
                Some(found) => {
                    let leaf_hash = self.shared.recorded(found)?;
                    Some((found.seq, leaf_hash, found.payload_hash))
                }
                None => None,
            },
        })
    }

    /// The `recorded_at` of the next leaf: now, but never earlier than the last leaf's, even if
    /// the wall clock goes backwards.
    fn next_recorded_at(&self) -> Timestamp {
        let now = self.clock.now();
        match self.last_recorded {
            Some(last) if last > now => last,
            _ => now,
        }
    }

    /// Folds an admitted statement into the working state: its item changes (into the overlay),
    /// its view writes (into the batch's views) and its identity changes.
    fn fold(&mut self, admitted: &rules::Admitted, leaf_hash: &Hash, recorded_at: Timestamp) {
        let view = custody::View {
            items: |id: &ItemId| self.item(id),
            seals: |seal: &str| self.seal(seal),
        };
        let changes = custody::apply(&self.state, &view, admitted, leaf_hash, recorded_at);
        self.views.extend(projection::writes(
            &self.state,
            admitted,
            leaf_hash,
            recorded_at,
            &changes,
        ));
        for (item, _, seal) in custody::seals_applied(admitted.statement()) {
            if self.seal(&seal).is_none() {
                self.seal_overlay
                    .insert(seal, (self.number, item, admitted.seq()));
            }
        }
        for c in changes {
            self.overlay
                .insert(c.after.id.clone(), (self.number, c.after));
        }
        rules::apply(&mut self.state, admitted);
    }

    /// An item as the sequencer sees it: the overlay (items changed by batches whose views are
    /// not applied yet) over the stored views.
    fn item(&self, id: &ItemId) -> Option<ItemState> {
        self.overlay
            .get(id)
            .map(|(_, s)| s.clone())
            .or_else(|| stored_item(&self.shared.store, id))
    }

    /// The first item a seal number was applied to, as the sequencer sees it: the batches not yet
    /// in the views, then the stored seal index.
    fn seal(&self, seal: &str) -> Option<(ItemId, u64)> {
        self.seal_overlay
            .get(seal)
            .map(|(_, item, seq)| (item.clone(), *seq))
            .or_else(|| stored_seal(&self.shared.store, seal))
    }

    /// Adds leaf `seq` and the Merkle nodes its append completes to the batch.
    fn add_leaf(&mut self, writes: &mut AppendBatch, bytes: Vec<u8>, leaf_hash: Hash) {
        writes.leaf(bytes, leaf_hash);
        for (level, index, hash) in self.range.append(leaf_hash) {
            writes.node(level, index, &hash);
        }
    }
}

enum Admit {
    New {
        seq: u64,
        leaf_hash: Hash,
        identity: bool,
    },
    Duplicate {
        seq: u64,
        leaf_hash: Hash,
    },
}

struct Appended {
    reply: mpsc::SyncSender<Result<Receipt, AppendError>>,
    seq: u64,
    leaf_hash: Hash,
    duplicate: bool,
}

/// Tells every writer of a batch that a storage failure (`e`) stopped it: nothing of it was
/// acknowledged.
fn not_acknowledged(appended: Vec<Appended>, e: &StoreError) {
    for a in appended {
        a.refuse(msg("err.ledger.not_acknowledged").part("reason", e.explain()));
    }
}

impl Appended {
    fn refuse(self, reason: Message) {
        let _ = self.reply.send(Err(AppendError::Stopped(reason)));
    }

    fn answer(self, checkpoint: &Arc<SignedCheckpoint>) {
        let _ = self.reply.send(Ok(Receipt {
            seq: self.seq,
            leaf_hash: self.leaf_hash,
            duplicate: self.duplicate,
            checkpoint: Arc::clone(checkpoint),
        }));
    }
}

/// A receipt as a writer receives it (the CLI's `--json` and the HTTP API's `201` body): where the
/// statement is, the signed checkpoint that covers it, and the inclusion proof that links them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReceiptView {
    pub seq: u64,
    pub leaf_hash: String,
    pub duplicate: bool,
    pub checkpoint: String,
    pub inclusion_proof: InclusionProofView,
}

/// A SHA-256 hash as receipts and proofs carry it (standard base64).
pub fn decode_hash(s: &str) -> Result<Hash, String> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .ok()
        .and_then(|v| Hash::try_from(v.as_slice()).ok())
        .ok_or_else(|| format!("{s:?} is not a base64 SHA-256 hash"))
}

/// An inclusion proof with base64 hashes (RFC 9162 §2.1.3).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InclusionProofView {
    pub index: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub hashes: Vec<String>,
}

impl Ledger {
    /// The inclusion proof of `seq` in the tree of `size` leaves, as sent to clients.
    pub fn inclusion_view(
        &self,
        seq: u64,
        size: u64,
    ) -> Result<InclusionProofView, ProofRequestError> {
        let leaf = self.leaf(seq)?.ok_or_else(|| {
            ProofRequestError::Range(msg("err.ledger.no_entry").arg("seq", seq).arg("size", size))
        })?;
        self.proof_view(seq, size, &merkle::leaf_hash(&leaf))
    }

    fn proof_view(
        &self,
        seq: u64,
        size: u64,
        leaf_hash: &Hash,
    ) -> Result<InclusionProofView, ProofRequestError> {
        use base64::Engine as _;
        let b64 = |h: &Hash| base64::engine::general_purpose::STANDARD.encode(h);
        Ok(InclusionProofView {
            index: seq,
            tree_size: size,
            leaf_hash: b64(leaf_hash),
            hashes: self.inclusion_proof(seq, size)?.iter().map(b64).collect(),
        })
    }

    /// The receipt of an append, with its inclusion proof in the checkpoint it came with. The
    /// receipt already knows its leaf hash, so the leaf is not read again.
    pub fn receipt_view(&self, receipt: &Receipt) -> Result<ReceiptView, ProofRequestError> {
        let proof = self.proof_view(receipt.seq, receipt.checkpoint.size, &receipt.leaf_hash)?;
        Ok(ReceiptView {
            seq: receipt.seq,
            leaf_hash: proof.leaf_hash.clone(),
            duplicate: receipt.duplicate,
            checkpoint: receipt.checkpoint.note.clone(),
            inclusion_proof: proof,
        })
    }
}

impl ReceiptView {
    /// Checks that the proof places the leaf hash in the tree the checkpoint names. With the
    /// ledger's verifier key the checkpoint's signature is checked too; without it, only the
    /// arithmetic (the caller says which it got).
    pub fn check(&self, vkey: Option<&VerifierKey>) -> Result<Checkpoint, String> {
        let hash = decode_hash;
        let cp = match vkey {
            Some(v) => note::open_checkpoint(self.checkpoint.as_bytes(), v)
                .map_err(|e| format!("the checkpoint does not verify: {e}"))?,
            None => note::checkpoint_unverified(self.checkpoint.as_bytes())
                .map_err(|e| format!("the checkpoint is malformed: {e}"))?,
        };
        let p = &self.inclusion_proof;
        if p.index != self.seq || p.tree_size != cp.size || p.leaf_hash != self.leaf_hash {
            return Err("the proof does not match the receipt's seq, leaf or checkpoint".into());
        }
        let hashes = p
            .hashes
            .iter()
            .map(|h| hash(h))
            .collect::<Result<Vec<_>, _>>()?;
        merkle::verify_inclusion(
            p.index,
            p.tree_size,
            &hash(&p.leaf_hash)?,
            &hashes,
            &cp.root,
        )
        .map_err(|e| format!("the inclusion proof does not verify: {e}"))?;
        Ok(cp)
    }
}

impl Classify for AppendError {
    fn class(&self) -> Class {
        match self {
            Self::Envelope(e) => e.class(),
            Self::Statement(e) => e.class(),
            Self::Leaf(e) => e.class(),
            Self::Rule(e) => e.class(),
            Self::IdConflict { .. } => Class::Conflict,
            Self::Storage(e) => e.class(),
            Self::Stopped(_) => Class::Unavailable,
            Self::ReadOnly => Class::Forbidden,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::Envelope(e) => e.field(),
            Self::Statement(e) => e.field(),
            Self::IdConflict { .. } => Some("id".into()),
            _ => None,
        }
    }
}

impl Classify for OpenError {
    fn class(&self) -> Class {
        match self {
            Self::NotALedger { .. } | Self::Exists { .. } | Self::OldLayout { .. } => Class::Usage,
            Self::Key(e) => e.class(),
            Self::Genesis(e) => e.class(),
            Self::Storage(e) => e.class(),
            Self::Corrupt(_) | Self::Io(_) => Class::Corrupt,
        }
    }
}

impl Classify for ProofRequestError {
    fn class(&self) -> Class {
        match self {
            Self::BeyondCheckpoint { .. } | Self::Range(_) => Class::Usage,
            Self::Storage(e) => e.class(),
        }
    }
}

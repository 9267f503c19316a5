//! Storage: a ledger's bytes on disk. Owns the ledger folder's storage (`LedgerStore`): the
//! journal that holds the log's entries (`journal`, the acknowledgement point), and the sled
//! layout beside it (one tree, `log`, whose keys carry a one-byte prefix so that a batch's Merkle
//! nodes of level 4 and above, id index and head move together in one atomic sled batch; one tree
//! of views), the Merkle levels below 4 from the leaves and the hash tiles (`low_nodes`),
//! flushing, and the checkpoint file kept outside both. Knows nothing of custody rules; offers no way to
//! rewrite or delete a leaf.
//!
//! Faults (`Faults`) can be injected at this boundary, seeded and reproducible, for the
//! reliability suite: a failed write, a failed flush, a failed checkpoint write, a read that
//! returns flipped bits, and (for the journal, `journal`) a short write. With no `Faults` given
//! (every real open) the checks cost one branch.
//!
//! Contract (what any backend must promise, and what the ledger relies on):
//! - `append_leaves` returns only once the batch's leaves are durable in the journal (see
//!   `log::LogStore`); nothing of a failed one is acknowledged;
//! - `append` applies a whole `AppendBatch`'s sled part or nothing, and never changes an existing
//!   key; it is called only after `append_leaves` of the same batch, so sled's head never runs
//!   ahead of the journal;
//! - sled's part is durable only once `flush` returns `Ok`; after a crash, sled holds a prefix of
//!   the batches applied (never a later batch without an earlier one), which opening catches up
//!   from the journal;
//! - `drop_covered` drops journal segments only below the full entry bundles its caller made
//!   durable in `public/`, and only after flushing sled, so that every dropped leaf has its
//!   durable Merkle node to be checked against when it is read back from its bundle.

use crate::base::words::{Explain as _, Message, msg};
use crate::domain::projection::{self, Write};
use crate::format::merkle::{self, Hash, NodeSource};
use crate::format::tiles::{TILE_WIDTH, parse_bundle, tile_path};
pub use crate::storage::fault::{FaultKind, FaultRates, Faults, StoreError, splitmix64};
use crate::storage::journal::{JournalOptions, JournalStore, TailCut};
use crate::storage::log::LogStore as _;
use crate::storage::low_nodes::{
    GROUP_LEAVES, LowNodes, SLED_NODE_LEVEL_MIN, node_in_group, subtree_root,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const PREFIX_LEAF: u8 = b'L';
const PREFIX_NODE: u8 = b'N';
const PREFIX_ID: u8 = b'I';
const PREFIX_IDENTITY: u8 = b'X';
const KEY_HEAD: &[u8] = b"H";
const KEY_ORIGIN: &[u8] = b"O";
const KEY_CHECKPOINT: &[u8] = b"C";

/// What a statement id maps to: where it landed and the SHA-256 of its bytes, so that the same id
/// with other bytes is told apart from a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdEntry {
    pub seq: u64,
    pub payload_hash: Hash,
}

/// The head of the stored log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub size: u64,
    pub root: Hash,
}

/// Everything one group commit writes: its leaves (for the journal) and what they add to sled.
#[derive(Debug, Default)]
pub struct AppendBatch {
    batch: sled::Batch,
    leaves: Vec<Vec<u8>>,
    /// The leaves' hashes, kept in memory once the journal holds the leaves (`LowNodes`).
    hashes: Vec<Hash>,
}

impl AppendBatch {
    /// A leaf and its hash (`merkle::leaf_hash` of it, which the caller has computed already).
    pub fn leaf(&mut self, bytes: Vec<u8>, hash: Hash) {
        self.leaves.push(bytes);
        self.hashes.push(hash);
    }
    /// Leaves in the batch.
    pub fn leaf_count(&self) -> u64 {
        self.leaves.len() as u64
    }
    /// A complete Merkle node. sled keeps it only from level `SLED_NODE_LEVEL_MIN` up: the
    /// levels below follow from the leaf hashes (`LowNodes`).
    pub fn node(&mut self, level: u8, index: u64, hash: &Hash) {
        if level >= SLED_NODE_LEVEL_MIN {
            self.batch.insert(&node_key(level, index)[..], &hash[..]);
        }
    }
    pub fn statement_id(&mut self, id: &[u8; 16], entry: IdEntry) {
        let mut key = [0u8; 17];
        key[0] = PREFIX_ID;
        key[1..].copy_from_slice(id);
        let mut value = [0u8; 40];
        value[..8].copy_from_slice(&entry.seq.to_be_bytes());
        value[8..].copy_from_slice(&entry.payload_hash);
        self.batch.insert(&key[..], &value[..]);
    }
    /// Marks a leaf as an identity statement, so reopening replays only these.
    pub fn identity(&mut self, seq: u64) {
        self.batch
            .insert(&key_u64(PREFIX_IDENTITY, seq)[..], &[][..]);
    }
    pub fn head(&mut self, head: Head) {
        let mut value = [0u8; 40];
        value[..8].copy_from_slice(&head.size.to_be_bytes());
        value[8..].copy_from_slice(&head.root);
        self.batch.insert(KEY_HEAD, &value[..]);
    }
    /// The latest signed checkpoint, carried into sled with the next batch.
    pub fn checkpoint(&mut self, note: &[u8]) {
        self.batch.insert(KEY_CHECKPOINT, note);
    }
}

fn key_u64(prefix: u8, n: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = prefix;
    key[1..].copy_from_slice(&n.to_be_bytes());
    key
}

fn node_key(level: u8, index: u64) -> [u8; 10] {
    let mut key = [0u8; 10];
    key[0] = PREFIX_NODE;
    key[1] = level;
    key[2..].copy_from_slice(&index.to_be_bytes());
    key
}

/// Key-value pairs read from a projection, in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// The one sled configuration every custody ledger has used. Its persisted part (`conf`: segment
/// size, compression, format version) has never changed, which is what lets `custody doctor`
/// rewrite a torn `conf` (see `fresh_conf`).
fn sled_config(dir: &Path) -> sled::Config {
    // No background flusher: the ledger flushes explicitly before every acknowledgement, and a
    // flusher thread would keep the database (and its lock) alive after close.
    sled::Config::new()
        .path(dir)
        .cache_capacity(crate::base::limits::SLED_CACHE_BYTES)
        .flush_every_ms(None)
}

/// What an open refused by sled means. With our fixed settings, sled refusing its own
/// configuration or format ("Unsupported", found by the tamper matrix when a bit of `conf` was
/// flipped) or tripping over its own data means the files were altered or damaged, not that a
/// disk or permission needs checking.
fn sled_open_error(dir: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Unsupported(_)
        | sled::Error::ReportableBug(_)
        | sled::Error::Corruption { .. } => StoreError::corrupt(
            msg("err.store.sled_damaged")
                .arg("dir", dir.display())
                .arg("reason", &e)
                .arg("ledger", ledger_folder(dir).display()),
        ),
        other => other.into(),
    }
}

/// The ledger folder a sled store belongs to: `LEDGER` of `LEDGER/private/log.sled`, which is
/// what `custody doctor --ledger` takes; the store's own parent for a store kept elsewhere.
fn ledger_folder(sled_dir: &Path) -> &Path {
    let parent = sled_dir.parent().unwrap_or(sled_dir);
    match parent.file_name() {
        Some(name) if name == "private" => parent.parent().unwrap_or(parent),
        _ => parent,
    }
}

/// sled's page cache in bytes: `SLED_CACHE_BYTES`, or `SLED_CACHE_ENV` MiB when set.
fn sled_cache_bytes() -> Result<u64, StoreError> {
    use crate::base::limits::{SLED_CACHE_BYTES, SLED_CACHE_ENV, SLED_CACHE_MIB_RANGE};
    let Ok(text) = std::env::var(SLED_CACHE_ENV) else {
        return Ok(SLED_CACHE_BYTES);
    };
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|mib| SLED_CACHE_MIB_RANGE.contains(mib))
        .map(|mib| mib * 1024 * 1024)
        .ok_or_else(|| {
            StoreError::config(
                msg("err.store.sled_cache_env")
                    .arg("env", SLED_CACHE_ENV)
                    .quoted("value", &text)
                    .arg("min", SLED_CACHE_MIB_RANGE.start())
                    .arg("max", SLED_CACHE_MIB_RANGE.end()),
            )
        })
}

/// Opens sled in `dir`, waiting up to `LOCK_WAIT_MS` for a process that is still letting go of
/// its lock (sled's background flusher lets go a moment after the last handle).
fn open_sled(dir: &Path) -> Result<sled::Db, StoreError> {
    const LOCK_WAIT_MS: u64 = 3000;
    const LOCK_RETRY_MS: u64 = 20;
    let started = std::time::Instant::now();
    let cache = sled_cache_bytes()?;
    loop {
        match sled_config(dir).cache_capacity(cache).open() {
            Ok(db) => return Ok(db),
            // sled wraps the lock failure in an I/O error of its own; its text is the signal.
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                if started.elapsed().as_millis() as u64 >= LOCK_WAIT_MS {
                    return Err(StoreError::io(
                        msg("err.store.in_use").arg("path", dir.display()),
                    ));
                }
                std::thread::sleep(std::time::Duration::from_millis(LOCK_RETRY_MS));
            }
            Err(e) => return Err(sled_open_error(dir, e)),
        }
    }
}

/// The bytes of the `conf` file sled writes for `sled_config`, obtained by letting sled create a
/// store in `scratch` (a folder that must not exist; removed again).
pub fn fresh_conf(scratch: &Path) -> Result<Vec<u8>, StoreError> {
    let db = sled_config(scratch).open()?;
    drop(db);
    let bytes = std::fs::read(scratch.join("conf"))
        .map_err(|e| StoreError::io_at(&scratch.join("conf"), &e));
    let _ = std::fs::remove_dir_all(scratch);
    bytes
}

/// The journal's segment size: `JOURNAL_SEGMENT_BYTES_MAX`, or `JOURNAL_SEGMENT_ENV` when set.
fn journal_segment_bytes() -> Result<u64, StoreError> {
    use crate::base::limits::{
        JOURNAL_SEGMENT_BYTES_MAX, JOURNAL_SEGMENT_BYTES_RANGE, JOURNAL_SEGMENT_ENV,
    };
    let Ok(text) = std::env::var(JOURNAL_SEGMENT_ENV) else {
        return Ok(JOURNAL_SEGMENT_BYTES_MAX);
    };
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|bytes| JOURNAL_SEGMENT_BYTES_RANGE.contains(bytes))
        .ok_or_else(|| {
            StoreError::config(
                msg("err.store.journal_segment_env")
                    .arg("env", JOURNAL_SEGMENT_ENV)
                    .quoted("value", &text)
                    .arg("min", JOURNAL_SEGMENT_BYTES_RANGE.start())
                    .arg("max", JOURNAL_SEGMENT_BYTES_RANGE.end()),
            )
        })
}

/// Refuses a journal that dropped the leaves below `mark` when the full entry bundles that hold
/// them are not all in `public_dir` (deleted, or `public/` not copied back with `private/`).
fn check_dropped_covered(mark: u64, public_dir: &Path) -> Result<(), StoreError> {
    for bundle in 0..mark.div_ceil(TILE_WIDTH) {
        let path = public_dir.join(tile_path(None, bundle, TILE_WIDTH));
        if !path.is_file() {
            return Err(StoreError::corrupt(
                msg("err.store.dropped_uncovered")
                    .arg("mark", mark)
                    .arg("public", public_dir.display())
                    .arg("path", path.display()),
            ));
        }
    }
    Ok(())
}

/// sled 0.34's data file inside its directory (its log of pages).
const SLED_DATA_FILE: &str = "db";
/// The sled folder inside a ledger folder (layout 2: under `private/`).
pub const SLED_DIR: &str = "private/log.sled";
/// The journal folder inside a ledger folder.
pub const JOURNAL_DIR: &str = "private/journal";

/// A ledger's storage: the log's entries in the journal (`journal::JournalStore`, whose
/// `fdatasync` is the acknowledgement point), and in sled everything derived from them — the
/// Merkle nodes, the statement-id index, the identity seqs, the head, sled's copy of the latest
/// checkpoint, and the views. sled is written only after the journal has made the leaves durable,
/// so its head never runs ahead of the journal; it is not flushed per batch, and opening catches
/// it up from the journal (`app::ledger`). docs/STORAGE.md §6 gives the crash windows.
pub struct LedgerStore {
    db: sled::Db,
    log: sled::Tree,
    /// Read-side views (see `projection`), separate from the log, with their own watermark.
    views: sled::Tree,
    /// sled's data file, opened again to `fdatasync` it after every flush (see `flush`).
    data_file: std::fs::File,
    faults: Option<std::sync::Arc<Faults>>,
    journal: JournalStore,
    /// What opening the journal cut from its torn tail.
    tail_cut: TailCut,
    journal_dir: PathBuf,
    /// The ledger's `public/`: leaves below the journal's start are read from its entry bundles,
    /// and their hashes from its hash tiles.
    public_dir: PathBuf,
    /// The Merkle levels below `SLED_NODE_LEVEL_MIN`, which sled does not keep.
    low: LowNodes,
}

impl LedgerStore {
    /// Opens (creating if needed) the storage of the ledger folder `dir`: sled in `log.sled`, the
    /// journal in `journal`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_faults(dir, None)
    }

    /// Opens like `open`, injecting `faults` (if any) into every later call.
    pub fn open_with_faults(
        dir: &Path,
        faults: Option<std::sync::Arc<Faults>>,
    ) -> Result<Self, StoreError> {
        Self::open_at(
            &dir.join(SLED_DIR),
            &dir.join(JOURNAL_DIR),
            &dir.join(crate::storage::layout::PUBLIC_DIR),
            faults,
        )
    }

    /// Opens sled in `sled_dir` and the journal in `journal_dir` (`custody upgrade` builds a
    /// journal beside the old layout's sled before swapping it in), with `public_dir` holding the
    /// entry bundles of dropped segments: refuses a journal that dropped leaves whose bundles are
    /// not there.
    ///
    /// sled holds an exclusive file lock; a process that just closed the ledger may still be
    /// releasing it, so a held lock is retried for up to `LOCK_WAIT_MS` before it is reported.
    pub fn open_at(
        sled_dir: &Path,
        journal_dir: &Path,
        public_dir: &Path,
        faults: Option<std::sync::Arc<Faults>>,
    ) -> Result<Self, StoreError> {
        let db = open_sled(sled_dir)?;
        let log = db.open_tree("log")?;
        let views = db.open_tree("projections")?;
        let data_file = std::fs::File::open(sled_dir.join(SLED_DATA_FILE)).map_err(|e| {
            StoreError::io(
                msg("err.store.cannot_open_durable")
                    .arg("path", sled_dir.join(SLED_DATA_FILE).display())
                    .arg("reason", e),
            )
        })?;
        let options = JournalOptions {
            segment_bytes: journal_segment_bytes()?,
            faults: faults.clone(),
        };
        let (journal, tail_cut) = JournalStore::open_with(journal_dir, options)?;
        check_dropped_covered(journal.drop_mark(), public_dir)?;
        let low = LowNodes::starting_at(journal.len());
        Ok(Self {
            db,
            log,
            views,
            data_file,
            faults,
            journal,
            tail_cut,
            journal_dir: journal_dir.to_path_buf(),
            public_dir: public_dir.to_path_buf(),
            low,
        })
    }
    /// The faults injected into this store, if any (the publisher injects into its renames).
    pub fn faults(&self) -> Option<&Faults> {
        self.faults.as_deref()
    }

    /// What opening the journal cut from a torn tail (nothing, mostly), for the caller to log.
    pub fn tail_cut(&self) -> &TailCut {
        &self.tail_cut
    }

    /// Appends the batch's leaves to the journal as one batch and makes them durable: the
    /// acknowledgement point. Answers the seq of the first; `expected` is the seq the caller gave
    /// it, and any other answer is corruption (the journal and the tree disagree on the size).
    pub fn append_leaves(&self, batch: &AppendBatch, expected: u64) -> Result<u64, StoreError> {
        let refs: Vec<&[u8]> = batch.leaves.iter().map(Vec::as_slice).collect();
        let first = self.journal.append(&refs)?;
        if first != expected {
            return Err(StoreError::corrupt(
                msg("err.store.journal_tree_disagree")
                    .arg("expected", expected)
                    .arg("first", first),
            ));
        }
        self.low.push(first, &batch.hashes);
        Ok(first)
    }

    /// Writes what the batch adds to sled (nodes, ids, identity seqs, head, checkpoint) in one
    /// atomic sled batch, after its leaves are durable in the journal. Not durable until `flush`;
    /// opening catches sled up from the journal.
    pub fn append(&self, batch: AppendBatch) -> Result<(), StoreError> {
        if let Some(f) = &self.faults {
            f.fail(FaultKind::WriteFail, "err.store.fault_writing_batch")?;
        }
        self.log.apply_batch(batch.batch)?;
        Ok(())
    }

    /// Entries in the journal: the log's durable size.
    pub fn log_len(&self) -> u64 {
        self.journal.len()
    }

    /// The leaves `start .. end`: from the journal (each checked against its CRCs), and below the
    /// journal's start from their full entry bundles in `public/` (each checked against its
    /// durable Merkle node).
    pub fn leaves(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        // A drop may raise the journal's start between choosing the source and reading: then
        // the read is refused as misuse and is made again from the bundles, once.
        let mut tries = 2;
        loop {
            let split = self.journal.start().clamp(start, end);
            let mut out = self.bundle_leaves(start, split)?;
            match self.journal.read(split, end) {
                Ok(rest) => {
                    out.extend(rest);
                    return Ok(out);
                }
                Err(StoreError::Misuse(_)) if tries > 1 && self.journal.start() > split => {
                    tries -= 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The leaves `start .. end` from the full entry bundles in `public/`, each checked against
    /// its level-0 Merkle node in sled (durable before its segment was dropped).
    fn bundle_leaves(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut out = Vec::with_capacity(usize::try_from(end - start).unwrap_or(0));
        let mut at = start;
        while at < end {
            let (bundle, from) = (at / TILE_WIDTH, at % TILE_WIDTH);
            let upto = end.min((bundle + 1) * TILE_WIDTH);
            let rel = tile_path(None, bundle, TILE_WIDTH);
            let path = self.public_dir.join(&rel);
            let bytes = std::fs::read(&path).map_err(|e| {
                StoreError::corrupt(
                    msg("err.store.bundle_unreadable")
                        .arg("at", at)
                        .arg("path", path.display())
                        .arg("reason", e),
                )
            })?;
            let entries = parse_bundle(&bytes, TILE_WIDTH).map_err(|e| {
                StoreError::corrupt(
                    msg("err.store.entry_bundle")
                        .arg("path", path.display())
                        .part("reason", e.explain()),
                )
            })?;
            let wanted = (from as usize)..((upto - bundle * TILE_WIDTH) as usize);
            for (seq, leaf) in
                (at..upto).zip(entries.into_iter().skip(wanted.start).take(wanted.len()))
            {
                if self.stored_node(0, seq)? != Some(merkle::leaf_hash(&leaf)) {
                    return Err(StoreError::corrupt(
                        msg("err.store.bundle_leaf_mismatch")
                            .arg("seq", seq)
                            .arg("path", path.display()),
                    ));
                }
                out.push(leaf);
            }
            at = upto;
        }
        Ok(out)
    }

    /// The journal's first index: leaves below it live only in `public/`'s entry bundles.
    pub fn journal_start(&self) -> u64 {
        self.journal.start()
    }

    /// Drops the journal segments wholly below `covered`, the leaves that full entry bundles in
    /// `public/` now hold durably (the caller wrote and `fsync`ed them): checks every such leaf
    /// in its bundle against its Merkle node first (`Corrupt`, and nothing dropped, if one
    /// differs), then flushes sled, so that every dropped leaf has a durable node to be checked
    /// against when it is read back. Answers the journal's new start.
    pub fn drop_covered(&self, covered: u64) -> Result<u64, StoreError> {
        let covered = covered.min(self.journal.len()) / TILE_WIDTH * TILE_WIDTH;
        if covered <= self.journal.start() {
            return Ok(self.journal.start());
        }
        // Each leaf to drop must read back from its bundle as its node says: a bundle damaged
        // since it was published is found now, while the journal still holds the leaf.
        for bundle in self.journal.start() / TILE_WIDTH..covered / TILE_WIDTH {
            let first = bundle * TILE_WIDTH;
            self.bundle_leaves(first.max(self.journal.start()), first + TILE_WIDTH)?;
        }
        // So must each group of hashes in the level-0 hash tiles: after the drop they are what
        // a dropped leaf is checked against.
        for group in self.journal.start() / GROUP_LEAVES..covered / GROUP_LEAVES {
            self.tile_group(group)?;
        }
        self.flush()?;
        let start = self.journal.drop_before(covered)?;
        self.low.trim_below(start);
        Ok(start)
    }

    /// Makes every appended batch durable.
    ///
    /// sled 0.34's own flush ends, on Linux, with `sync_file_range`, which writes the pages out but
    /// neither commits the file's metadata (its length grows as the log does) nor flushes the
    /// drive's volatile cache: enough for a killed process, not for a power cut. So the data file
    /// is `fdatasync`ed after it, and only then is anything called durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        if let Some(f) = &self.faults {
            f.fail(FaultKind::FlushFail, "err.store.fault_flushing")?;
        }
        self.db.flush()?;
        self.data_file
            .sync_data()
            .map_err(|e| StoreError::io(msg("err.store.fdatasync_sled").arg("reason", e)))?;
        Ok(())
    }

    pub fn head(&self) -> Result<Head, StoreError> {
        match self.log.get(KEY_HEAD)? {
            None => Ok(Head {
                size: 0,
                root: crate::format::merkle::empty_root(),
            }),
            Some(v) if v.len() == 40 => {
                let size = u64::from_be_bytes(v[..8].try_into().expect("8 bytes"));
                let root: Hash = v[8..].try_into().expect("32 bytes");
                Ok(Head { size, root })
            }
            Some(v) => Err(StoreError::corrupt(
                msg("err.store.head_size").arg("bytes", v.len()),
            )),
        }
    }

    /// A log read, through the fault layer when there is one.
    /// A log read, through the fault layer when there is one (copied only then: node reads
    /// are on the verification and proof paths).
    fn log_get(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        let value = self.log.get(key)?;
        Ok(match (&self.faults, value) {
            (Some(f), Some(v)) => {
                let mut bytes = v.to_vec();
                f.corrupt(&mut bytes);
                Some(bytes.into())
            }
            (_, value) => value,
        })
    }

    /// The leaf at `seq` (see `leaves`); `None` beyond the journal's end.
    pub fn leaf(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if seq >= self.journal.len() {
            return Ok(None);
        }
        Ok(self.leaves(seq, seq + 1)?.pop())
    }

    /// The leaves `start .. end` as the old layout (custody layout 1) kept them, in sled; `None`
    /// for a leaf that is not there. Read only by `custody upgrade`.
    pub fn legacy_leaves(&self, start: u64, end: u64) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        (start..end)
            .map(|seq| {
                Ok(self
                    .log_get(&key_u64(PREFIX_LEAF, seq))?
                    .map(|v| v.to_vec()))
            })
            .collect()
    }

    /// Whether sled still holds leaves of the old layout.
    pub fn has_legacy_leaves(&self) -> Result<bool, StoreError> {
        Ok(self
            .log
            .scan_prefix([PREFIX_LEAF])
            .next()
            .transpose()?
            .is_some())
    }

    /// Removes the old layout's leaves from sled (once the journal holds them), in batches of
    /// `LEGACY_REMOVE_KEYS`, and flushes. Answers how many it removed.
    pub fn remove_legacy_leaves(&self) -> Result<u64, StoreError> {
        /// Keys removed per sled batch: bounded memory for any log.
        const LEGACY_REMOVE_KEYS: usize = 8192;
        let mut removed = 0u64;
        loop {
            let keys: Vec<sled::IVec> = self
                .log
                .scan_prefix([PREFIX_LEAF])
                .keys()
                .take(LEGACY_REMOVE_KEYS)
                .collect::<Result<_, _>>()?;
            if keys.is_empty() {
                break;
            }
            let mut batch = sled::Batch::default();
            for k in &keys {
                batch.remove(k.clone());
            }
            self.log.apply_batch(batch)?;
            removed += keys.len() as u64;
        }
        self.flush()?;
        Ok(removed)
    }

    /// The complete Merkle node at (`level`, `index`), `None` when the journal does not hold
    /// every leaf it covers yet (and sled holds no copy of an older layout's). From level `SLED_NODE_LEVEL_MIN` up it is sled's copy; below,
    /// it is computed from the leaf hashes of its group (`group_hashes`).
    pub fn stored_node(&self, level: u8, index: u64) -> Result<Option<Hash>, StoreError> {
        if level >= SLED_NODE_LEVEL_MIN {
            return self.sled_node(level, index);
        }
        let first = index << level;
        if first + (1 << level) > self.journal.len() {
            // Not in the journal (yet): only a ledger of layout 1 to 3 being upgraded, whose sled
            // kept every level, can hold it.
            return self.sled_node(level, index);
        }
        let group = first / GROUP_LEAVES;
        Ok(node_in_group(
            &self.group_hashes(group)?,
            group,
            level,
            index,
        ))
    }

    /// The leaf hashes of group `group` (leaves `group * GROUP_LEAVES ..`) that the journal holds,
    /// all `GROUP_LEAVES` of them but in the last group. A group below the journal's start is
    /// read from its level-0 hash tile in `public/` (`tile_group`); one in the journal from the
    /// hashes kept since opening and, for the rest, by hashing its leaves, and when it is
    /// complete it is checked against sled's node over it before it is cached.
    fn group_hashes(&self, group: u64) -> Result<Arc<[Hash]>, StoreError> {
        if let Some(hashes) = self.low.cached_group(group) {
            return Ok(hashes);
        }
        let first = group * GROUP_LEAVES;
        if first < self.journal.start() {
            return self.tile_group(group);
        }
        let end = (first + GROUP_LEAVES).min(self.journal.len());
        let (from, recent) = self.low.recent(first, end);
        let mut hashes: Vec<Hash> = self
            .leaves(first, from)?
            .iter()
            .map(|leaf| merkle::leaf_hash(leaf))
            .collect();
        hashes.extend(recent);
        let have = first + hashes.len() as u64;
        hashes.extend(
            self.leaves(have, end)?
                .iter()
                .map(|leaf| merkle::leaf_hash(leaf)),
        );
        let hashes: Arc<[Hash]> = hashes.into();
        if hashes.len() as u64 == GROUP_LEAVES {
            // Before the catch-up on opening writes it, a group's node may be absent: then the
            // hashes are the journal's own, not cached until the node can vouch for them.
            if let Some(node) = self.sled_node(SLED_NODE_LEVEL_MIN, group)? {
                if subtree_root(&hashes) != node {
                    return Err(StoreError::corrupt(
                        msg("err.store.journal_node_mismatch")
                            .arg("first", first)
                            .arg("end", end)
                            .arg("level", SLED_NODE_LEVEL_MIN)
                            .arg("group", group),
                    ));
                }
                self.low.cache_group(group, Arc::clone(&hashes));
            }
        }
        Ok(hashes)
    }

    /// The leaf hashes of the complete group `group` from its level-0 hash tile in `public/`,
    /// checked against sled's node over them (a tile changed after it was published is
    /// `Corrupt`, naming the file, never used), then cached.
    fn tile_group(&self, group: u64) -> Result<Arc<[Hash]>, StoreError> {
        use std::os::unix::fs::FileExt as _;
        const HASH_BYTES: u64 = 32;
        let tile = group * GROUP_LEAVES / TILE_WIDTH;
        let path = self.public_dir.join(tile_path(Some(0), tile, TILE_WIDTH));
        let corrupt = |why: Message| {
            StoreError::corrupt(
                msg("err.store.hash_tile")
                    .arg("path", path.display())
                    .part("why", why),
            )
        };
        let unreadable =
            |e: std::io::Error| corrupt(msg("err.store.cannot_be_read").arg("reason", e));
        let file = std::fs::File::open(&path).map_err(unreadable)?;
        let len = (file.metadata())
            .map_err(|e| corrupt(Message::verbatim(e.to_string())))?
            .len();
        if len != TILE_WIDTH * HASH_BYTES {
            return Err(corrupt(
                msg("err.store.tile_size")
                    .arg("len", len)
                    .arg("full", TILE_WIDTH * HASH_BYTES),
            ));
        }
        let mut bytes = vec![0u8; (GROUP_LEAVES * HASH_BYTES) as usize];
        let offset = (group * GROUP_LEAVES - tile * TILE_WIDTH) * HASH_BYTES;
        file.read_exact_at(&mut bytes, offset).map_err(unreadable)?;
        let hashes: Arc<[Hash]> = bytes
            .chunks_exact(HASH_BYTES as usize)
            .map(|h| h.try_into().expect("32 bytes"))
            .collect();
        let node = self.sled_node(SLED_NODE_LEVEL_MIN, group)?.ok_or_else(|| {
            StoreError::corrupt(
                msg("err.store.node_missing")
                    .arg("level", SLED_NODE_LEVEL_MIN)
                    .arg("index", group),
            )
        })?;
        if subtree_root(&hashes) != node {
            return Err(corrupt(
                msg("err.store.tile_changed")
                    .arg("from", group * GROUP_LEAVES)
                    .arg("to", (group + 1) * GROUP_LEAVES)
                    .arg("level", SLED_NODE_LEVEL_MIN)
                    .arg("group", group),
            ));
        }
        self.low.cache_group(group, Arc::clone(&hashes));
        Ok(hashes)
    }

    /// The Merkle node as sled keeps it: every level in layouts 1 to 3 (which `custody upgrade`
    /// reads), only from `SLED_NODE_LEVEL_MIN` up since layout 4.
    pub fn sled_node(&self, level: u8, index: u64) -> Result<Option<Hash>, StoreError> {
        match self.log_get(&node_key(level, index))? {
            None => Ok(None),
            Some(v) => <[u8; 32]>::try_from(v.as_ref()).map(Some).map_err(|_| {
                StoreError::corrupt(
                    msg("err.store.node_size")
                        .arg("level", level)
                        .arg("index", index),
                )
            }),
        }
    }

    pub fn statement_id(&self, id: &[u8; 16]) -> Result<Option<IdEntry>, StoreError> {
        let mut key = [0u8; 17];
        key[0] = PREFIX_ID;
        key[1..].copy_from_slice(id);
        match self.log_get(&key)? {
            None => Ok(None),
            Some(v) if v.len() == 40 => Ok(Some(IdEntry {
                seq: u64::from_be_bytes(v[..8].try_into().expect("8 bytes")),
                payload_hash: v[8..].try_into().expect("32 bytes"),
            })),
            Some(_) => Err(StoreError::corrupt(msg("err.store.id_entry_malformed"))),
        }
    }

    /// Seqs of identity statements, ascending.
    pub fn identity_seqs(&self) -> Result<Vec<u64>, StoreError> {
        self.log
            .scan_prefix([PREFIX_IDENTITY])
            .keys()
            .map(|k| {
                let k = k?;
                let bytes: [u8; 8] = k[1..]
                    .try_into()
                    .map_err(|_| StoreError::corrupt(msg("err.store.identity_key_malformed")))?;
                Ok(u64::from_be_bytes(bytes))
            })
            .collect()
    }

    pub fn origin(&self) -> Result<Option<String>, StoreError> {
        match self.log.get(KEY_ORIGIN)? {
            None => Ok(None),
            Some(v) => String::from_utf8(v.to_vec())
                .map(Some)
                .map_err(|_| StoreError::corrupt(msg("err.store.origin_not_utf8"))),
        }
    }

    /// Records the origin of a new ledger (once, before genesis), durably.
    pub fn set_origin(&self, origin: &str) -> Result<(), StoreError> {
        self.log
            .compare_and_swap(KEY_ORIGIN, None as Option<&[u8]>, Some(origin.as_bytes()))?
            .map_err(|_| StoreError::corrupt(msg("err.store.origin_exists")))?;
        self.flush()
    }

    pub fn checkpoint(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.log_get(KEY_CHECKPOINT)?.map(|v| v.to_vec()))
    }

    /// The log size the projections reflect (0 when there are none).
    pub fn projection_watermark(&self) -> Result<u64, StoreError> {
        self.views_u64(projection::WATERMARK, 0, "err.store.watermark_malformed")
    }

    /// The format the views were written in (`projection::FORMAT`); views written before the
    /// format was recorded are format 1.
    pub fn projection_format(&self) -> Result<u64, StoreError> {
        self.views_u64(projection::FORMAT, 1, "err.store.views_format_malformed")
    }

    /// A big-endian u64 the views keep under `key`, or `absent` when there is none; `malformed`
    /// is the catalogue key of the sentence saying it is not one.
    fn views_u64(
        &self,
        key: &[u8],
        absent: u64,
        malformed: &'static str,
    ) -> Result<u64, StoreError> {
        match self.views.get(key)? {
            None => Ok(absent),
            Some(v) => v
                .as_ref()
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::corrupt(msg(malformed))),
        }
    }

    pub fn projection_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.views.get(key)?.map(|v| v.to_vec()))
    }

    /// Every projection entry under `prefix`, in key order.
    pub fn projection_scan(&self, prefix: &[u8]) -> Result<Entries, StoreError> {
        self.views
            .scan_prefix(prefix)
            .map(|r| {
                r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(StoreError::from)
            })
            .collect()
    }

    /// The keys (only) of the views under `prefix`, in order.
    pub fn projection_keys(&self, prefix: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
        self.views
            .scan_prefix(prefix)
            .keys()
            .map(|r| r.map(|k| k.to_vec()).map_err(StoreError::from))
            .collect()
    }

    /// Applies projection writes and moves the watermark to `watermark`, atomically (one tree,
    /// one batch). Counters are read, added to and written back within the batch.
    pub fn apply_projection(&self, writes: &[Write], watermark: u64) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let mut counters: std::collections::BTreeMap<Vec<u8>, projection::Counts> =
            std::collections::BTreeMap::new();
        for w in writes {
            match w {
                Write::Put { key, value } => batch.insert(key.as_slice(), value.as_slice()),
                Write::Delete { key } => batch.remove(key.as_slice()),
                Write::Count { key, field, delta } => {
                    if !counters.contains_key(key) {
                        let current = match self.views.get(key)? {
                            Some(v) => projection::decode(&v).map_err(|e| {
                                StoreError::corrupt(
                                    msg("err.store.projection_counter").arg("reason", e),
                                )
                            })?,
                            None => projection::Counts::new(),
                        };
                        counters.insert(key.clone(), current);
                    }
                    let map = counters.get_mut(key).expect("inserted above");
                    *map.entry(field.clone()).or_insert(0) += delta;
                }
            }
        }
        for (key, map) in counters {
            batch.insert(key, projection::encode(&map));
        }
        batch.insert(projection::WATERMARK, &watermark.to_be_bytes()[..]);
        batch.insert(
            projection::FORMAT,
            &projection::VIEWS_FORMAT.to_be_bytes()[..],
        );
        self.views.apply_batch(batch)?;
        Ok(())
    }

    /// Drops every projection entry (for a rebuild from the log). Leaves are untouched.
    pub fn clear_projections(&self) -> Result<(), StoreError> {
        self.views.clear()?;
        Ok(())
    }

    /// SHA-256 over every projection entry but the watermark and the format, in key order: equal digests mean
    /// equal views.
    pub fn projection_digest(&self) -> Result<Hash, StoreError> {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        for entry in self.views.iter() {
            let (k, v) = entry?;
            if k.as_ref() == projection::WATERMARK || k.as_ref() == projection::FORMAT {
                continue;
            }
            h.update((k.len() as u64).to_be_bytes());
            h.update(&k);
            h.update((v.len() as u64).to_be_bytes());
            h.update(&v);
        }
        Ok(h.finalize().into())
    }

    /// Bytes the ledger's storage occupies on disk: sled's and the journal's files.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        let mut journal = 0u64;
        let entries = std::fs::read_dir(&self.journal_dir)
            .map_err(|e| StoreError::io_at(&self.journal_dir, &e))?;
        for entry in entries.flatten() {
            journal += entry.metadata().map_or(0, |m| m.len());
        }
        Ok(self.db.size_on_disk()? + journal)
    }
}

/// Reading Merkle nodes for proofs: a node missing from the store is corruption, since every
/// complete subtree is written with the leaf that completes it.
impl NodeSource for LedgerStore {
    type Error = StoreError;
    fn node(&self, level: u8, index: u64) -> Result<Hash, StoreError> {
        self.stored_node(level, index)?.ok_or_else(|| {
            StoreError::corrupt(
                msg("err.store.node_missing")
                    .arg("level", level)
                    .arg("index", index),
            )
        })
    }
}

/// Bytes per checkpoint slot: a checkpoint note is ~250 bytes, and a slot leaves room for many
/// witness cosignature lines.
pub const CHECKPOINT_SLOT_BYTES: usize = 8192;
const SLOT_MAGIC: &[u8; 8] = b"CUSTCKP1";
/// magic (8) + generation (8) + length (4) + SHA-256 (32)
const SLOT_HEADER_BYTES: usize = 52;

/// The latest signed checkpoint, kept in a file beside sled so that a sled store that comes back
/// shorter or different after a crash is caught on open.
///
/// The file holds two fixed slots written alternately, each `magic | generation | length |
/// SHA-256(generation | length | note) | note | zero padding`. A write goes to the older slot and
/// is made durable with one `fdatasync`; a torn write breaks only that slot's hash, and the other
/// slot still holds the previous checkpoint. This replaces write-temp-then-rename, which costs two
/// fsyncs and a directory fsync (~10 ms here) on every group commit.
pub struct CheckpointFile {
    path: PathBuf,
    faults: Option<std::sync::Arc<Faults>>,
    /// Generation of the newest valid slot, and the open file for writing.
    writer: std::sync::Mutex<Option<(u64, std::fs::File)>>,
}

fn slot_digest(generation: u64, note: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(generation.to_be_bytes());
    h.update((note.len() as u32).to_be_bytes());
    h.update(note);
    h.finalize().into()
}

fn parse_slot(slot: &[u8]) -> Option<(u64, Vec<u8>)> {
    if slot.len() < SLOT_HEADER_BYTES || &slot[..8] != SLOT_MAGIC {
        return None;
    }
    let generation = u64::from_be_bytes(slot[8..16].try_into().ok()?);
    let len = u32::from_be_bytes(slot[16..20].try_into().ok()?) as usize;
    let note = slot.get(SLOT_HEADER_BYTES..SLOT_HEADER_BYTES + len)?;
    (slot[20..52] == slot_digest(generation, note)).then(|| (generation, note.to_vec()))
}

impl CheckpointFile {
    /// A checkpoint file whose writes go through `faults` (if any).
    pub fn with_faults(path: PathBuf, faults: Option<std::sync::Arc<Faults>>) -> Self {
        Self {
            path,
            faults,
            writer: std::sync::Mutex::new(None),
        }
    }

    fn io(&self, e: std::io::Error) -> StoreError {
        StoreError::io_at(&self.path, &e)
    }

    /// The newest intact checkpoint note and its generation, or `None` if the file does not exist.
    /// A file that exists but has no intact slot is corruption.
    fn read_slots(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(e)),
        };
        let best = bytes
            .chunks(CHECKPOINT_SLOT_BYTES)
            .take(2)
            .filter_map(parse_slot)
            .max_by_key(|(generation, _)| *generation);
        match best {
            Some(found) => Ok(Some(found)),
            None => Err(StoreError::corrupt(
                msg("err.store.no_checkpoint_slot").arg("path", self.path.display()),
            )),
        }
    }

    /// The newest intact checkpoint note, if the file exists.
    pub fn read(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read_slots()?.map(|(_, note)| note))
    }

    /// Writes `note` into the older slot and makes it durable (fdatasync). Creates the file (and
    /// makes its directory entry durable) on first use.
    pub fn write(&self, note: &[u8]) -> Result<(), StoreError> {
        use std::os::unix::fs::FileExt as _;
        if note.len() > CHECKPOINT_SLOT_BYTES - SLOT_HEADER_BYTES {
            return Err(StoreError::io(
                msg("err.store.checkpoint_too_big")
                    .arg("bytes", note.len())
                    .arg("slot", CHECKPOINT_SLOT_BYTES),
            ));
        }
        if let Some(f) = &self.faults {
            f.fail(
                FaultKind::CheckpointFail,
                "err.store.fault_writing_checkpoint",
            )?;
        }
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let generation = self.read_slots()?.map_or(0, |(g, _)| g);
            let created = !self.path.exists();
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&self.path)
                .map_err(|e| self.io(e))?;
            if created {
                file.set_len(2 * CHECKPOINT_SLOT_BYTES as u64)
                    .map_err(|e| self.io(e))?;
                file.sync_all().map_err(|e| self.io(e))?;
                if let Some(dir) = self.path.parent() {
                    std::fs::File::open(dir)
                        .and_then(|d| d.sync_all())
                        .map_err(|e| self.io(e))?;
                }
            }
            *guard = Some((generation, file));
        }
        let (generation, file) = guard.as_mut().expect("opened above");
        let next = *generation + 1;
        let mut slot = vec![0u8; CHECKPOINT_SLOT_BYTES];
        slot[..8].copy_from_slice(SLOT_MAGIC);
        slot[8..16].copy_from_slice(&next.to_be_bytes());
        slot[16..20].copy_from_slice(&(note.len() as u32).to_be_bytes());
        slot[20..52].copy_from_slice(&slot_digest(next, note));
        slot[SLOT_HEADER_BYTES..SLOT_HEADER_BYTES + note.len()].copy_from_slice(note);
        let offset = (next % 2) * CHECKPOINT_SLOT_BYTES as u64;
        file.write_all_at(&slot, offset).map_err(|e| self.io(e))?;
        file.sync_data().map_err(|e| self.io(e))?;
        *generation = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_store_names_the_ledger_folder_for_the_doctor() {
        assert_eq!(
            ledger_folder(Path::new("/srv/lapas/private/log.sled")),
            Path::new("/srv/lapas")
        );
        assert_eq!(
            ledger_folder(Path::new("/tmp/bare.sled")),
            Path::new("/tmp")
        );
    }

    #[test]
    fn checkpoint_slots_keep_the_newest_intact_note() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("checkpoint.slots");
        let file = CheckpointFile::with_faults(path.clone(), None);
        assert_eq!(file.read().expect("reads"), None);
        file.write(b"first\n").expect("writes");
        file.write(b"second\n").expect("writes");
        assert_eq!(
            CheckpointFile::with_faults(path.clone(), None)
                .read()
                .expect("reads"),
            Some(b"second\n".to_vec())
        );
        // A torn write of the newest slot falls back to the previous checkpoint.
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[SLOT_HEADER_BYTES] ^= 1; // slot 0 holds generation 2
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(
            CheckpointFile::with_faults(path.clone(), None)
                .read()
                .expect("reads"),
            Some(b"first\n".to_vec())
        );
        // Both slots broken: corruption, reported, not an empty ledger.
        bytes[CHECKPOINT_SLOT_BYTES + SLOT_HEADER_BYTES] ^= 1;
        std::fs::write(&path, &bytes).expect("write");
        assert!(matches!(
            CheckpointFile::with_faults(path, None).read(),
            Err(StoreError::Corrupt(_))
        ));
    }

    /// A node value that differs for every `seq`.
    fn node_value(seq: u64) -> Hash {
        let mut h = [0u8; 32];
        h[..8].copy_from_slice(&seq.to_be_bytes());
        h[8..16].copy_from_slice(&(seq ^ 0x5555).to_le_bytes());
        h
    }

    /// Runs the same calls against a fresh store with faults from `seed`; answers what was
    /// injected and what the reads returned (sled's part: the journal refuses a flipped read).
    fn faulty_run(seed: u64) -> (Vec<FaultKind>, Vec<Option<Hash>>, usize) {
        let tmp = tempfile::tempdir().expect("temp dir");
        let rates = FaultRates {
            write_fail_ppm: 200_000,
            flush_fail_ppm: 200_000,
            read_flip_ppm: 200_000,
            ..FaultRates::default()
        };
        let faults = std::sync::Arc::new(Faults::new(seed, rates));
        let store = LedgerStore::open_with_faults(tmp.path(), Some(faults.clone())).expect("opens");
        let mut failures = 0;
        let mut reads = Vec::new();
        for seq in 0..40u64 {
            let mut batch = AppendBatch::default();
            batch.node(SLED_NODE_LEVEL_MIN, seq, &node_value(seq));
            failures += usize::from(store.append(batch).is_err());
            failures += usize::from(store.flush().is_err());
            reads.push(store.stored_node(SLED_NODE_LEVEL_MIN, seq).expect("reads"));
        }
        (faults.injected(), reads, failures)
    }

    #[test]
    fn the_same_seed_injects_the_same_faults_and_a_flip_changes_one_bit() {
        let (kinds, reads, failures) = faulty_run(42);
        assert_eq!(faulty_run(42), (kinds.clone(), reads.clone(), failures));
        assert_ne!(faulty_run(43).0, kinds, "another seed, another schedule");
        let fails = kinds
            .iter()
            .filter(|k| matches!(k, FaultKind::WriteFail | FaultKind::FlushFail))
            .count();
        assert_eq!(fails, failures, "every injected failure was an error");
        let flips = kinds.iter().filter(|k| **k == FaultKind::ReadFlip).count();
        assert!(flips > 0);
        // A node whose write failed is absent; one that was written reads back with at most one
        // flipped bit.
        let mut flipped = 0;
        for (seq, read) in reads.iter().enumerate() {
            let Some(bytes) = read else { continue };
            let want = node_value(seq as u64);
            let bits: u32 = bytes
                .iter()
                .zip(&want)
                .map(|(a, b)| (a ^ b).count_ones())
                .sum();
            assert!(bits <= 1, "seq {seq}: {bits} bits differ");
            flipped += bits as usize;
        }
        assert_eq!(flipped, flips, "each read flip changed exactly one bit");
    }

    #[test]
    fn cleared_faults_inject_nothing_more() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let faults = std::sync::Arc::new(Faults::new(
            1,
            FaultRates {
                flush_fail_ppm: 1_000_000,
                ..FaultRates::default()
            },
        ));
        let store = LedgerStore::open_with_faults(tmp.path(), Some(faults.clone())).expect("opens");
        assert!(store.flush().is_err());
        faults.clear();
        assert!(store.flush().is_ok());
        assert_eq!(faults.injected(), vec![FaultKind::FlushFail]);
    }
}

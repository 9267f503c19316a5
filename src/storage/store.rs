//! Storage: the log's bytes on disk. Owns the sled layout (one tree, `log`, whose keys carry a
//! one-byte prefix so that a leaf, its Merkle nodes, its id index and the head move together in
//! one atomic batch), flushing, and the checkpoint file kept outside sled. Knows nothing of
//! custody rules; offers no way to rewrite or delete a leaf.
//!
//! Faults (`Faults`) can be injected at this boundary, seeded and reproducible, for the
//! reliability suite: a failed write, a failed flush, a failed checkpoint write, a read that
//! returns flipped bits, and (for the journal, `journal`) a short write. With no `Faults` given
//! (every real open) the checks cost one branch.
//!
//! Contract (what any backend must promise, and what the ledger relies on):
//! - `append` applies a whole `AppendBatch` or nothing, and never changes an existing key;
//! - nothing appended is durable until `flush` returns `Ok`;
//! - after a crash, the store holds a prefix of the batches appended (never a later batch
//!   without an earlier one).

use crate::domain::projection::{self, Write};
use crate::format::merkle::{Hash, NodeSource};
use std::path::{Path, PathBuf};

const PREFIX_LEAF: u8 = b'L';
const PREFIX_NODE: u8 = b'N';
const PREFIX_ID: u8 = b'I';
const PREFIX_IDENTITY: u8 = b'X';
const KEY_HEAD: &[u8] = b"H";
const KEY_ORIGIN: &[u8] = b"O";
const KEY_CHECKPOINT: &[u8] = b"C";

/// A storage failure. The ledger stops acknowledging when it sees one.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("storage I/O failed: {0}; check the disk and permissions, then reopen the ledger")]
    Io(String),
    #[error("storage is corrupt: {0}{hint}", hint = doctor_hint(.0))]
    Corrupt(String),
    /// Another process holds the ledger: not a fault, try again when it is done.
    #[error("{0}")]
    Busy(String),
    /// The caller broke a store's API (read past the end, a batch over its limit): a bug in
    /// custody, not in the disk; nothing was written.
    #[error("storage misused: {0}")]
    Misuse(String),
}

/// Every corruption message ends by naming the command that says what can be repaired.
fn doctor_hint(message: &str) -> &'static str {
    if message.contains("custody doctor") {
        ""
    } else {
        "; run `custody doctor --ledger DIR` on the ledger folder to see which file is damaged and whether acknowledged entries are at risk"
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Corruption { .. } => Self::Corrupt(e.to_string()),
            other => Self::Io(other.to_string()),
        }
    }
}

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

/// Everything one group commit writes.
#[derive(Debug, Default)]
pub struct AppendBatch {
    batch: sled::Batch,
    pub leaves: u64,
}

impl AppendBatch {
    pub fn leaf(&mut self, seq: u64, bytes: &[u8]) {
        self.batch.insert(&key_u64(PREFIX_LEAF, seq)[..], bytes);
        self.leaves += 1;
    }
    pub fn node(&mut self, level: u8, index: u64, hash: &Hash) {
        self.batch.insert(&node_key(level, index)[..], &hash[..]);
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

/// How often each fault fires, in parts per million of the calls that can fail that way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultRates {
    /// `append` fails before anything is applied.
    pub write_fail_ppm: u32,
    /// `flush` fails (the batch may or may not reach the disk later, as with a real fsync error).
    pub flush_fail_ppm: u32,
    /// Writing the checkpoint file fails.
    pub checkpoint_fail_ppm: u32,
    /// A log read (leaf, Merkle node, statement id index) returns one flipped bit.
    pub read_flip_ppm: u32,
    /// A journal append writes only part of its batch, then fails (the sled store has no such
    /// fault: sled applies a batch in memory and writes it at `flush`).
    pub short_write_ppm: u32,
}

/// One injected fault, as the reliability suite reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    WriteFail,
    FlushFail,
    CheckpointFail,
    ReadFlip,
    ShortWrite,
}

/// A seeded source of storage faults shared by a store and its checkpoint file. Deterministic:
/// the same seed and the same sequence of calls inject the same faults. `clear` ends the fault
/// (the disk is replaced, the cable reseated) without forgetting what was injected.
#[derive(Debug)]
pub struct Faults {
    state: std::sync::Mutex<FaultState>,
}

#[derive(Debug)]
struct FaultState {
    rng: u64,
    rates: FaultRates,
    injected: Vec<FaultKind>,
}

impl Faults {
    pub fn new(seed: u64, rates: FaultRates) -> Self {
        Self {
            state: std::sync::Mutex::new(FaultState {
                rng: seed ^ 0x9E37_79B9_7F4A_7C15,
                rates,
                injected: Vec::new(),
            }),
        }
    }

    /// Stops injecting faults from now on.
    pub fn clear(&self) {
        self.lock().rates = FaultRates::default();
    }

    /// Every fault injected so far, in order.
    pub fn injected(&self) -> Vec<FaultKind> {
        self.lock().injected.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Rolls for `kind`; a hit is recorded. Returns a random word for the caller's use.
    pub(super) fn roll(&self, kind: FaultKind) -> Option<u64> {
        let mut s = self.lock();
        let ppm = match kind {
            FaultKind::WriteFail => s.rates.write_fail_ppm,
            FaultKind::FlushFail => s.rates.flush_fail_ppm,
            FaultKind::CheckpointFail => s.rates.checkpoint_fail_ppm,
            FaultKind::ReadFlip => s.rates.read_flip_ppm,
            FaultKind::ShortWrite => s.rates.short_write_ppm,
        };
        if ppm == 0 {
            return None;
        }
        let draw = splitmix64(&mut s.rng);
        if draw % 1_000_000 >= u64::from(ppm) {
            return None;
        }
        s.injected.push(kind);
        Some(splitmix64(&mut s.rng))
    }

    pub(super) fn fail(&self, kind: FaultKind, what: &str) -> Result<(), StoreError> {
        match self.roll(kind) {
            Some(_) => Err(StoreError::Io(format!("injected fault: {what} failed"))),
            None => Ok(()),
        }
    }

    /// Flips one bit of `bytes` when a read flip is rolled.
    pub(super) fn corrupt(&self, bytes: &mut [u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(word) = self.roll(FaultKind::ReadFlip) {
            let bit = (word % (bytes.len() as u64 * 8)) as usize;
            bytes[bit / 8] ^= 1 << (bit % 8);
        }
    }
}

/// SplitMix64: a tiny, well-mixed generator; enough to schedule faults reproducibly.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

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

/// The bytes of the `conf` file sled writes for `sled_config`, obtained by letting sled create a
/// store in `scratch` (a folder that must not exist; removed again).
pub fn fresh_conf(scratch: &Path) -> Result<Vec<u8>, StoreError> {
    let db = sled_config(scratch).open()?;
    drop(db);
    let bytes = std::fs::read(scratch.join("conf"))
        .map_err(|e| StoreError::Io(format!("{}: {e}", scratch.join("conf").display())));
    let _ = std::fs::remove_dir_all(scratch);
    bytes
}

/// sled 0.34's data file inside its directory (its log of pages).
const SLED_DATA_FILE: &str = "db";

/// The sled-backed log store.
pub struct SledStore {
    db: sled::Db,
    log: sled::Tree,
    /// Read-side views (see `projection`), separate from the log, with their own watermark.
    views: sled::Tree,
    /// sled's data file, opened again to `fdatasync` it after every flush (see `flush`).
    data_file: std::fs::File,
    faults: Option<std::sync::Arc<Faults>>,
}

impl SledStore {
    /// Opens (creating if needed) the sled database in `dir`. sled holds an exclusive file lock;
    /// a process that just closed the ledger may still be releasing it (sled's background
    /// flusher lets go a moment after the last handle), so a held lock is retried for up to
    /// `LOCK_WAIT_MS` before it is reported.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_faults(dir, None)
    }

    /// Opens like `open`, injecting `faults` (if any) into every later call.
    pub fn open_with_faults(
        dir: &Path,
        faults: Option<std::sync::Arc<Faults>>,
    ) -> Result<Self, StoreError> {
        const LOCK_WAIT_MS: u64 = 3000;
        const LOCK_RETRY_MS: u64 = 20;
        let started = std::time::Instant::now();
        loop {
            let result = sled_config(dir).open();
            match result {
                Ok(db) => {
                    let log = db.open_tree("log")?;
                    let views = db.open_tree("projections")?;
                    let data_file = std::fs::File::open(dir.join(SLED_DATA_FILE)).map_err(|e| {
                        StoreError::Io(format!(
                            "cannot open {} to make it durable: {e}",
                            dir.join(SLED_DATA_FILE).display()
                        ))
                    })?;
                    return Ok(Self {
                        db,
                        log,
                        views,
                        data_file,
                        faults,
                    });
                }
                // sled wraps the lock failure in an I/O error of its own; its text is the signal.
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                    if started.elapsed().as_millis() as u64 >= LOCK_WAIT_MS {
                        return Err(StoreError::Io(format!(
                            "{} is in use by another process (is `custody serve` running on it?)",
                            dir.display()
                        )));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(LOCK_RETRY_MS));
                }
                Err(e) => return Err(Self::open_error(dir, e)),
            }
        }
    }

    /// What an open refused by sled means. With our fixed settings, sled refusing its own
    /// configuration or format ("Unsupported", found by the tamper matrix when a bit of `conf`
    /// was flipped) or tripping over its own data means the files were altered or damaged, not
    /// that a disk or permission needs checking.
    fn open_error(dir: &Path, e: sled::Error) -> StoreError {
        match e {
            sled::Error::Unsupported(_)
            | sled::Error::ReportableBug(_)
            | sled::Error::Corruption { .. } => StoreError::Corrupt(format!(
                "the sled store in {} does not open: its files were altered or damaged (sled says: {e}). Run `custody doctor --ledger {}` to see which file and whether acknowledged entries are at risk, and add --repair to fix what can be fixed safely",
                dir.display(),
                dir.parent().unwrap_or(dir).display()
            )),
            other => other.into(),
        }
    }

    /// Applies a batch atomically. Not durable until `flush`.
    pub fn append(&self, batch: AppendBatch) -> Result<(), StoreError> {
        if let Some(f) = &self.faults {
            f.fail(FaultKind::WriteFail, "writing the batch")?;
        }
        self.log.apply_batch(batch.batch)?;
        Ok(())
    }

    /// Makes every appended batch durable.
    ///
    /// sled 0.34's own flush ends, on Linux, with `sync_file_range`, which writes the pages out but
    /// neither commits the file's metadata (its length grows as the log does) nor flushes the
    /// drive's volatile cache: enough for a killed process, not for a power cut. So the data file
    /// is `fdatasync`ed after it, and only then is anything called durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        if let Some(f) = &self.faults {
            f.fail(FaultKind::FlushFail, "flushing to disk (fsync)")?;
        }
        self.db.flush()?;
        self.data_file
            .sync_data()
            .map_err(|e| StoreError::Io(format!("fdatasync of sled's data file: {e}")))?;
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
            Some(v) => Err(StoreError::Corrupt(format!(
                "head record is {} bytes, expected 40",
                v.len()
            ))),
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

    pub fn leaf(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .log_get(&key_u64(PREFIX_LEAF, seq))?
            .map(|v| v.to_vec()))
    }

    pub fn stored_node(&self, level: u8, index: u64) -> Result<Option<Hash>, StoreError> {
        match self.log_get(&node_key(level, index))? {
            None => Ok(None),
            Some(v) => <[u8; 32]>::try_from(v.as_ref()).map(Some).map_err(|_| {
                StoreError::Corrupt(format!("Merkle node ({level}, {index}) is not 32 bytes"))
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
            Some(_) => Err(StoreError::Corrupt(
                "statement id index entry is malformed".into(),
            )),
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
                    .map_err(|_| StoreError::Corrupt("identity index key is malformed".into()))?;
                Ok(u64::from_be_bytes(bytes))
            })
            .collect()
    }

    pub fn origin(&self) -> Result<Option<String>, StoreError> {
        match self.log.get(KEY_ORIGIN)? {
            None => Ok(None),
            Some(v) => String::from_utf8(v.to_vec())
                .map(Some)
                .map_err(|_| StoreError::Corrupt("stored origin is not UTF-8".into())),
        }
    }

    /// Records the origin of a new ledger (once, before genesis), durably.
    pub fn set_origin(&self, origin: &str) -> Result<(), StoreError> {
        self.log
            .compare_and_swap(KEY_ORIGIN, None as Option<&[u8]>, Some(origin.as_bytes()))?
            .map_err(|_| StoreError::Corrupt("the ledger already has an origin".into()))?;
        self.flush()
    }

    pub fn checkpoint(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.log_get(KEY_CHECKPOINT)?.map(|v| v.to_vec()))
    }

    /// The log size the projections reflect (0 when there are none).
    pub fn projection_watermark(&self) -> Result<u64, StoreError> {
        self.views_u64(projection::WATERMARK, 0, "projection watermark")
    }

    /// The format the views were written in (`projection::FORMAT`); views written before the
    /// format was recorded are format 1.
    pub fn projection_format(&self) -> Result<u64, StoreError> {
        self.views_u64(projection::FORMAT, 1, "projection format")
    }

    /// A big-endian u64 the views keep under `key`, or `absent` when there is none.
    fn views_u64(&self, key: &[u8], absent: u64, what: &str) -> Result<u64, StoreError> {
        match self.views.get(key)? {
            None => Ok(absent),
            Some(v) => v
                .as_ref()
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::Corrupt(format!("{what} is malformed"))),
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
        let mut counters: std::collections::BTreeMap<
            Vec<u8>,
            serde_json::Map<String, serde_json::Value>,
        > = std::collections::BTreeMap::new();
        for w in writes {
            match w {
                Write::Put { key, value } => batch.insert(key.as_slice(), value.as_slice()),
                Write::Delete { key } => batch.remove(key.as_slice()),
                Write::Count { key, field, delta } => {
                    if !counters.contains_key(key) {
                        let current = match self.views.get(key)? {
                            Some(v) => serde_json::from_slice(&v).map_err(|e| {
                                StoreError::Corrupt(format!("projection counter is not JSON: {e}"))
                            })?,
                            None => serde_json::Map::new(),
                        };
                        counters.insert(key.clone(), current);
                    }
                    let map = counters.get_mut(key).expect("inserted above");
                    let now = map
                        .get(field)
                        .and_then(serde_json::Value::as_i64)
                        .unwrap_or(0)
                        + delta;
                    map.insert(field.clone(), serde_json::Value::from(now));
                }
            }
        }
        for (key, map) in counters {
            let bytes = serde_json::to_vec(&map).expect("a JSON map always serializes");
            batch.insert(key, bytes);
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

    /// Bytes sled occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}

/// Reading Merkle nodes for proofs: a node missing from the store is corruption, since every
/// complete subtree is written with the leaf that completes it.
impl NodeSource for SledStore {
    type Error = StoreError;
    fn node(&self, level: u8, index: u64) -> Result<Hash, StoreError> {
        self.stored_node(level, index)?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "Merkle node (level {level}, index {index}) is missing"
            ))
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
        StoreError::Io(format!("{}: {e}", self.path.display()))
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
            None => Err(StoreError::Corrupt(format!(
                "{} holds no intact checkpoint slot",
                self.path.display()
            ))),
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
            return Err(StoreError::Io(format!(
                "checkpoint note of {} bytes does not fit a {CHECKPOINT_SLOT_BYTES}-byte slot",
                note.len()
            )));
        }
        if let Some(f) = &self.faults {
            f.fail(FaultKind::CheckpointFail, "writing the checkpoint file")?;
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

impl crate::base::class::Classify for StoreError {
    fn class(&self) -> crate::base::class::Class {
        match self {
            Self::Busy(_) => crate::base::class::Class::Unavailable,
            Self::Io(_) | Self::Corrupt(_) => crate::base::class::Class::Corrupt,
            Self::Misuse(_) => crate::base::class::Class::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Runs the same calls against a fresh store with faults from `seed`; answers what was
    /// injected and what the reads returned.
    fn faulty_run(seed: u64) -> (Vec<FaultKind>, Vec<Option<Vec<u8>>>, usize) {
        let tmp = tempfile::tempdir().expect("temp dir");
        let rates = FaultRates {
            write_fail_ppm: 200_000,
            flush_fail_ppm: 200_000,
            read_flip_ppm: 200_000,
            ..FaultRates::default()
        };
        let faults = std::sync::Arc::new(Faults::new(seed, rates));
        let store = SledStore::open_with_faults(tmp.path(), Some(faults.clone())).expect("opens");
        let mut failures = 0;
        let mut reads = Vec::new();
        for seq in 0..40u64 {
            let mut batch = AppendBatch::default();
            batch.leaf(seq, format!("leaf {seq}").as_bytes());
            failures += usize::from(store.append(batch).is_err());
            failures += usize::from(store.flush().is_err());
            reads.push(store.leaf(seq).expect("reads"));
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
        // A leaf whose write failed is absent; one that was written reads back with at most one
        // flipped bit.
        let mut flipped = 0;
        for (seq, read) in reads.iter().enumerate() {
            let Some(bytes) = read else { continue };
            let want = format!("leaf {seq}").into_bytes();
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
        let store = SledStore::open_with_faults(tmp.path(), Some(faults.clone())).expect("opens");
        assert!(store.flush().is_err());
        faults.clear();
        assert!(store.flush().is_ok());
        assert_eq!(faults.injected(), vec![FaultKind::FlushFail]);
    }
}

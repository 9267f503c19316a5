//! Storage: the log's bytes on disk. Owns the sled layout (one tree, `log`, whose keys carry a
//! one-byte prefix so that a leaf, its Merkle nodes, its id index and the head move together in
//! one atomic batch), flushing, and the checkpoint file kept outside sled. Knows nothing of
//! custody rules; offers no way to rewrite or delete a leaf.
//!
//! Contract (what any backend must promise, and what the ledger relies on):
//! - `append` applies a whole `AppendBatch` or nothing, and never changes an existing key;
//! - nothing appended is durable until `flush` returns `Ok`;
//! - after a crash, the store holds a prefix of the batches appended (never a later batch
//!   without an earlier one).

use crate::merkle::{Hash, NodeSource};
use std::io::Write as _;
use std::path::{Path, PathBuf};

const PREFIX_LEAF: u8 = b'L';
const PREFIX_NODE: u8 = b'N';
const PREFIX_ID: u8 = b'I';
const PREFIX_IDENTITY: u8 = b'X';
const KEY_HEAD: &[u8] = b"H";
const KEY_ORIGIN: &[u8] = b"O";
const KEY_CHECKPOINT: &[u8] = b"C";

/// A storage failure. The ledger stops acknowledging when it sees one.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage I/O failed: {0}; check the disk and permissions, then reopen the ledger")]
    Io(String),
    #[error("storage is corrupt: {0}; run `custody verify` and restore from an export if it fails")]
    Corrupt(String),
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
        self.batch.insert(&key_u64(PREFIX_IDENTITY, seq)[..], &[][..]);
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

/// The sled-backed log store.
pub struct SledStore {
    db: sled::Db,
    log: sled::Tree,
}

impl SledStore {
    /// Opens (creating if needed) the sled database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(crate::limits::SLED_CACHE_BYTES)
            .open()?;
        let log = db.open_tree("log")?;
        Ok(Self { db, log })
    }

    /// Applies a batch atomically. Not durable until `flush`.
    pub fn append(&self, batch: AppendBatch) -> Result<(), StoreError> {
        self.log.apply_batch(batch.batch)?;
        Ok(())
    }

    /// Makes every appended batch durable (fsync).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    pub fn head(&self) -> Result<Head, StoreError> {
        match self.log.get(KEY_HEAD)? {
            None => Ok(Head {
                size: 0,
                root: crate::merkle::empty_root(),
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

    pub fn leaf(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.log.get(key_u64(PREFIX_LEAF, seq))?.map(|v| v.to_vec()))
    }

    pub fn stored_node(&self, level: u8, index: u64) -> Result<Option<Hash>, StoreError> {
        match self.log.get(node_key(level, index))? {
            None => Ok(None),
            Some(v) => v.as_ref().try_into().map(Some).map_err(|_| {
                StoreError::Corrupt(format!("Merkle node ({level}, {index}) is not 32 bytes"))
            }),
        }
    }

    pub fn statement_id(&self, id: &[u8; 16]) -> Result<Option<IdEntry>, StoreError> {
        let mut key = [0u8; 17];
        key[0] = PREFIX_ID;
        key[1..].copy_from_slice(id);
        match self.log.get(key)? {
            None => Ok(None),
            Some(v) if v.len() == 40 => Ok(Some(IdEntry {
                seq: u64::from_be_bytes(v[..8].try_into().expect("8 bytes")),
                payload_hash: v[8..].try_into().expect("32 bytes"),
            })),
            Some(_) => Err(StoreError::Corrupt("statement id index entry is malformed".into())),
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
        Ok(self.log.get(KEY_CHECKPOINT)?.map(|v| v.to_vec()))
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
            StoreError::Corrupt(format!("Merkle node (level {level}, index {index}) is missing"))
        })
    }
}

/// The latest signed checkpoint kept as a plain file beside sled, so that a sled store that comes
/// back shorter or different after a crash is caught on open.
pub struct CheckpointFile {
    path: PathBuf,
}

impl CheckpointFile {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn read(&self) -> Result<Option<Vec<u8>>, StoreError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Io(format!("{}: {e}", self.path.display()))),
        }
    }

    /// Replaces the file atomically: write a temporary file, fsync it, rename it over the old
    /// one, fsync the directory. A crash leaves either the old or the new checkpoint, never half.
    pub fn write(&self, note: &[u8]) -> Result<(), StoreError> {
        let io = |e: std::io::Error| StoreError::Io(format!("{}: {e}", self.path.display()));
        let tmp = self.path.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(note).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        Ok(())
    }
}

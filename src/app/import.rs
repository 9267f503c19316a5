//! `custody import`: a ledger built from a C2SP tlog-tiles export, or from a mirror's copy of a
//! ledger's `public/` folder, verifying everything first. With the ledger key it is a restore,
//! which records again; without it, a read-only replica (its verifier key kept instead of the
//! key), which answers every query and proof but appends nothing. Never writes anything before
//! the whole export verifies, and never leaves a half-made ledger at the target (it is built
//! beside it and renamed into place, as `custody init` does).
//!
//! What a restore cannot bring back is what a mirror never had: everything under the original's
//! `private/` that is not derived from the log (docs/STORAGE.md §7) — the views are derived and
//! rebuilt on the first open.

use crate::app::export::TilesSource;
use crate::app::ledger::{self, Ledger, LedgerPaths, OpenError};
use crate::app::verify::{self, LogSource as _, VerifyError};
use crate::base::class::{Class, Classify};
use crate::base::words::{Explain, Message, msg};
use crate::format::note::{self, Checkpoint, VerifierKey};
use crate::keys::signing::{KeyError, SecretKey};
use crate::storage::layout;
use crate::storage::recovery::{self, LedgerLock};
use crate::storage::store::{AppendBatch, CheckpointFile, LedgerStore, StoreError};
use std::path::Path;

/// Leaves copied per journal batch: bounded memory whatever the log's size, and few fsyncs.
const IMPORT_CHUNK_LEAVES: u64 = 4096;

/// What an import made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub ledger: String,
    pub origin: String,
    /// Entries verified and imported: the export's checkpoint size.
    pub entries: u64,
    /// True for a read-only replica (no ledger key), false for a restore.
    pub replica: bool,
    pub vkey: String,
}

/// Why an import stopped; the target was not created.
#[derive(Debug)]
pub enum ImportError {
    Usage(Message),
    Verify(VerifyError),
    Key(KeyError),
    Open(OpenError),
    Storage(StoreError),
}

impl From<VerifyError> for ImportError {
    fn from(e: VerifyError) -> Self {
        Self::Verify(e)
    }
}

impl From<KeyError> for ImportError {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl From<OpenError> for ImportError {
    fn from(e: OpenError) -> Self {
        Self::Open(e)
    }
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        Self::Storage(e)
    }
}

crate::english_display!(ImportError);

impl Explain for ImportError {
    fn explain(&self) -> Message {
        match self {
            Self::Usage(m) => m.clone(),
            Self::Verify(e) => msg("err.import.verify").part("reason", e.explain()),
            Self::Key(e) => e.explain(),
            Self::Open(e) => e.explain(),
            Self::Storage(e) => e.explain(),
        }
    }
}

impl Classify for ImportError {
    fn class(&self) -> Class {
        match self {
            Self::Usage(_) => Class::Usage,
            Self::Verify(_) => Class::Refused,
            Self::Key(e) => e.class(),
            Self::Open(e) => e.class(),
            Self::Storage(e) => e.class(),
        }
    }
}

/// The verifier key the export is checked with: made from the ledger key (which must then match
/// `vkey`, when given too), or `vkey` alone for a replica.
fn verifier(
    origin: &str,
    key: Option<&SecretKey>,
    vkey: Option<VerifierKey>,
) -> Result<VerifierKey, ImportError> {
    match (key, vkey) {
        (Some(key), given) => {
            let made = VerifierKey::new(origin, key.public()).map_err(|e| {
                ImportError::Usage(msg("err.import.ledger_key").part("reason", e.explain()))
            })?;
            match given {
                Some(v) if v != made => Err(ImportError::Usage(
                    msg("err.import.vkey_mismatch")
                        .arg("made", &made)
                        .arg("given", v),
                )),
                _ => Ok(made),
            }
        }
        (None, Some(v)) => Ok(v),
        (None, None) => Err(ImportError::Usage(msg("err.import.key_needed"))),
    }
}

/// Imports the export in `tiles` as a new ledger in `dir` (see the module doc). `progress(what,
/// done, total)` follows the verification, then the copy.
pub fn import(
    tiles: &Path,
    dir: &Path,
    key: Option<SecretKey>,
    vkey: Option<VerifierKey>,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<ImportReport, ImportError> {
    if !tiles.join("checkpoint").is_file() {
        return Err(ImportError::Usage(
            msg("err.import.no_checkpoint").arg("path", tiles.display()),
        ));
    }
    let note = TilesSource::read_checkpoint(tiles)?;
    let origin = note::checkpoint_unverified(&note)
        .map_err(|e| VerifyError::Checkpoint(e.explain()))?
        .origin;
    let vkey = verifier(origin.as_str(), key.as_ref(), vkey)?;
    let cp =
        note::open_checkpoint(&note, &vkey).map_err(|e| VerifyError::Checkpoint(e.explain()))?;
    let (parent, building) = ledger::aside(dir, "import")?;
    let source = TilesSource::new(tiles, cp.size);
    verify::verify_log(&source, &note, &vkey, &mut |done, total| {
        progress("verifying", done, total);
    })?;
    let built = build(
        &building,
        &source,
        &cp,
        &note,
        key.as_ref(),
        &vkey,
        progress,
    );
    if let Err(e) = built {
        let _ = std::fs::remove_dir_all(&building);
        return Err(e);
    }
    std::fs::rename(&building, dir).map_err(|e| StoreError::io_at(dir, &e))?;
    recovery::sync_dir(&parent)?;
    // The first open derives sled (nodes, indexes, views) from the journal and publishes public/.
    let ledger = Ledger::open(dir)?;
    ledger.close();
    Ok(ImportReport {
        ledger: dir.display().to_string(),
        origin: origin.as_str().to_owned(),
        entries: cp.size,
        replica: key.is_none(),
        vkey: vkey.to_string(),
    })
}

/// Builds the ledger folder in `building`: layout, the journal of every leaf, sled with the
/// origin, the checkpoint, and the key (a restore) or the verifier key (a replica), all durable.
fn build(
    building: &Path,
    source: &TilesSource,
    cp: &Checkpoint,
    note: &[u8],
    key: Option<&SecretKey>,
    vkey: &VerifierKey,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<(), ImportError> {
    let paths = LedgerPaths::new(building);
    std::fs::create_dir_all(building).map_err(|e| StoreError::io_at(building, &e))?;
    layout::make_dirs(building)?;
    let lock = LedgerLock::acquire(building)?;
    let store = LedgerStore::open(building)?;
    store.set_origin(cp.origin.as_str())?;
    let size = cp.size;
    let mut start = 0;
    while start < size {
        let end = (start + IMPORT_CHUNK_LEAVES).min(size);
        let mut batch = AppendBatch::default();
        for seq in start..end {
            let leaf = source.leaf(seq)?;
            let hash = crate::format::merkle::leaf_hash(&leaf);
            batch.leaf(leaf, hash);
        }
        store.append_leaves(&batch, start)?;
        progress("copying", end, size);
        start = end;
    }
    drop(store);
    CheckpointFile::with_faults(paths.checkpoint(), None).write(note)?;
    match key {
        Some(key) => key.write_new_file(&paths.key())?,
        None => std::fs::write(paths.vkey(), format!("{vkey}\n"))
            .map_err(|e| StoreError::io_at(&paths.vkey(), &e))?,
    }
    layout::write(building)?;
    recovery::sync_tree(building)?;
    drop(lock);
    Ok(())
}

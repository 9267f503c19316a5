//! `custody upgrade`: brings a ledger folder of an older storage layout to this version's
//! (`storage::layout`). Layout 1 kept the leaves in sled and every file at the top of the folder;
//! layout 2 keeps the leaves in the journal and splits the folder into `public/` and `private/`.
//! The new journal is built beside the old files, every leaf checked against its stored Merkle
//! node, the whole copy verified against the last signed checkpoint (every signature and rule),
//! and only then swapped in; the layout file is the commit point. Never changes a leaf, and never
//! removes the old copy of the leaves before the layout file says the new one is the ledger.
//!
//! Crash windows (✝), and what the next `custody upgrade` does (docs/STORAGE.md §6):
//! 1. create `public/` and `private/`, move the key, sled, the checkpoint slots and quarantine
//!    into `private/` (one rename each); ✝ some moved: the next run moves the rest;
//! 2. build `private/journal.upgrade/` from sled's leaves, verify it; ✝ a partial one: removed
//!    and built again;
//! 3. rename it to `private/journal/`, `fsync` the folder; ✝ a journal without a layout file:
//!    the ledger is still layout 1 (it will not open), and it is removed and built again;
//! 4. write the layout file (temporary, `fsync`, rename, `fsync`): the commit; ✝ after it the
//!    ledger is layout 2 and opens;
//! 5. remove the old leaves from sled and flush; ✝ some remain: harmless (never read), and
//!    removed by the next `custody upgrade`, which otherwise finds nothing to do.

use crate::app::ledger::{self, LedgerPaths, OpenError};
use crate::app::verify::{self, VerifyError};
use crate::base::class::{Class, Classify};
use crate::base::time::{Clock as _, SystemClock};
use crate::base::words::{Explain, Message, msg};
use crate::format::merkle::{self, CompactRange};
use crate::keys::signing::SecretKey;
use crate::storage::layout::{self, LAYOUT_UNNAMED, LAYOUT_VERSION, LEGACY_MOVES};
use crate::storage::recovery::{self, LedgerLock};
use crate::storage::store::{AppendBatch, CheckpointFile, LedgerStore, StoreError};
use std::path::Path;

/// Leaves copied per journal batch: bounded memory whatever the log's size, and few fsyncs.
const UPGRADE_CHUNK_LEAVES: u64 = 4096;
/// Where the new journal is built, inside the ledger folder.
const BUILDING_DIR: &str = "private/journal.upgrade";

/// What an upgrade did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UpgradeReport {
    pub ledger: String,
    /// The layout found, and the layout the ledger is in now.
    pub from_layout: u32,
    pub to_layout: u32,
    /// Entries copied into the journal and verified (0 when the ledger was already current).
    pub entries: u64,
    /// Old-layout leaves removed from sled (by this run; a killed run may leave some to the next).
    pub old_leaves_removed: u64,
}

/// Why an upgrade stopped. Nothing of the ledger was changed unless the report says so: before
/// the layout file is written, the old layout is whole.
#[derive(Debug)]
pub enum UpgradeError {
    Open(OpenError),
    Storage(StoreError),
    Verify(VerifyError),
    Newer { path: String, found: u32 },
}

impl From<OpenError> for UpgradeError {
    fn from(e: OpenError) -> Self {
        Self::Open(e)
    }
}

impl From<StoreError> for UpgradeError {
    fn from(e: StoreError) -> Self {
        Self::Storage(e)
    }
}

impl From<VerifyError> for UpgradeError {
    fn from(e: VerifyError) -> Self {
        Self::Verify(e)
    }
}

crate::english_display!(UpgradeError);

impl Explain for UpgradeError {
    fn explain(&self) -> Message {
        match self {
            Self::Open(e) => e.explain(),
            Self::Storage(e) => e.explain(),
            Self::Verify(e) => msg("err.upgrade.verify").part("reason", e.explain()),
            Self::Newer { path, found } => msg("err.upgrade.newer")
                .arg("path", path)
                .arg("found", found)
                .arg("version", LAYOUT_VERSION),
        }
    }
}

impl Classify for UpgradeError {
    fn class(&self) -> Class {
        match self {
            Self::Open(e) => e.class(),
            Self::Storage(e) => e.class(),
            Self::Verify(_) => Class::Corrupt,
            Self::Newer { .. } => Class::Usage,
        }
    }
}

/// Upgrades the ledger in `dir` to `LAYOUT_VERSION` (see the module doc). `progress(done,
/// total)` is called as leaves are copied, then as they are verified.
pub fn upgrade(
    dir: &Path,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<UpgradeReport, UpgradeError> {
    let paths = LedgerPaths::new(dir);
    let found = layout::read(dir)?;
    if found == LAYOUT_UNNAMED {
        check_legacy_files(dir)?;
    } else {
        ledger::check_ledger_files(dir, &paths)?;
    }
    let lock = LedgerLock::acquire(dir)?;
    let mut report = UpgradeReport {
        ledger: dir.display().to_string(),
        from_layout: found,
        to_layout: LAYOUT_VERSION,
        entries: 0,
        old_leaves_removed: 0,
    };
    if found > LAYOUT_VERSION {
        return Err(UpgradeError::Newer {
            path: report.ledger,
            found,
        });
    }
    if found == layout::LAYOUT_JOURNAL_FROM_ZERO || found == layout::LAYOUT_SLED_ALL_NODES {
        // Layouts 2 and 3 → 4 convert nothing: only the number changes.
        layout::write(dir)?;
    } else if found < LAYOUT_VERSION {
        layout::make_dirs(dir)?;
        move_legacy_files(dir)?;
        report.entries = build_journal(&lock, &paths, progress)?;
        std::fs::rename(dir.join(BUILDING_DIR), paths.journal())
            .map_err(|e| StoreError::io_at(&paths.journal(), &e))?;
        recovery::sync_dir(dir)?;
        layout::write(dir)?;
    }
    // The journal's layout from here: the old leaves are never read again.
    let store = LedgerStore::open(dir)?;
    report.old_leaves_removed = store.remove_legacy_leaves()?;
    drop(store);
    drop(lock);
    Ok(report)
}

/// Refuses a layout-1 folder that is not a ledger: it needs its sled folder and its key, at the
/// top (layout 1) or already moved into `private/` by a killed upgrade.
fn check_legacy_files(dir: &Path) -> Result<(), OpenError> {
    for (old, new) in &LEGACY_MOVES[..2] {
        if !dir.join(old).exists() && !dir.join(new).exists() {
            return Err(OpenError::NotALedger {
                path: dir.display().to_string(),
                reason: msg("err.upgrade.file_absent").arg("file", old),
            });
        }
    }
    Ok(())
}

/// Moves what layout 1 kept at the top of the folder into `private/`, one rename each, then
/// makes the moves durable. A file already moved (by a killed upgrade) is left where it is.
fn move_legacy_files(dir: &Path) -> Result<(), StoreError> {
    for (old, new) in LEGACY_MOVES {
        let (from, to) = (dir.join(old), dir.join(new));
        if !from.exists() {
            continue;
        }
        if to.exists() {
            return Err(StoreError::corrupt(
                msg("err.upgrade.mixed_layouts")
                    .arg("from", from.display())
                    .arg("to", to.display()),
            ));
        }
        std::fs::rename(&from, &to).map_err(|e| {
            StoreError::io(
                msg("err.upgrade.moving")
                    .arg("from", from.display())
                    .arg("to", to.display())
                    .arg("reason", e),
            )
        })?;
    }
    recovery::sync_dir(&dir.join(layout::PRIVATE_DIR))?;
    recovery::sync_dir(dir)
}

/// Builds `journal.upgrade/` from the old layout's leaves in sled, checks every leaf against its
/// stored Merkle node and the whole against sled's head, then verifies the copy against the last
/// signed checkpoint. Answers the entries copied. Changes nothing outside `journal.upgrade/`
/// (but what `make_safe_for_open` moves to quarantine, as any open does).
fn build_journal(
    lock: &LedgerLock,
    paths: &LedgerPaths,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<u64, UpgradeError> {
    let dir = paths.dir.as_path();
    let stamp = recovery::stamp(SystemClock.now());
    recovery::make_safe_for_open(lock, &paths.sled(), &stamp)?;
    // Left by a killed upgrade: never the ledger's (no layout file names them).
    for stale in [dir.join(BUILDING_DIR), paths.journal()] {
        if stale.exists() {
            std::fs::remove_dir_all(&stale).map_err(|e| StoreError::io_at(&stale, &e))?;
        }
    }
    let store = LedgerStore::open_at(
        &paths.sled(),
        &dir.join(BUILDING_DIR),
        &dir.join(crate::storage::layout::PUBLIC_DIR),
        None,
    )?;
    let head = store.head()?;
    let key = SecretKey::read_file(&paths.key()).map_err(OpenError::from)?;
    let (_, vkey) = ledger::stored_origin(dir, &store, &key)?;
    let file = CheckpointFile::with_faults(paths.checkpoint(), None);
    let cp = ledger::latest_checkpoint(&store, &file, &vkey, head)?
        .ok_or_else(|| OpenError::Corrupt(msg("err.upgrade.no_checkpoint").into()))?;
    let root = copy_leaves(&store, head.size, progress)?;
    if root != head.root {
        let differs = msg("err.upgrade.root_differs").arg("size", head.size);
        return Err(OpenError::Corrupt(differs.into()).into());
    }
    verify::verify_log(&store, cp.note.as_bytes(), &vkey, &mut |done, total| {
        progress("verifying", done, total);
    })?;
    Ok(head.size)
}

/// Copies leaves `0 .. size` from sled into the store's journal, each checked against its stored
/// level-0 Merkle node; answers the root of what was copied.
fn copy_leaves(
    store: &LedgerStore,
    size: u64,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<merkle::Hash, UpgradeError> {
    let mut range = CompactRange::new();
    let mut start = 0;
    while start < size {
        let end = (start + UPGRADE_CHUNK_LEAVES).min(size);
        let mut batch = AppendBatch::default();
        for (seq, leaf) in (start..end).zip(store.legacy_leaves(start, end)?) {
            let bytes = leaf.ok_or_else(|| {
                OpenError::Corrupt(msg("err.upgrade.leaf_missing").arg("seq", seq).into())
            })?;
            let hash = merkle::leaf_hash(&bytes);
            if store.sled_node(0, seq)? != Some(hash) {
                let mismatch = msg("err.upgrade.leaf_mismatch").arg("seq", seq);
                return Err(OpenError::Corrupt(mismatch.into()).into());
            }
            range.append(hash);
            batch.leaf(bytes, hash);
        }
        store.append_leaves(&batch, start)?;
        progress("copying", end, size);
        start = end;
    }
    Ok(range.root())
}

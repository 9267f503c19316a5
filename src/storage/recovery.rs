//! Storage: what a killed process can leave in a ledger folder, made safe before anything opens
//! it. Owns the ledger's own lock (`lock`, held for as long as a `Ledger` is open), the test for
//! sled files that are provably incomplete, and the `quarantine/` folder they are moved to.
//! Must never delete a file, and never move one sled reads correctly or skips (a committed
//! snapshot, its data file, its `conf`, a `.in___motion` name).
//!
//! Why this exists (sled 0.34.7, `src/pagecache/snapshot.rs`): on every open that finds the log
//! ahead of its last snapshot, `write_snapshot` writes `snap.<LSN>.generating`, `sync_all`s it and
//! renames it to `snap.<LSN>` — the rename is the commit. But `read_snapshot` takes the last name
//! in sorted order among `Config::get_snapshot_files` (`src/config.rs`), which skips only names
//! ending in `.in___motion`. A kill between the create and the rename leaves a `.generating` file
//! that sorts after `snap.<LSN>` and is read as the newest snapshot: empty or torn, it fails its
//! length or CRC check and the store never opens again; whole, it is a snapshot that was never
//! committed. Until the rename, that open had only read the store, so moving the `.generating`
//! file away gives back exactly the folder the previous run left, which sled opens (it is the
//! state any crash of that run leaves). docs/RELIABILITY.md has the whole argument.

use crate::base::words::msg;
use crate::storage::fault::StoreError;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The ledger's lock file, inside the ledger folder.
pub const LOCK_FILE: &str = "lock";
/// Where files that must not be read again are moved, inside the ledger folder (never inside a
/// sled folder: sled reads every name there that starts with `snap.`).
pub const QUARANTINE_DIR: &str = "private/quarantine";
/// How long `LedgerLock::acquire` waits for a process that is closing the ledger to let go.
const LOCK_WAIT_MS: u64 = 3000;
/// How often a held lock is tried again while waiting.
const LOCK_RETRY_MS: u64 = 20;
/// sled's snapshot names: `snap.` and the LSN as 16 upper-case hex digits (`{:016X}`).
const SNAPSHOT_PREFIX: &str = "snap.";
const SNAPSHOT_LSN_DIGITS: usize = 16;
/// The suffix of a snapshot still being written (not yet renamed: not committed).
const GENERATING_SUFFIX: &str = ".generating";
/// The suffix sled itself skips when it lists snapshots.
const IN_MOTION_SUFFIX: &str = ".in___motion";

/// The ledger's exclusive lock, held until dropped. Whoever holds it may move files in the ledger
/// folder; a live server holds it for as long as it runs.
#[derive(Debug)]
pub struct LedgerLock {
    _file: File,
    dir: PathBuf,
}

impl LedgerLock {
    /// Takes the lock of the ledger in `dir`, waiting up to `LOCK_WAIT_MS` for a process that is
    /// closing it (an advisory `flock`, released by the kernel when the holder dies).
    pub fn acquire(dir: &Path) -> Result<Self, StoreError> {
        let started = Instant::now();
        loop {
            if let Some(lock) = Self::try_acquire(dir)? {
                return Ok(lock);
            }
            if started.elapsed() >= Duration::from_millis(LOCK_WAIT_MS) {
                return Err(StoreError::busy(
                    msg("err.store.in_use").arg("path", dir.display()),
                ));
            }
            std::thread::sleep(Duration::from_millis(LOCK_RETRY_MS));
        }
    }

    /// Takes the lock if no one holds it; `None` when another process does.
    pub fn try_acquire(dir: &Path) -> Result<Option<Self>, StoreError> {
        let path = dir.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError::io_at(&path, &e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self {
                _file: file,
                dir: dir.to_path_buf(),
            })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(StoreError::io(
                msg("err.store.locking")
                    .arg("path", path.display())
                    .arg("reason", e),
            )),
        }
    }

    /// The ledger folder this lock guards.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// A file to move aside, and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incomplete {
    pub path: PathBuf,
    pub bytes: u64,
}

/// What a name in a sled folder is, as far as snapshots go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotName {
    /// `snap.<LSN>`: committed by its rename.
    Committed,
    /// `snap.<LSN>.generating`: never renamed, so never committed.
    Generating,
    /// `….in___motion`: skipped by sled itself.
    InMotion,
    /// Starts with `snap.` but is none of the above: not sled's, yet sled would read it as its
    /// newest snapshot (if it sorts last) or delete it (once it writes a new snapshot).
    Unknown,
    /// Not a snapshot name at all.
    NotASnapshot,
}

/// Classifies a file name found in a sled folder.
pub fn snapshot_name(name: &str) -> SnapshotName {
    let Some(rest) = name.strip_prefix(SNAPSHOT_PREFIX) else {
        return SnapshotName::NotASnapshot;
    };
    if name.ends_with(IN_MOTION_SUFFIX) {
        return SnapshotName::InMotion;
    }
    let lsn_ok = |lsn: &str| {
        lsn.len() == SNAPSHOT_LSN_DIGITS
            && lsn
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    };
    match rest.strip_suffix(GENERATING_SUFFIX) {
        Some(lsn) if lsn_ok(lsn) => SnapshotName::Generating,
        None if lsn_ok(rest) => SnapshotName::Committed,
        _ => SnapshotName::Unknown,
    }
}

/// Every file in `sled_dir` with the given kind of snapshot name, sorted.
pub fn snapshot_files(sled_dir: &Path, kind: SnapshotName) -> Result<Vec<Incomplete>, StoreError> {
    let entries = match std::fs::read_dir(sled_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io_at(sled_dir, &e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io_at(sled_dir, &e))?;
        let name = entry.file_name();
        if snapshot_name(&name.to_string_lossy()) == kind {
            let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
            found.push(Incomplete {
                path: entry.path(),
                bytes,
            });
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// A file moved to quarantine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub from: PathBuf,
    pub to: PathBuf,
    pub bytes: u64,
}

/// Moves `files` (each inside the ledger folder) to `quarantine/<stamp>/` keeping their paths
/// relative to the ledger folder, then makes the moves durable (both folders fsynced). The lock
/// is the proof that no live process is writing them.
pub fn quarantine(
    lock: &LedgerLock,
    files: &[Incomplete],
    stamp: &str,
) -> Result<Vec<Moved>, StoreError> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let io = |what: &Path, e: std::io::Error| StoreError::io_at(what, &e);
    let root = lock.dir().join(QUARANTINE_DIR);
    let mut target = root.join(stamp);
    let mut n = 1;
    while target.exists() {
        n += 1;
        target = root.join(format!("{stamp}-{n}"));
    }
    let mut moved = Vec::with_capacity(files.len());
    for file in files {
        let relative = file.path.strip_prefix(lock.dir()).map_err(|_| {
            StoreError::io(
                msg("err.store.outside_ledger")
                    .arg("file", file.path.display())
                    .arg("dir", lock.dir().display()),
            )
        })?;
        let to = target.join(relative);
        let parent = to.parent().unwrap_or(&target);
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        std::fs::rename(&file.path, &to).map_err(|e| io(&file.path, e))?;
        sync_dir(parent)?;
        if let Some(from_dir) = file.path.parent() {
            sync_dir(from_dir)?;
        }
        moved.push(Moved {
            from: file.path.clone(),
            to,
            bytes: file.bytes,
        });
    }
    sync_dir(&root)?;
    sync_dir(lock.dir())?;
    Ok(moved)
}

/// Replaces the file at `path` by one holding `bytes`, crash-safely: written to `<path>.tmp`
/// (mode 0600), `fsync`ed, renamed over `path`, then the folder `fsync`ed. A crash leaves the
/// old file or the new one, never a torn one (a stray temporary is overwritten by the next
/// write). For the small files that name a state: the layout, the journal's drop mark, the
/// register's retention tables and a waiting master key.
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    let temp = std::path::PathBuf::from(temp);
    let io = |p: &Path, e: std::io::Error| {
        StoreError::io(
            msg("err.store.io_writing")
                .arg("path", p.display())
                .arg("reason", e),
        )
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .map_err(|e| io(&temp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| io(&temp, e))?;
    std::fs::rename(&temp, path).map_err(|e| io(path, e))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Makes a folder's entries (creations, renames) durable.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| {
        StoreError::io(
            msg("err.store.fsync_folder")
                .arg("path", dir.display())
                .arg("reason", e),
        )
    })
}

/// Makes every file and folder under `dir` durable (used once, before a new ledger is renamed
/// into place).
pub fn sync_tree(dir: &Path) -> Result<(), StoreError> {
    let io = |p: &Path, e: std::io::Error| {
        StoreError::io(
            msg("err.store.io_fsync")
                .arg("path", p.display())
                .arg("reason", e),
        )
    };
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let path = entry.map_err(|e| io(dir, e))?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| io(&path, e))?;
        }
    }
    sync_dir(dir)
}

/// Before sled opens `sled_dir`: moves to quarantine every snapshot that was never committed, and
/// every other name sled would take for a snapshot but did not write (sled reads the last such
/// name as its newest snapshot, and deletes all the others once it writes a new one: moving them
/// aside is the only way to keep their bytes). Committed snapshots and names sled skips stay.
pub fn make_safe_for_open(
    lock: &LedgerLock,
    sled_dir: &Path,
    stamp: &str,
) -> Result<Vec<Moved>, StoreError> {
    let mut files = snapshot_files(sled_dir, SnapshotName::Generating)?;
    files.extend(snapshot_files(sled_dir, SnapshotName::Unknown)?);
    quarantine(lock, &files, stamp)
}

impl crate::base::words::Explain for Moved {
    fn explain(&self) -> crate::base::words::Message {
        use crate::base::words::msg;
        let name = self.from.file_name().map(|n| n.to_string_lossy());
        let why = match name.as_deref().map(snapshot_name) {
            Some(SnapshotName::Generating) => msg("repair.moved.generating"),
            _ => msg("repair.moved.unknown"),
        };
        msg("repair.moved")
            .arg("from", self.from.display())
            .arg("bytes", self.bytes)
            .arg("to", self.to.display())
            .part("why", why)
    }
}

/// In English, as the logs and tests read it.
impl std::fmt::Display for Moved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::base::words::english(self, f)
    }
}

/// A file-system-safe stamp for a quarantine folder: `20250804T093000Z`.
pub fn stamp(now: crate::base::time::Timestamp) -> String {
    now.to_seconds_text().replace(['-', ':'], "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_are_classified_as_sled_writes_them() {
        assert_eq!(
            snapshot_name("snap.00000000000A1B2C"),
            SnapshotName::Committed
        );
        assert_eq!(
            snapshot_name("snap.00000000000A1B2C.generating"),
            SnapshotName::Generating
        );
        assert_eq!(
            snapshot_name("snap.00000000000A1B2C.in___motion"),
            SnapshotName::InMotion
        );
        // Lower-case hex, a short LSN or another suffix is not what sled writes: not ours to move.
        assert_eq!(
            snapshot_name("snap.00000000000a1b2c.generating"),
            SnapshotName::Unknown
        );
        assert_eq!(snapshot_name("snap.1A.generating"), SnapshotName::Unknown);
        assert_eq!(
            snapshot_name("snap.00000000000A1B2C.old"),
            SnapshotName::Unknown
        );
        assert_eq!(snapshot_name("db"), SnapshotName::NotASnapshot);
        assert_eq!(snapshot_name("conf"), SnapshotName::NotASnapshot);
    }

    #[test]
    fn a_held_lock_is_not_taken_twice() {
        let tmp = tempfile::tempdir().expect("tmp");
        let first = LedgerLock::try_acquire(tmp.path()).expect("lock");
        assert!(first.is_some());
        assert!(LedgerLock::try_acquire(tmp.path()).expect("lock").is_none());
        drop(first);
        assert!(LedgerLock::try_acquire(tmp.path()).expect("lock").is_some());
    }

    #[test]
    fn quarantine_moves_outside_the_sled_folder_and_keeps_the_bytes() {
        let tmp = tempfile::tempdir().expect("tmp");
        let sled = tmp.path().join("log.sled");
        std::fs::create_dir(&sled).expect("dir");
        std::fs::write(sled.join("snap.0000000000000100"), b"committed").expect("write");
        std::fs::write(sled.join("snap.0000000000000200.generating"), b"torn").expect("write");
        let lock = LedgerLock::acquire(tmp.path()).expect("lock");
        let moved = make_safe_for_open(&lock, &sled, "20250804T093000Z").expect("safe");
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].bytes, 4);
        assert!(sled.join("snap.0000000000000100").exists());
        assert!(!sled.join("snap.0000000000000200.generating").exists());
        let moved = tmp
            .path()
            .join("private/quarantine/20250804T093000Z/log.sled/snap.0000000000000200.generating");
        assert_eq!(std::fs::read(moved).expect("moved"), b"torn");
        // A second pass in the same second gets its own folder and moves nothing.
        assert!(
            make_safe_for_open(&lock, &sled, "20250804T093000Z")
                .expect("safe")
                .is_empty()
        );
    }
}

//! The storage layout of a ledger folder: which files hold what (docs/FORMAT.md §12), and the
//! file `layout` that names it. Layout 1 (no file) kept the leaves in sled, everything at the top
//! of the folder; layout 2 keeps them in the journal, and splits the folder into `public/` (all a
//! mirror may copy) and `private/` (the key, the journal's tail, sled and its views, and
//! everything personal); layout 3 lets the journal drop the segments `public/` covers; layout 4
//! keeps in sled only the Merkle nodes from level 4 up. Owns the names and reading and writing
//! the layout file, crash-safely; never decides what to do about a layout it finds (the ledger
//! refuses, `custody upgrade` converts).

use crate::base::words::msg;
use crate::storage::fault::StoreError;
use crate::storage::recovery::{replace_file, sync_dir};
use std::path::Path;

/// The layout this version writes and opens. Layout 3 is layout 2 whose journal may start after
/// entry 0, its covered segments dropped (docs/STORAGE.md §8): the files are the same, but a
/// version that knows only layout 2 would take a dropped segment for a lost one, so the number
/// tells it to refuse the folder instead.
pub const LAYOUT_VERSION: u32 = 4;
/// Layout 3: sled kept every Merkle node. Layout 4 keeps those of level 4 and above and reads the
/// levels below from the leaves and the hash tiles (`storage::low_nodes`); a layout-3 ledger
/// already holds all of those, so opening it writes layout 4 over it (its extra nodes are simply
/// no longer read). The number tells a version that reads every node from sled to refuse a
/// ledger whose low nodes are not there.
pub const LAYOUT_SLED_ALL_NODES: u32 = 3;
/// Layout 2: the journal always starts at entry 0. Opened by writing layout 3 over it (nothing to
/// convert) before anything can be dropped.
pub const LAYOUT_JOURNAL_FROM_ZERO: u32 = 2;
/// The layout of a ledger folder with no layout file: every ledger made before the journal.
pub const LAYOUT_UNNAMED: u32 = 1;
/// The layout file's name in a ledger folder.
pub const LAYOUT_FILE: &str = "layout";
/// What a mirror may copy: published checkpoints and tiles. Nothing personal, nothing secret.
pub const PUBLIC_DIR: &str = "public";
/// What is never served: the ledger key, the journal, sled, the checkpoint slots, quarantine.
pub const PRIVATE_DIR: &str = "private";
/// The ledger's checkpoint signing key.
pub const KEY_FILE: &str = "private/ledger-key.pem";
/// A read-only replica's verifier key (`custody import` without the ledger key), in its place.
pub const VKEY_FILE: &str = "private/vkey";
/// The latest checkpoint in two alternating slots (`store::CheckpointFile`).
pub const CHECKPOINT_SLOTS_FILE: &str = "private/checkpoint.slots";
/// Content-addressed blobs (photos, scans, lab reports) named by statements' digests
/// (`storage::blobs`): they may show people, so they live in `private/` and no mirror copies them.
pub const BLOBS_DIR: &str = "private/blobs";
/// Layout 1's sled folder, at the top of the ledger folder.
pub const LEGACY_SLED_DIR: &str = "log.sled";
/// What layout 1 kept at the top of the folder, and where layout 2 keeps it.
pub const LEGACY_MOVES: [(&str, &str); 4] = [
    ("log.sled", "private/log.sled"),
    ("ledger-key.pem", KEY_FILE),
    ("checkpoint.slots", CHECKPOINT_SLOTS_FILE),
    ("quarantine", "private/quarantine"),
];
/// The layout file is one short line; anything longer is not one we wrote.
const LAYOUT_FILE_BYTES_MAX: u64 = 64;

/// An I/O failure on `path`; `what` is the catalogue key of the sentence saying what was being
/// done, with `{path}` and `{reason}` (the system's own words).
fn io(path: &Path, what: &'static str, e: &std::io::Error) -> StoreError {
    StoreError::io(msg(what).arg("path", path.display()).arg("reason", e))
}

/// The layout of the ledger folder `dir`: its layout file's version, or `LAYOUT_UNNAMED` when
/// there is none. A file that does not read as `custody-ledger-layout N` is corruption.
pub fn read(dir: &Path) -> Result<u32, StoreError> {
    let path = dir.join(LAYOUT_FILE);
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LAYOUT_UNNAMED),
        Err(e) => return Err(io(&path, "err.store.io_reading", &e)),
    };
    let damaged =
        || StoreError::corrupt(msg("err.store.layout_foreign").arg("path", path.display()));
    if meta.len() > LAYOUT_FILE_BYTES_MAX {
        return Err(damaged());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| io(&path, "err.store.io_reading", &e))?;
    text.strip_suffix('\n')
        .and_then(|t| t.strip_prefix("custody-ledger-layout "))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n > LAYOUT_UNNAMED)
        .ok_or_else(damaged)
}

/// Creates `public/` and `private/` in `dir` (durably; `private/` readable by its owner only).
pub fn make_dirs(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt as _;
    for name in [PUBLIC_DIR, PRIVATE_DIR] {
        let path = dir.join(name);
        std::fs::create_dir_all(&path).map_err(|e| io(&path, "err.store.io_creating", &e))?;
    }
    let private = dir.join(PRIVATE_DIR);
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| io(&private, "err.store.io_restricting", &e))?;
    sync_dir(dir)
}

/// Writes the layout file of `dir` for `LAYOUT_VERSION`, crash-safely: a temporary file,
/// `fsync`, rename, `fsync` of the folder. A crash leaves the old state or the new, never a torn
/// file (a stray temporary is overwritten by the next write).
pub fn write(dir: &Path) -> Result<(), StoreError> {
    replace_file(
        &dir.join(LAYOUT_FILE),
        format!("custody-ledger-layout {LAYOUT_VERSION}\n").as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_without_a_file_is_layout_1_and_a_written_one_reads_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(read(dir.path()).expect("reads"), LAYOUT_UNNAMED);
        write(dir.path()).expect("writes");
        assert_eq!(read(dir.path()).expect("reads"), LAYOUT_VERSION);
        assert!(!dir.path().join("layout.tmp").exists());
    }

    #[test]
    fn a_file_custody_did_not_write_is_corruption() {
        let dir = tempfile::tempdir().expect("temp dir");
        for text in [
            "",
            "custody-ledger-layout 2",
            "custody-ledger-layout 1\n",
            "custody-ledger-layout x\n",
            "layout 2\n",
        ] {
            std::fs::write(dir.path().join(LAYOUT_FILE), text).expect("writes");
            assert!(
                matches!(read(dir.path()), Err(StoreError::Corrupt(_))),
                "{text:?}"
            );
        }
    }
}

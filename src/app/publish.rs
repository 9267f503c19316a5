//! Publishing the log for mirrors: the C2SP tlog-tiles of the latest checkpoint and the
//! checkpoint itself, as plain files in the ledger's `public/` folder, so that a static web
//! server or a plain copy of `public/` is a mirror. Owns the order of those writes and their crash
//! safety. Never writes outside `public/`, never writes a checkpoint before the tiles it needs,
//! and never publishes anything from `private/` but the leaves and hashes the log already makes
//! public.
//!
//! Each file is written to a temporary name, `fsync`ed and renamed into place, and every folder
//! that got a new name is `fsync`ed before the checkpoint is renamed into place the same way: a
//! crash leaves at worst a stray temporary file (overwritten by the next publication) and tiles
//! that no checkpoint names yet. Full tiles are immutable and written once; a partial tile is a
//! new file named by its width (`<N>.p/<W>`), removed with its folder once the full tile is
//! durable.

use crate::app::export::{ExportError, TILE_WIDTH, TileRef, tile_bytes, tile_path};
use crate::storage::fault::{FaultKind, Faults};
use crate::storage::store::LedgerStore;
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Tree levels per tile level (tlog-tiles: tile height 8).
const TILE_HEIGHT_BITS: u32 = 8;
/// The published checkpoint's name inside `public/`.
pub const CHECKPOINT_FILE: &str = "checkpoint";

/// What one publication wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Published {
    pub size: u64,
    pub full_tiles: u64,
    pub partial_tiles: u64,
}

fn write_error(path: &Path, e: &std::io::Error) -> ExportError {
    ExportError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Writes `bytes` to `path` crash-safely (temporary file, `fsync`, rename); the caller `fsync`s
/// the folder. Answers the folder, which got a new name. `faults` may fail the rename.
fn write_durably(
    path: &Path,
    bytes: &[u8],
    faults: Option<&Faults>,
) -> Result<PathBuf, ExportError> {
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| write_error(&dir, &e))?;
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".{name}.tmp"));
    let mut file = std::fs::File::create(&temp).map_err(|e| write_error(&temp, &e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| write_error(&temp, &e))?;
    let renamed =
        match faults.map(|f| f.fail(FaultKind::RenameFail, "err.store.fault_renaming_public")) {
            Some(Err(e)) => Err(ExportError::Write {
                path: path.display().to_string(),
                reason: e.to_string(),
            }),
            _ => std::fs::rename(&temp, path).map_err(|e| write_error(path, &e)),
        };
    if renamed.is_err() {
        // Nothing a mirror should copy: the next publication writes it again.
        let _ = std::fs::remove_file(&temp);
    }
    renamed.map(|()| dir)
}

fn sync_dirs(dirs: &BTreeSet<PathBuf>) -> Result<(), ExportError> {
    for dir in dirs {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| write_error(dir, &e))?;
    }
    Ok(())
}

/// The tiles of the tree of `to` leaves that a publication after one of `from` leaves writes:
/// every full tile completed since, and the partial tile at the right edge of each level.
fn tiles_between(from: u64, to: u64) -> Vec<TileRef> {
    let mut tiles = Vec::new();
    let levels = [None].into_iter().chain((0u8..=7).map(Some));
    for level in levels {
        let shift = level.map_or(0, |l| u32::from(l) * TILE_HEIGHT_BITS);
        let (nodes_from, nodes_to) = (from >> shift, to >> shift);
        if nodes_to == 0 {
            break;
        }
        for index in nodes_from / TILE_WIDTH..nodes_to / TILE_WIDTH {
            tiles.push(TileRef {
                level,
                index,
                width: TILE_WIDTH,
            });
        }
        let width = nodes_to % TILE_WIDTH;
        if width > 0 {
            tiles.push(TileRef {
                level,
                index: nodes_to / TILE_WIDTH,
                width,
            });
        }
    }
    tiles
}

/// Publishes the tree of `size` leaves into `public`: the tiles completed since a publication of
/// `from` leaves (0: every tile), the partial tiles of `size`, then `checkpoint` (the signed note
/// of `size`), each durable before the next step.
pub fn publish(
    store: &LedgerStore,
    public: &Path,
    from: u64,
    size: u64,
    checkpoint_note: &[u8],
) -> Result<Published, ExportError> {
    let mut published = Published {
        size,
        ..Published::default()
    };
    let mut dirs = BTreeSet::new();
    let mut finished = Vec::new();
    for tile in tiles_between(from.min(size), size) {
        let bytes = tile_bytes(store, size, tile)?.ok_or_else(|| {
            ExportError::Read(
                crate::base::words::msg("err.export.tree_lacks_tile").arg("size", size),
            )
        })?;
        let path = public.join(tile_path(tile.level, tile.index, tile.width));
        dirs.insert(write_durably(&path, &bytes, store.faults())?);
        if tile.width == TILE_WIDTH {
            published.full_tiles += 1;
            finished.push(path);
        } else {
            published.partial_tiles += 1;
        }
    }
    sync_dirs(&dirs)?;
    let checkpoint = public.join(CHECKPOINT_FILE);
    sync_dirs(&BTreeSet::from([write_durably(
        &checkpoint,
        checkpoint_note,
        store.faults(),
    )?]))?;
    // The full tiles are durable: the partial ones they replace are no longer needed.
    for full in finished {
        let partials = PathBuf::from(format!("{}.p", full.display()));
        if partials.is_dir() {
            let _ = std::fs::remove_dir_all(&partials);
        }
    }
    Ok(published)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publication_writes_the_new_full_tiles_and_the_right_edge() {
        let names = |from, to| -> Vec<String> {
            tiles_between(from, to)
                .into_iter()
                .map(|t| tile_path(t.level, t.index, t.width))
                .collect()
        };
        assert!(names(0, 0).is_empty());
        assert_eq!(names(0, 3), ["tile/entries/000.p/3", "tile/0/000.p/3"]);
        assert_eq!(
            names(3, 256),
            ["tile/entries/000", "tile/0/000", "tile/1/000.p/1"]
        );
        // 70,000 leaves: 273 full bundles, 273 full level-0 tiles, level 1 holds 273 nodes.
        let all = names(0, 70_000);
        assert_eq!(
            all.iter()
                .filter(|n| n.starts_with("tile/entries/"))
                .count(),
            274
        );
        assert!(all.contains(&"tile/1/000".to_owned()));
        assert!(all.contains(&"tile/1/001.p/17".to_owned()));
        assert!(all.contains(&"tile/2/000.p/1".to_owned()));
        // Nothing new but the edge when the size did not cross a tile.
        assert_eq!(
            names(70_000, 70_001),
            [
                "tile/entries/273.p/113",
                "tile/0/273.p/113",
                "tile/1/001.p/17",
                "tile/2/000.p/1"
            ]
        );
    }
}

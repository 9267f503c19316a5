//! Export to, and reading from, the C2SP tlog-tiles layout: `checkpoint`, `tile/<L>/<N>` hash
//! tiles and `tile/entries/<N>` entry bundles, as plain files that any static web server can
//! serve to mirrors and auditors, and that `custody verify --tiles` checks without sled. Never
//! changes the ledger it exports.

use crate::app::verify::{LogSource, VerifyError};
use crate::base::words::{Explain, Message, msg};
use crate::format::merkle::{CompactRange, Hash};
use crate::storage::store::LedgerStore;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::format::tiles::{TILE_HEIGHT, parse_bundle};
pub use crate::format::tiles::{TILE_WIDTH, index_path, tile_path};

#[derive(Debug)]
pub enum ExportError {
    NotEmpty {
        path: String,
    },
    /// `reason`: the system's own words.
    Write {
        path: String,
        reason: String,
    },
    Read(Message),
}

crate::english_display!(ExportError);

impl Explain for ExportError {
    fn explain(&self) -> Message {
        match self {
            Self::NotEmpty { path } => msg("err.export.not_empty").arg("path", path),
            Self::Write { path, reason } => msg("err.export.write")
                .arg("path", path)
                .arg("reason", reason),
            Self::Read(reason) => msg("err.export.read").part("reason", reason.clone()),
        }
    }
}

fn leaf_missing(seq: u64) -> ExportError {
    ExportError::Read(msg("err.export.leaf_missing").arg("seq", seq))
}

fn leaf_too_large(seq: u64) -> ExportError {
    ExportError::Read(msg("err.export.leaf_too_large").arg("seq", seq))
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    pub size: u64,
    pub entry_bundles: u64,
    pub hash_tiles: u64,
    pub bytes: u64,
}

fn write_file(root: &Path, rel: &str, bytes: &[u8]) -> Result<u64, ExportError> {
    let path = root.join(rel);
    let err = |e: std::io::Error| ExportError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    std::fs::write(&path, bytes).map_err(err)?;
    Ok(bytes.len() as u64)
}

/// Writes the tiles of the first `checkpoint_size` leaves and the checkpoint note into `out`.
pub fn export_tiles(
    store: &LedgerStore,
    checkpoint_note: &[u8],
    checkpoint_size: u64,
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ExportSummary, ExportError> {
    refuse_non_empty(out)?;
    let size = checkpoint_size;
    let mut writer = TileWriter::new(out, size);
    for seq in 0..size {
        let leaf = store
            .leaf(seq)
            .map_err(|e| ExportError::Read(e.explain()))?
            .ok_or_else(|| leaf_missing(seq))?;
        writer.entry(seq, &leaf)?;
        writer.hashes(&leaf)?;
        if seq % 4096 == 0 {
            progress(seq, size);
        }
    }
    writer.finish()?;
    writer.summary.bytes += write_file(out, "checkpoint", checkpoint_note)?;
    progress(size, size);
    Ok(writer.summary)
}

/// Refuses to export into `out` if it holds anything.
fn refuse_non_empty(out: &Path) -> Result<(), ExportError> {
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(|e| ExportError::Write {
                path: out.display().to_string(),
                reason: e.to_string(),
            })?
            .next()
            .is_some()
    {
        return Err(ExportError::NotEmpty {
            path: out.display().to_string(),
        });
    }
    Ok(())
}

/// Writes the tiles of an export as the leaves come, in order: each entry bundle and hash tile
/// as soon as it is full, the partial ones at the end.
struct TileWriter<'a> {
    out: &'a Path,
    size: u64,
    summary: ExportSummary,
    range: CompactRange,
    /// Hashes of tree levels 0, 8, 16, … for the current (not yet written) tile of each level.
    pending: Vec<Vec<Hash>>,
    /// The current (not yet written) entry bundle.
    bundle: Vec<u8>,
}

impl<'a> TileWriter<'a> {
    /// A writer of the tiles of a tree of `size` leaves into `out`.
    fn new(out: &'a Path, size: u64) -> Self {
        Self {
            out,
            size,
            summary: ExportSummary {
                size,
                entry_bundles: 0,
                hash_tiles: 0,
                bytes: 0,
            },
            range: CompactRange::new(),
            pending: Vec::new(),
            bundle: Vec::new(),
        }
    }

    /// Adds leaf `seq` to the current entry bundle, and writes the bundle when it is full.
    fn entry(&mut self, seq: u64, leaf: &[u8]) -> Result<(), ExportError> {
        let len = u16::try_from(leaf.len()).map_err(|_| leaf_too_large(seq))?;
        self.bundle.extend_from_slice(&len.to_be_bytes());
        self.bundle.extend_from_slice(leaf);
        if (seq + 1).is_multiple_of(TILE_WIDTH) {
            let rel = tile_path(None, seq / TILE_WIDTH, TILE_WIDTH);
            self.summary.bytes += write_file(self.out, &rel, &self.bundle)?;
            self.summary.entry_bundles += 1;
            self.bundle.clear();
        }
        Ok(())
    }

    /// Appends the leaf to the tree and adds the nodes it completes at tile levels to their
    /// tiles, writing each tile when it is full.
    fn hashes(&mut self, leaf: &[u8]) -> Result<(), ExportError> {
        for (level, index, hash) in self.range.append(crate::format::merkle::leaf_hash(leaf)) {
            if level % TILE_HEIGHT != 0 {
                continue;
            }
            let tile_level = usize::from(level / TILE_HEIGHT);
            if self.pending.len() <= tile_level {
                self.pending.resize(tile_level + 1, Vec::new());
            }
            self.pending[tile_level].push(hash);
            if self.pending[tile_level].len() as u64 == TILE_WIDTH {
                let bytes: Vec<u8> = self.pending[tile_level].concat();
                let rel = tile_path(Some(tile_level as u8), index / TILE_WIDTH, TILE_WIDTH);
                self.summary.bytes += write_file(self.out, &rel, &bytes)?;
                self.summary.hash_tiles += 1;
                self.pending[tile_level].clear();
            }
        }
        Ok(())
    }

    /// Writes the partial entry bundle and the partial hash tiles left at the end of the tree.
    fn finish(&mut self) -> Result<(), ExportError> {
        let size = self.size;
        if !self.bundle.is_empty() {
            let width = size % TILE_WIDTH;
            let rel = tile_path(None, size / TILE_WIDTH, width);
            self.summary.bytes += write_file(self.out, &rel, &self.bundle)?;
            self.summary.entry_bundles += 1;
        }
        for (tile_level, hashes) in self.pending.iter().enumerate() {
            if hashes.is_empty() {
                continue;
            }
            let nodes_at_level = size >> (tile_level as u32 * u32::from(TILE_HEIGHT));
            let rel = tile_path(
                Some(tile_level as u8),
                nodes_at_level / TILE_WIDTH,
                hashes.len() as u64,
            );
            self.summary.bytes += write_file(self.out, &rel, &hashes.concat())?;
            self.summary.hash_tiles += 1;
        }
        Ok(())
    }
}

/// Entry bundles by index, each a list of leaves.
type BundleCache = HashMap<u64, Arc<Vec<Vec<u8>>>>;
/// Hash tiles by (tile level, index).
type TileCache = HashMap<(u8, u64), Arc<Vec<u8>>>;

/// Reads a tiles export for `verify`: entry bundles and hash tiles, each read once and cached
/// while in use.
pub struct TilesSource {
    root: PathBuf,
    size: u64,
    bundles: Mutex<BundleCache>,
    tiles: Mutex<TileCache>,
}

impl TilesSource {
    /// A reader of the export in `root` for a tree of `size` leaves (from its checkpoint).
    pub fn new(root: &Path, size: u64) -> Self {
        Self {
            root: root.to_path_buf(),
            size,
            bundles: Mutex::new(HashMap::new()),
            tiles: Mutex::new(HashMap::new()),
        }
    }

    pub fn read_checkpoint(root: &Path) -> Result<Vec<u8>, VerifyError> {
        let path = root.join("checkpoint");
        std::fs::read(&path).map_err(|e| {
            VerifyError::Read(
                msg("err.store.at_path")
                    .arg("path", path.display())
                    .arg("reason", e),
            )
        })
    }

    fn bundle(&self, index: u64) -> Result<Arc<Vec<Vec<u8>>>, VerifyError> {
        if let Some(b) = self
            .bundles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&index)
        {
            return Ok(Arc::clone(b));
        }
        let width = (self.size - index * TILE_WIDTH).min(TILE_WIDTH);
        let rel = tile_path(None, index, width);
        let bytes = std::fs::read(self.root.join(&rel)).map_err(|e| {
            VerifyError::Read(
                msg("err.export.entry_bundle")
                    .arg("path", &rel)
                    .arg("reason", e),
            )
        })?;
        let entries = parse_bundle(&bytes, width).map_err(|e| {
            VerifyError::Malformed(
                msg("err.export.entry_bundle")
                    .arg("path", &rel)
                    .part("reason", e.explain()),
            )
        })?;
        let entries = Arc::new(entries);
        let mut cache = self.bundles.lock().unwrap_or_else(|p| p.into_inner());
        // Keep memory bounded: verification moves forward, so old bundles are not needed again.
        if cache.len() > 64 {
            cache.clear();
        }
        cache.insert(index, Arc::clone(&entries));
        Ok(entries)
    }

    fn tile(&self, tile_level: u8, index: u64) -> Result<Arc<Vec<u8>>, VerifyError> {
        if let Some(t) = self
            .tiles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(tile_level, index))
        {
            return Ok(Arc::clone(t));
        }
        let nodes_at_level = self.size >> (u32::from(tile_level) * u32::from(TILE_HEIGHT));
        let width = (nodes_at_level - index * TILE_WIDTH).min(TILE_WIDTH);
        let rel = tile_path(Some(tile_level), index, width);
        let bytes = std::fs::read(self.root.join(&rel)).map_err(|e| {
            VerifyError::Read(
                msg("err.export.hash_tile")
                    .arg("path", &rel)
                    .arg("reason", e),
            )
        })?;
        if bytes.len() as u64 != width * 32 {
            return Err(VerifyError::Malformed(
                msg("err.export.tile_size")
                    .arg("path", &rel)
                    .arg("bytes", bytes.len())
                    .arg("expected", width * 32),
            ));
        }
        let tile = Arc::new(bytes);
        let mut cache = self.tiles.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 256 {
            cache.clear();
        }
        cache.insert((tile_level, index), Arc::clone(&tile));
        Ok(tile)
    }
}

impl LogSource for TilesSource {
    fn leaf(&self, seq: u64) -> Result<Vec<u8>, VerifyError> {
        let bundle = self.bundle(seq / TILE_WIDTH)?;
        Ok(bundle[(seq % TILE_WIDTH) as usize].clone())
    }

    fn check_node(&self, level: u8, index: u64, hash: &Hash) -> Result<(), VerifyError> {
        if !level.is_multiple_of(TILE_HEIGHT) {
            return Ok(());
        }
        let tile = self.tile(level / TILE_HEIGHT, index / TILE_WIDTH)?;
        let at = (index % TILE_WIDTH) as usize * 32;
        if &tile[at..at + 32] == hash {
            Ok(())
        } else {
            Err(VerifyError::Node {
                level,
                index,
                rule: msg("err.export.tile_hash_differs").arg(
                    "tile",
                    tile_path(
                        Some(level / TILE_HEIGHT),
                        index / TILE_WIDTH,
                        ((self.size >> level) - (index / TILE_WIDTH) * TILE_WIDTH).min(TILE_WIDTH),
                    ),
                ),
            })
        }
    }
}

impl crate::base::class::Classify for ExportError {
    fn class(&self) -> crate::base::class::Class {
        use crate::base::class::Class;
        match self {
            Self::NotEmpty { .. } => Class::Usage,
            Self::Write { .. } | Self::Read(_) => Class::Corrupt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths_follow_tlog_tiles() {
        assert_eq!(index_path(0), "000");
        assert_eq!(index_path(5), "005");
        assert_eq!(index_path(1234), "x001/234");
        assert_eq!(index_path(1_234_067), "x001/x234/067");
        assert_eq!(tile_path(Some(0), 1, 10), "tile/0/001.p/10");
        assert_eq!(tile_path(None, 2, 256), "tile/entries/002");
    }
}

/// A tile named by a tlog-tiles path: `level` is `None` for an entry bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileRef {
    pub level: Option<u8>,
    pub index: u64,
    pub width: u64,
}

/// Tile levels served at most: level 7 already spans 2^56 leaves.
const TILE_LEVEL_MAX: u8 = 7;

/// Parses the part of a tile path after `tile/`, e.g. `0/x001/234` or `entries/000.p/17`.
pub fn parse_tile_path(rest: &str) -> Option<TileRef> {
    let (level_part, rest) = rest.split_once('/')?;
    let level = match level_part {
        "entries" => None,
        l if l.len() == 1 => Some(l.parse::<u8>().ok().filter(|l| *l <= TILE_LEVEL_MAX)?),
        _ => return None,
    };
    let (index_part, width) = match rest.split_once(".p/") {
        Some((i, w)) => {
            let width: u64 = w.parse().ok().filter(|n| (1..TILE_WIDTH).contains(n))?;
            if width.to_string() != w {
                return None;
            }
            (i, width)
        }
        None => (rest, TILE_WIDTH),
    };
    let groups: Vec<&str> = index_part.split('/').collect();
    let mut index: u64 = 0;
    for (i, g) in groups.iter().enumerate() {
        let digits = if i + 1 == groups.len() {
            *g
        } else {
            g.strip_prefix('x')?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        index = index
            .checked_mul(1000)?
            .checked_add(digits.parse::<u64>().ok()?)?;
    }
    // Exactly the canonical spelling, so that one tile has one URL.
    (index_path(index) == index_part).then_some(TileRef {
        level,
        index,
        width,
    })
}

/// The bytes of one tile of the tree of `size` leaves, or `None` when the tree does not yet hold
/// the whole tile (a client asks for the partial width its checkpoint implies).
pub fn tile_bytes(
    store: &LedgerStore,
    size: u64,
    tile: TileRef,
) -> Result<Option<Vec<u8>>, ExportError> {
    let read = |e: crate::storage::store::StoreError| ExportError::Read(e.explain());
    let Some((first, end)) = tile
        .index
        .checked_mul(TILE_WIDTH)
        .and_then(|f| Some((f, f.checked_add(tile.width)?)))
    else {
        return Ok(None);
    };
    match tile.level {
        None => {
            if end > size {
                return Ok(None);
            }
            let mut out = Vec::new();
            for seq in first..end {
                let leaf = store
                    .leaf(seq)
                    .map_err(read)?
                    .ok_or_else(|| leaf_missing(seq))?;
                let len = u16::try_from(leaf.len()).map_err(|_| leaf_too_large(seq))?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&leaf);
            }
            Ok(Some(out))
        }
        Some(level) => {
            let shift = u32::from(level) * u32::from(TILE_HEIGHT);
            // Node i of tree level `shift` is complete when its last leaf is in the tree.
            if end > (size >> shift) {
                return Ok(None);
            }
            let mut out = Vec::with_capacity(tile.width as usize * 32);
            for index in first..end {
                let hash =
                    crate::format::merkle::NodeSource::node(store, level * TILE_HEIGHT, index)
                        .map_err(read)?;
                out.extend_from_slice(&hash);
            }
            Ok(Some(out))
        }
    }
}

#[cfg(test)]
mod tile_path_tests {
    use super::*;

    #[test]
    fn tile_paths_round_trip_and_non_canonical_spellings_are_refused() {
        for (level, index, width) in [(Some(0), 0, 256), (None, 1_234_067, 17), (Some(2), 999, 1)] {
            let path = tile_path(level, index, width);
            let rest = path.strip_prefix("tile/").expect("prefix");
            assert_eq!(
                parse_tile_path(rest),
                Some(TileRef {
                    level,
                    index,
                    width
                }),
                "{path}"
            );
        }
        for bad in [
            "0/1",
            "0/001.p/0",
            "0/001.p/256",
            "0/001.p/017",
            "0/x000/001",
            "8/000",
            "entries/x1/000",
            "0/000/",
        ] {
            assert_eq!(parse_tile_path(bad), None, "{bad}");
        }
    }
}

//! The names and bytes of C2SP tlog-tiles that more than one layer reads: where a tile lives
//! (`tile_path`) and how an entry bundle splits into its entries (`parse_bundle`). Pure: no I/O.
//! Never decides whether a tile is trusted — every entry read from a bundle is checked by its
//! reader against a Merkle node or a signed root.

use crate::base::words::{Explain, Message, msg};

/// Hashes per tile and entries per bundle (tlog-tiles: tile height 8).
pub const TILE_WIDTH: u64 = 256;
/// Tree levels per tile level.
pub const TILE_HEIGHT: u8 = 8;

/// The tile path element for index `n`: groups of three digits, all but the last prefixed with
/// `x` (tlog-tiles), e.g. 1234067 → `x001/x234/067`.
pub fn index_path(n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    let mut rest = n / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// The path of a tile (`level` = `None` for entry bundles) of `width` items within a tree.
pub fn tile_path(level: Option<u8>, index: u64, width: u64) -> String {
    let level_part = level.map_or_else(|| "entries".to_owned(), |l| l.to_string());
    let mut p = format!("tile/{level_part}/{}", index_path(index));
    if width < TILE_WIDTH {
        p.push_str(&format!(".p/{width}"));
    }
    p
}

/// Why the bytes of an entry bundle are not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleError {
    Truncated { entry: u64 },
    Count { found: u64, expected: u64 },
}

crate::english_display!(BundleError);

impl Explain for BundleError {
    fn explain(&self) -> Message {
        match self {
            Self::Truncated { entry } => msg("err.tiles.truncated").arg("entry", entry),
            Self::Count { found, expected } => msg("err.tiles.count")
                .arg("found", found)
                .arg("expected", expected),
        }
    }
}

/// The entries of an entry bundle that must hold `width` of them: each a big-endian `u16`
/// length, then that many bytes (tlog-tiles).
pub fn parse_bundle(bytes: &[u8], width: u64) -> Result<Vec<Vec<u8>>, BundleError> {
    let mut entries = Vec::with_capacity(usize::try_from(width.min(TILE_WIDTH)).unwrap_or(0));
    let mut at = 0usize;
    while at < bytes.len() {
        let truncated = BundleError::Truncated {
            entry: entries.len() as u64,
        };
        let len_bytes = bytes.get(at..at + 2).ok_or_else(|| truncated.clone())?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        let entry = bytes.get(at + 2..at + 2 + len).ok_or(truncated)?;
        entries.push(entry.to_vec());
        at += 2 + len;
    }
    if entries.len() as u64 != width {
        return Err(BundleError::Count {
            found: entries.len() as u64,
            expected: width,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_splits_into_its_entries_and_a_damaged_one_is_refused() {
        let bundle = [&[0u8, 1, b'a'][..], &[0, 2, b'b', b'c']].concat();
        assert_eq!(
            parse_bundle(&bundle, 2),
            Ok(vec![b"a".to_vec(), b"bc".to_vec()])
        );
        assert_eq!(
            parse_bundle(&bundle, 3),
            Err(BundleError::Count {
                found: 2,
                expected: 3
            })
        );
        assert_eq!(
            parse_bundle(&bundle[..bundle.len() - 1], 2),
            Err(BundleError::Truncated { entry: 1 })
        );
        assert_eq!(
            parse_bundle(&bundle[..4], 2),
            Err(BundleError::Truncated { entry: 1 })
        );
    }
}

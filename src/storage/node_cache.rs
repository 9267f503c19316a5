//! The upper Merkle tree kept in memory for proofs: copies of every complete node covering at
//! least `CACHED_SUBTREE_LEAVES_MIN` leaves, read from the node source once on open and extended
//! after each batch is durable. Proofs read those nodes from memory and only the few lower levels
//! from the store. Decides nothing about which nodes are right: every proof is still verified
//! against the signed checkpoint before it is served.

use std::sync::RwLock;

use crate::base::limits::CACHED_SUBTREE_LEAVES_MIN;
use crate::format::merkle::{Hash, NodeSource};

/// The lowest level held in memory: a node there covers `CACHED_SUBTREE_LEAVES_MIN` leaves.
pub const CACHED_LEVEL_MIN: u8 = CACHED_SUBTREE_LEAVES_MIN.trailing_zeros() as u8;

/// Copies of the complete nodes at level `CACHED_LEVEL_MIN` and above of a tree of `size()`
/// leaves: `size >> level` hashes per level, so fewer than `2 * size / CACHED_SUBTREE_LEAVES_MIN`
/// in all. At 32 bytes each that is under `4 * size` bytes with the default 16 leaves: about
/// 4 MB at 10⁶ entries, 40 MB at 10⁷.
///
/// It only ever holds nodes read back from the source after they were made durable, so it never
/// answers a node the source would not have answered then.
#[derive(Debug, Default)]
pub struct UpperNodes {
    /// `levels[k]` holds the nodes of level `CACHED_LEVEL_MIN + k`, from index 0, without gaps.
    levels: RwLock<Vec<Vec<Hash>>>,
}

impl UpperNodes {
    /// An empty cache: every node comes from the source until [`UpperNodes::extend`] is called.
    pub fn new() -> Self {
        Self::default()
    }

    /// The upper nodes of the tree of the first `size` leaves of `src` (one read per node).
    pub fn load<S: NodeSource>(src: &S, size: u64) -> Result<Self, S::Error> {
        let cache = Self::new();
        cache.extend(src, size)?;
        Ok(cache)
    }

    /// Adds the upper nodes that the tree of `size` leaves completes and the cache does not hold
    /// yet, reading them from `src`. Call it only once those nodes are durable. A smaller size
    /// than before changes nothing.
    pub fn extend<S: NodeSource>(&self, src: &S, size: u64) -> Result<(), S::Error> {
        let have: Vec<u64> = self.read().iter().map(|nodes| nodes.len() as u64).collect();
        // Read without holding the lock, so proofs go on while the store is read.
        let mut new_nodes: Vec<Vec<Hash>> = Vec::new();
        for level in CACHED_LEVEL_MIN..64 {
            let complete = size >> level;
            if complete == 0 {
                break;
            }
            let from = have
                .get(usize::from(level - CACHED_LEVEL_MIN))
                .copied()
                .unwrap_or(0);
            let nodes = (from..complete)
                .map(|index| src.node(level, index))
                .collect::<Result<Vec<_>, _>>()?;
            new_nodes.push(nodes);
        }
        let mut levels = self.levels.write().unwrap_or_else(|p| p.into_inner());
        for (k, nodes) in new_nodes.into_iter().enumerate() {
            match levels.get_mut(k) {
                Some(held) => held.extend(nodes),
                None => levels.push(nodes),
            }
        }
        Ok(())
    }

    /// The node at `level` and `index`, when the cache holds it.
    pub fn get(&self, level: u8, index: u64) -> Option<Hash> {
        let k = usize::from(level.checked_sub(CACHED_LEVEL_MIN)?);
        let levels = self.read();
        levels.get(k)?.get(usize::try_from(index).ok()?).copied()
    }

    /// Hashes held, across all levels.
    pub fn len(&self) -> usize {
        self.read().iter().map(Vec::len).sum()
    }

    /// Whether the cache holds no node (a tree of fewer than `CACHED_SUBTREE_LEAVES_MIN` leaves).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A node source that answers from this cache and asks `src` for everything else.
    pub fn over<'a, S: NodeSource>(&'a self, src: &'a S) -> CachedNodes<'a, S> {
        CachedNodes { upper: self, src }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Vec<Hash>>> {
        self.levels.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// The node source proofs use: the upper levels from [`UpperNodes`], the rest from `src`.
#[derive(Debug, Clone, Copy)]
pub struct CachedNodes<'a, S> {
    upper: &'a UpperNodes,
    src: &'a S,
}

impl<S: NodeSource> NodeSource for CachedNodes<'_, S> {
    type Error = S::Error;
    fn node(&self, level: u8, index: u64) -> Result<Hash, S::Error> {
        match self.upper.get(level, index) {
            Some(hash) => Ok(hash),
            None => self.src.node(level, index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::merkle::{MemoryTree, inclusion_proof};

    #[test]
    fn holds_exactly_the_complete_upper_nodes() {
        let tree = MemoryTree::from_leaves((0u32..1000).map(|i| i.to_be_bytes()));
        let cache = UpperNodes::load(&tree, 1000).expect("all nodes present");
        // Every complete node from the lowest cached level up: 1000 >> level of each.
        let expected: u64 = (CACHED_LEVEL_MIN..64).map(|level| 1000u64 >> level).sum();
        assert_eq!(cache.len() as u64, expected);
        let low = CACHED_LEVEL_MIN;
        let complete = 1000u64 >> low;
        assert_eq!(
            cache.get(low, complete - 1),
            Some(tree.node(low, complete - 1).expect("node"))
        );
        assert_eq!(cache.get(low, complete), None);
        assert_eq!(cache.get(low - 1, 0), None);
        let via = cache.over(&tree);
        assert_eq!(
            inclusion_proof(&via, 517, 1000).expect("proof"),
            inclusion_proof(&tree, 517, 1000).expect("proof")
        );
    }
}

//! The Merkle tree's lowest levels, which sled no longer keeps: levels 0 to
//! `SLED_NODE_LEVEL_MIN - 1` (a 16-leaf group and the nodes inside it). Owns the two places they
//! come from besides the leaves themselves — the leaf hashes appended since the store was opened
//! (`Recent`, in memory) and the groups already read and checked (`GroupCache`, bounded) — and the
//! arithmetic that turns a group's leaf hashes into any node inside it. Reads no file and trusts
//! nothing it is given: `store::LedgerStore` reads the hash tiles and the journal, and checks a
//! group against its stored level-`SLED_NODE_LEVEL_MIN` node before it is cached here.
//!
//! Why: sled kept two Merkle nodes per leaf (about 0.2× of the leaf bytes on disk, and two sled
//! inserts per append), though the full hash tiles in `public/` hold every level-0 hash and the
//! levels inside a tile follow from them. Now sled keeps the nodes of level 4 and above (one per
//! 16 leaves at level 4, half that at level 5, …), which also seed the in-memory upper tree.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};

use crate::base::limits::CACHED_SUBTREE_LEAVES_MIN;
use crate::format::merkle::{Hash, node_hash};

/// The lowest level whose nodes sled stores. A node there covers one group of
/// `GROUP_LEAVES` leaves; a group read from a hash tile is checked against it.
pub const SLED_NODE_LEVEL_MIN: u8 = CACHED_SUBTREE_LEAVES_MIN.trailing_zeros() as u8;
/// Leaves per group: one node at `SLED_NODE_LEVEL_MIN` covers them.
pub const GROUP_LEAVES: u64 = 1 << SLED_NODE_LEVEL_MIN;
/// Checked groups kept in memory: 4,096 groups of 16 hashes of 32 bytes, 2 MiB, enough for the
/// proofs and leaf checks of 65,536 recent or much-read entries; older ones are read again.
pub const GROUP_CACHE_GROUPS: usize = 4096;

/// The root of a complete subtree over `hashes` (a power of two of them, at least one).
pub fn subtree_root(hashes: &[Hash]) -> Hash {
    debug_assert!(hashes.len().is_power_of_two(), "a complete subtree");
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
    }
    level[0]
}

/// The node at (`level`, `index`), `level < SLED_NODE_LEVEL_MIN`, from the leaf hashes of its
/// group (`group[0]` is the hash of leaf `group_index * GROUP_LEAVES`). `None` when the group does
/// not hold every leaf the node covers (the node is not complete yet).
pub fn node_in_group(group: &[Hash], group_index: u64, level: u8, index: u64) -> Option<Hash> {
    let width = 1usize << level;
    let first = usize::try_from((index << level) - group_index * GROUP_LEAVES).ok()?;
    group.get(first..first + width).map(subtree_root)
}

/// The leaf hashes appended since the store was opened, from `start` on, without gaps. Trimmed
/// when the journal drops the segments below it, so it holds at most what the journal holds:
/// about 32 bytes per entry of one journal segment (64 MiB of 1 KiB leaves: ~2 MiB).
#[derive(Debug, Default)]
struct Recent {
    start: u64,
    hashes: Vec<Hash>,
}

/// What sled no longer stores, in memory: recent leaf hashes and checked groups.
#[derive(Debug, Default)]
pub struct LowNodes {
    recent: RwLock<Recent>,
    groups: Mutex<GroupCache>,
}

/// Checked complete groups by index, the oldest inserted evicted first. A complete group never
/// changes, so an entry is never stale. Shared, not copied, with every reader of a leaf hash.
#[derive(Debug, Default)]
struct GroupCache {
    by_index: HashMap<u64, Arc<[Hash]>>,
    order: VecDeque<u64>,
}

impl LowNodes {
    /// Nothing in memory yet: every hash is read from the journal or a hash tile until
    /// `push` adds the leaves appended from `start` on.
    pub fn starting_at(start: u64) -> Self {
        Self {
            recent: RwLock::new(Recent {
                start,
                hashes: Vec::new(),
            }),
            groups: Mutex::default(),
        }
    }

    /// Adds the hashes of leaves `first ..`, once they are durable. A gap (a batch appended by
    /// another path) starts the recent run again at `first`.
    pub fn push(&self, first: u64, hashes: &[Hash]) {
        let mut recent = self.recent.write().unwrap_or_else(|p| p.into_inner());
        if recent.start + recent.hashes.len() as u64 != first {
            recent.start = first;
            recent.hashes.clear();
        }
        recent.hashes.extend_from_slice(hashes);
    }

    /// Forgets the recent hashes below `seq` (the journal dropped them; hash tiles hold them).
    pub fn trim_below(&self, seq: u64) {
        let mut recent = self.recent.write().unwrap_or_else(|p| p.into_inner());
        if seq <= recent.start {
            return;
        }
        let drop = usize::try_from(seq - recent.start)
            .unwrap_or(usize::MAX)
            .min(recent.hashes.len());
        recent.hashes.drain(..drop);
        recent.start += drop as u64;
    }

    /// The recent hashes of leaves `start .. end` that are in memory: the first seq held, and
    /// the hashes from there to `end` (empty when none is).
    pub fn recent(&self, start: u64, end: u64) -> (u64, Vec<Hash>) {
        let recent = self.recent.read().unwrap_or_else(|p| p.into_inner());
        let have_end = recent.start + recent.hashes.len() as u64;
        let from = start.max(recent.start);
        if from >= end.min(have_end) {
            return (end, Vec::new());
        }
        let lo = usize::try_from(from - recent.start).unwrap_or(usize::MAX);
        let hi = usize::try_from(end.min(have_end) - recent.start).unwrap_or(usize::MAX);
        (from, recent.hashes[lo..hi].to_vec())
    }

    /// A checked complete group, if cached.
    pub fn cached_group(&self, index: u64) -> Option<Arc<[Hash]>> {
        let groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        groups.by_index.get(&index).cloned()
    }

    /// Caches a complete group its caller checked against its stored node.
    pub fn cache_group(&self, index: u64, hashes: Arc<[Hash]>) {
        debug_assert_eq!(hashes.len() as u64, GROUP_LEAVES);
        let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        if groups.by_index.insert(index, hashes).is_none() {
            groups.order.push_back(index);
        }
        while groups.order.len() > GROUP_CACHE_GROUPS {
            if let Some(old) = groups.order.pop_front() {
                groups.by_index.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::merkle::{MemoryTree, NodeSource as _, leaf_hash};

    #[test]
    fn every_node_inside_a_group_is_the_tree_s_node() {
        let leaves: Vec<Vec<u8>> = (0..48u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let tree = MemoryTree::from_leaves(leaves.iter().map(Vec::as_slice));
        let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
        for g in 0..3u64 {
            let group = &hashes[(g * GROUP_LEAVES) as usize..((g + 1) * GROUP_LEAVES) as usize];
            assert_eq!(
                subtree_root(group),
                tree.node(SLED_NODE_LEVEL_MIN, g).expect("node")
            );
            for level in 0..SLED_NODE_LEVEL_MIN {
                for i in 0..(GROUP_LEAVES >> level) {
                    let index = ((g * GROUP_LEAVES) >> level) + i;
                    assert_eq!(
                        node_in_group(group, g, level, index),
                        Some(tree.node(level, index).expect("node")),
                        "level {level} index {index}"
                    );
                }
            }
        }
        // An incomplete group answers only its complete nodes.
        let part = &hashes[16..21];
        assert_eq!(
            node_in_group(part, 1, 2, 4),
            Some(tree.node(2, 4).expect("node"))
        );
        assert_eq!(node_in_group(part, 1, 2, 5), None);
        assert_eq!(node_in_group(part, 1, 0, 20), Some(hashes[20]));
    }

    #[test]
    fn recent_hashes_are_contiguous_and_trimmed() {
        let low = LowNodes::starting_at(10);
        let h = |i: u8| [i; 32];
        low.push(10, &[h(10), h(11), h(12)]);
        assert_eq!(low.recent(0, 20), (10, vec![h(10), h(11), h(12)]));
        assert_eq!(low.recent(11, 12), (11, vec![h(11)]));
        low.trim_below(12);
        assert_eq!(low.recent(0, 20), (12, vec![h(12)]));
        // A gap starts again.
        low.push(20, &[h(20)]);
        assert_eq!(low.recent(0, 30), (20, vec![h(20)]));
        assert_eq!(low.recent(0, 20), (20, vec![]));
    }

    #[test]
    fn the_group_cache_is_bounded() {
        let low = LowNodes::default();
        for i in 0..(GROUP_CACHE_GROUPS as u64 + 10) {
            low.cache_group(i, vec![[0; 32]; GROUP_LEAVES as usize].into());
        }
        assert!(low.cached_group(0).is_none());
        assert!(low.cached_group(GROUP_CACHE_GROUPS as u64 + 9).is_some());
    }
}

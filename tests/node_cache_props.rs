//! The proof cache of the upper Merkle levels changes no proof: inclusion and consistency proofs
//! and roots read through it equal those read from the plain node source, for random sizes and
//! indices, right after appends that complete new upper nodes, and they verify against the root.

use custody::merkle::{
    Hash, MemoryTree, NodeSource, consistency_proof, inclusion_proof, leaf_hash, root,
    verify_consistency, verify_inclusion,
};
use custody::{CACHED_LEVEL_MIN, UpperNodes};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

/// A leaf count that crosses at least one cached node boundary in a few appends.
const SPAN: u64 = 1 << (CACHED_LEVEL_MIN + 2);

/// Checks every proof of the tree's current size through the cache against the plain tree.
fn same_proofs(tree: &MemoryTree, cache: &UpperNodes, picks: &[(Index, Index)]) {
    let size = tree.size();
    let cached = cache.over(tree);
    let expected_root = tree.root();
    assert_eq!(root(&cached, size).expect("root"), expected_root);
    for (a, b) in picks {
        let index = a.index(size as usize) as u64;
        let proof = inclusion_proof(&cached, index, size).expect("inclusion proof");
        assert_eq!(proof, inclusion_proof(tree, index, size).expect("plain"));
        let leaf: Hash = tree.node(0, index).expect("leaf hash");
        verify_inclusion(index, size, &leaf, &proof, &expected_root).expect("verifies");
        let old = 1 + b.index(size as usize) as u64;
        let proof = consistency_proof(&cached, old, size).expect("consistency proof");
        assert_eq!(proof, consistency_proof(tree, old, size).expect("plain"));
        let old_root = root(tree, old).expect("old root");
        verify_consistency(old, size, &old_root, &expected_root, &proof).expect("verifies");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Appends in random batches; after each batch the cache is extended (as the committer does
    /// once a batch is durable) and every sampled proof matches the plain tree's.
    #[test]
    fn cached_proofs_equal_plain_proofs_across_appends(
        batches in vec(1..SPAN, 1..6),
        picks in vec((any::<Index>(), any::<Index>()), 1..8),
    ) {
        let mut tree = MemoryTree::new();
        let cache = UpperNodes::new();
        let mut n = 0u64;
        for batch in batches {
            // Before the extend the cache is behind the tree: still the same proofs.
            for _ in 0..batch {
                tree.push_hash(leaf_hash(&n.to_be_bytes()));
                n += 1;
            }
            same_proofs(&tree, &cache, &picks);
            cache.extend(&tree, tree.size()).expect("all nodes present");
            same_proofs(&tree, &cache, &picks);
        }
        // A cache loaded in one pass holds what the extended one holds.
        let loaded = UpperNodes::load(&tree, tree.size()).expect("all nodes present");
        prop_assert_eq!(loaded.len(), cache.len());
        prop_assert!(cache.len() as u64 <= (2 * tree.size()) >> CACHED_LEVEL_MIN);
    }

    /// A cache of a smaller tree answers only the nodes it holds and leaves the rest to the source.
    #[test]
    fn a_cache_of_a_smaller_tree_changes_no_proof(
        small in 1..SPAN,
        extra in 0..SPAN,
        picks in vec((any::<Index>(), any::<Index>()), 1..8),
    ) {
        let tree = MemoryTree::from_leaves((0..small + extra).map(u64::to_be_bytes));
        let cache = UpperNodes::load(&tree, small).expect("all nodes present");
        same_proofs(&tree, &cache, &picks);
    }
}

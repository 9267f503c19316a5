//! Property tests for the Merkle module against two independent references: the recursive
//! definitions of RFC 9162 §2.1 (MTH, PATH, PROOF) for what we generate, and the bit-shifting
//! verification algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2, transcribed literally, for what we
//! accept.

use custody::merkle::{
    CompactRange, Hash, MemoryTree, ProofError, VerifyError, consistency_proof, empty_root,
    inclusion_proof, leaf_hash, node_hash, root, verify_consistency, verify_inclusion,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

// ---- References, written straight from the RFC's recursive definitions. ----

fn largest_power_of_two_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH over leaf hashes (RFC 9162 §2.1.1).
fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => empty_root(),
        1 => d[0],
        n => {
            let k = largest_power_of_two_below(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]) (RFC 9162 §2.1.3.1).
fn rfc_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    if d.len() <= 1 {
        return Vec::new();
    }
    let k = largest_power_of_two_below(d.len());
    let (mut path, sibling) = if m < k {
        (rfc_path(m, &d[..k]), mth(&d[k..]))
    } else {
        (rfc_path(m - k, &d[k..]), mth(&d[..k]))
    };
    path.push(sibling);
    path
}

/// SUBPROOF(m, D[n], b) (RFC 9162 §2.1.4.1).
fn rfc_subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    if m == d.len() {
        return if b { Vec::new() } else { vec![mth(d)] };
    }
    let k = largest_power_of_two_below(d.len());
    let (mut proof, sibling) = if m <= k {
        (rfc_subproof(m, &d[..k], b), mth(&d[k..]))
    } else {
        (rfc_subproof(m - k, &d[k..], false), mth(&d[..k]))
    };
    proof.push(sibling);
    proof
}

/// RFC 9162 §2.1.3.2, step by step.
fn rfc_verify_inclusion(index: u64, size: u64, hash: &Hash, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnn, mut snn) = (index, size - 1);
    let mut r = *hash;
    for p in path {
        if snn == 0 {
            return false;
        }
        if fnn & 1 == 1 || fnn == snn {
            r = node_hash(p, &r);
            while fnn & 1 == 0 && fnn != 0 {
                fnn >>= 1;
                snn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnn >>= 1;
        snn >>= 1;
    }
    snn == 0 && r == *root
}

/// RFC 9162 §2.1.4.2, step by step; only defined for `0 < first < second`.
fn rfc_verify_consistency(
    first: u64,
    second: u64,
    first_hash: &Hash,
    second_hash: &Hash,
    path: &[Hash],
) -> bool {
    assert!(0 < first && first < second);
    if path.is_empty() {
        return false;
    }
    let mut path = path.to_vec();
    if first.is_power_of_two() {
        path.insert(0, *first_hash);
    }
    let (mut fnn, mut snn) = (first - 1, second - 1);
    while fnn & 1 == 1 {
        fnn >>= 1;
        snn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if snn == 0 {
            return false;
        }
        if fnn & 1 == 1 || fnn == snn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnn & 1 == 0 && fnn != 0 {
                fnn >>= 1;
                snn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnn >>= 1;
        snn >>= 1;
    }
    fr == *first_hash && sr == *second_hash && snn == 0
}

// ---- Strategies. ----

/// Between `min` and 300 leaves, each made distinct by its position so that no two leaves share
/// a hash (with duplicate leaves a proof for one position is legitimately valid for another).
fn leaves(min: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    vec(vec(any::<u8>(), 0..8), min..=300).prop_map(|tails| {
        tails
            .into_iter()
            .enumerate()
            .map(|(i, tail)| {
                let mut leaf = (i as u64).to_be_bytes().to_vec();
                leaf.extend(tail);
                leaf
            })
            .collect()
    })
}

fn hashes_of(leaves: &[Vec<u8>]) -> Vec<Hash> {
    leaves.iter().map(|l| leaf_hash(l)).collect()
}

/// A proof damaged in one of the ways an attacker or a bad disk might.
#[derive(Debug, Clone)]
enum Damage {
    FlipBit { at: Index, bit: Index },
    Drop { at: Index },
    Insert { at: Index, hash: Hash },
    Append { hash: Hash },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<Index>(), any::<Index>()).prop_map(|(at, bit)| Damage::FlipBit { at, bit }),
        any::<Index>().prop_map(|at| Damage::Drop { at }),
        (any::<Index>(), any::<Hash>()).prop_map(|(at, hash)| Damage::Insert { at, hash }),
        any::<Hash>().prop_map(|hash| Damage::Append { hash }),
    ]
}

/// Applies `damage`; `None` when the proof is empty and the damage needs a hash to act on.
fn damaged(proof: &[Hash], damage: &Damage) -> Option<Vec<Hash>> {
    let mut out = proof.to_vec();
    match damage {
        Damage::FlipBit { at, bit } => {
            if out.is_empty() {
                return None;
            }
            let i = at.index(out.len());
            let b = bit.index(256);
            out[i][b / 8] ^= 1 << (b % 8);
        }
        Damage::Drop { at } => {
            if out.is_empty() {
                return None;
            }
            out.remove(at.index(out.len()));
        }
        Damage::Insert { at, hash } => out.insert(at.index(out.len() + 1), *hash),
        Damage::Append { hash } => out.push(*hash),
    }
    Some(out)
}

/// A value in `lo..=hi` other than `not`, if there is one.
fn other_in(pick: &Index, lo: usize, hi: usize, not: usize) -> Option<usize> {
    let excluded = (lo..=hi).contains(&not);
    let count = (hi + 1 - lo) - usize::from(excluded);
    if count == 0 {
        return None;
    }
    let v = lo + pick.index(count);
    Some(if excluded && v >= not { v + 1 } else { v })
}

proptest! {
    #[test]
    fn root_matches_naive_mth(leaves in leaves(1), prefix in any::<Index>()) {
        let tree = MemoryTree::from_leaves(&leaves);
        let d = hashes_of(&leaves);
        let n = leaves.len();
        prop_assert_eq!(tree.root(), mth(&d));
        prop_assert_eq!(root(&tree, n as u64), Ok(mth(&d)));
        // Storage usually holds more leaves than the checkpoint being served.
        let m = prefix.index(n + 1);
        prop_assert_eq!(root(&tree, m as u64), Ok(mth(&d[..m])));
        prop_assert_eq!(MemoryTree::from_leaves(&leaves[..m]).root(), mth(&d[..m]));
    }

    #[test]
    fn every_inclusion_proof_verifies(
        leaves in leaves(1),
        size in any::<Index>(),
        samples in vec(any::<Index>(), 4),
    ) {
        let tree = MemoryTree::from_leaves(&leaves);
        let d = hashes_of(&leaves);
        let m = 1 + size.index(leaves.len());
        let root_m = mth(&d[..m]);
        for (i, leaf) in d[..m].iter().enumerate() {
            let proof = inclusion_proof(&tree, i as u64, m as u64)
                .unwrap_or_else(|e| panic!("proof of {i} in {m}: {e}"));
            prop_assert_eq!(verify_inclusion(i as u64, m as u64, leaf, &proof, &root_m), Ok(()));
            prop_assert!(rfc_verify_inclusion(i as u64, m as u64, leaf, &proof, &root_m));
        }
        for sample in &samples {
            let i = sample.index(m);
            prop_assert_eq!(inclusion_proof(&tree, i as u64, m as u64), Ok(rfc_path(i, &d[..m])));
        }
        prop_assert_eq!(
            inclusion_proof(&tree, m as u64, m as u64),
            Err(ProofError::IndexOutOfRange { index: m as u64, size: m as u64 })
        );
    }

    #[test]
    fn every_consistency_proof_verifies(
        leaves in leaves(1),
        new in any::<Index>(),
        samples in vec(any::<Index>(), 4),
    ) {
        let tree = MemoryTree::from_leaves(&leaves);
        let d = hashes_of(&leaves);
        let n2 = 1 + new.index(leaves.len());
        let root2 = mth(&d[..n2]);
        for n1 in 1..=n2 {
            let root1 = mth(&d[..n1]);
            let proof = consistency_proof(&tree, n1 as u64, n2 as u64)
                .unwrap_or_else(|e| panic!("proof of {n1} to {n2}: {e}"));
            prop_assert_eq!(
                verify_consistency(n1 as u64, n2 as u64, &root1, &root2, &proof),
                Ok(())
            );
            if n1 < n2 {
                prop_assert!(rfc_verify_consistency(n1 as u64, n2 as u64, &root1, &root2, &proof));
            } else {
                prop_assert!(proof.is_empty());
            }
        }
        for sample in &samples {
            let n1 = 1 + sample.index(n2);
            prop_assert_eq!(
                consistency_proof(&tree, n1 as u64, n2 as u64),
                Ok(rfc_subproof(n1, &d[..n2], true))
            );
        }
        prop_assert_eq!(consistency_proof(&tree, 0, n2 as u64), Ok(vec![]));
        prop_assert_eq!(
            verify_consistency(0, n2 as u64, &empty_root(), &root2, &[]),
            Err(VerifyError::EmptyOldTree)
        );
    }

    #[test]
    fn damaged_inclusion_proofs_fail(
        leaves in leaves(2),
        size in any::<Index>(),
        index in any::<Index>(),
        wrong in any::<Index>(),
        damage in damage(),
        forged in any::<Hash>(),
    ) {
        let tree = MemoryTree::from_leaves(&leaves);
        let d = hashes_of(&leaves);
        let n = leaves.len();
        let m = 2 + size.index(n - 1);
        let i = index.index(m);
        let root_m = mth(&d[..m]);
        let proof = inclusion_proof(&tree, i as u64, m as u64).expect("index is in range");
        let (i64_, m64) = (i as u64, m as u64);

        if let Some(bad) = damaged(&proof, &damage) {
            prop_assert!(verify_inclusion(i64_, m64, &d[i], &bad, &root_m).is_err(), "{damage:?}");
            prop_assert!(!rfc_verify_inclusion(i64_, m64, &d[i], &bad, &root_m));
        }

        prop_assert_eq!(
            verify_inclusion(i64_, m64, &d[i], &proof, &forged),
            Err(VerifyError::RootMismatch)
        );
        let j = other_in(&wrong, 0, m - 1, i).expect("m >= 2") as u64;
        prop_assert!(verify_inclusion(j, m64, &d[i], &proof, &root_m).is_err(), "index {j}");
        let k = other_in(&wrong, 0, n - 1, i).expect("n >= 2");
        prop_assert!(verify_inclusion(i64_, m64, &d[k], &proof, &root_m).is_err(), "leaf {k}");

        // A wrong size together with that size's root never verifies. With the original root it
        // can: leaf 0 of 3 and leaf 0 of 4 have the same path shape, so the RFC algorithm accepts
        // either size. The size is bound by the signed checkpoint, not by the proof, so there we
        // only require agreement with the RFC's own algorithm.
        if let Some(s) = other_in(&wrong, i + 1, n, m) {
            let root_s = mth(&d[..s]);
            prop_assert!(
                verify_inclusion(i64_, s as u64, &d[i], &proof, &root_s).is_err(),
                "size {s} with its own root"
            );
            prop_assert_eq!(
                verify_inclusion(i64_, s as u64, &d[i], &proof, &root_m).is_ok(),
                rfc_verify_inclusion(i64_, s as u64, &d[i], &proof, &root_m),
                "size {} with the root of size {}", s, m
            );
        }
        prop_assert_eq!(
            verify_inclusion(m64, m64, &d[i], &proof, &root_m),
            Err(VerifyError::IndexOutOfRange { index: m64, size: m64 })
        );
    }

    #[test]
    fn damaged_consistency_proofs_fail(
        leaves in leaves(2),
        sizes in (any::<Index>(), any::<Index>()),
        wrong in (any::<Index>(), any::<Index>()),
        damage in damage(),
        forged in any::<Hash>(),
    ) {
        let tree = MemoryTree::from_leaves(&leaves);
        let d = hashes_of(&leaves);
        let n = leaves.len();
        let n2 = 2 + sizes.0.index(n - 1);
        let n1 = 1 + sizes.1.index(n2 - 1);
        let (root1, root2) = (mth(&d[..n1]), mth(&d[..n2]));
        let proof = consistency_proof(&tree, n1 as u64, n2 as u64).expect("sizes are in range");
        let (a, b) = (n1 as u64, n2 as u64);

        if let Some(bad) = damaged(&proof, &damage) {
            prop_assert!(verify_consistency(a, b, &root1, &root2, &bad).is_err(), "{damage:?}");
            prop_assert!(!rfc_verify_consistency(a, b, &root1, &root2, &bad));
        }
        prop_assert!(verify_consistency(a, b, &root2, &root1, &proof).is_err(), "swapped roots");
        // When the old tree is not perfect the new root is rebuilt without the old root, so
        // only the old-root check catches a forged one; when it is perfect, the forged root is
        // the seed and the new root comes out wrong.
        let forged_old = if n1.is_power_of_two() {
            VerifyError::NewRootMismatch
        } else {
            VerifyError::OldRootMismatch
        };
        prop_assert_eq!(verify_consistency(a, b, &forged, &root2, &proof), Err(forged_old));
        prop_assert!(verify_consistency(a, b, &root1, &forged, &proof).is_err(), "forged new root");
        prop_assert!(verify_consistency(b, a, &root2, &root1, &proof).is_err(), "swapped sizes");

        // Each wrong size with that size's own root must fail; with the original roots we
        // require agreement with the RFC's algorithm.
        if let Some(w1) = other_in(&wrong.0, 1, n2 - 1, n1) {
        let root_w1 = mth(&d[..w1]);
        prop_assert!(
            verify_consistency(w1 as u64, b, &root_w1, &root2, &proof).is_err(),
            "old size {w1} with its own root"
        );
        prop_assert_eq!(
            verify_consistency(w1 as u64, b, &root1, &root2, &proof).is_ok(),
            rfc_verify_consistency(w1 as u64, b, &root1, &root2, &proof),
            "old size {} with the root of {}", w1, n1
        );
        }
        if let Some(w2) = other_in(&wrong.1, n1 + 1, n, n2) {
            let root_w2 = mth(&d[..w2]);
            prop_assert!(
                verify_consistency(a, w2 as u64, &root1, &root_w2, &proof).is_err(),
                "new size {w2} with its own root"
            );
            prop_assert_eq!(
                verify_consistency(a, w2 as u64, &root1, &root2, &proof).is_ok(),
                rfc_verify_consistency(a, w2 as u64, &root1, &root2, &proof),
                "new size {} with the root of {}", w2, n2
            );
        }
    }

    #[test]
    fn compact_range_round_trips_and_reports_every_node(leaves in leaves(1), cut in any::<Index>()) {
        let d = hashes_of(&leaves);
        let k = cut.index(leaves.len() + 1);

        let mut straight = CompactRange::new();
        for (i, h) in d[..k].iter().enumerate() {
            for (level, index, hash) in straight.append(*h) {
                // Every reported node is a complete subtree ending at the leaf just added.
                let begin = (index << level) as usize;
                let end = ((index + 1) << level) as usize;
                prop_assert_eq!(end, i + 1);
                prop_assert_eq!(hash, mth(&d[begin..end]));
            }
        }
        prop_assert_eq!(straight.size(), k as u64);
        prop_assert_eq!(straight.peaks().len(), k.count_ones() as usize);
        prop_assert_eq!(straight.root(), mth(&d[..k]));

        let mut rebuilt = CompactRange::from_parts(straight.size(), straight.peaks().to_vec())
            .expect("peaks came from a real range");
        prop_assert_eq!(&rebuilt, &straight);
        for h in &d[k..] {
            prop_assert_eq!(rebuilt.append(*h), straight.append(*h));
        }
        prop_assert_eq!(rebuilt.root(), mth(&d));

        let mut extra = straight.peaks().to_vec();
        extra.push(empty_root());
        let too_many = CompactRange::from_parts(straight.size(), extra);
        prop_assert!(
            matches!(too_many, Err(VerifyError::WrongPeakCount { .. })),
            "one peak too many was accepted"
        );
    }
}

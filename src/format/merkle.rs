//! Merkle tree math for the custody log, as RFC 6962 and RFC 9162 §2.1 define it.
//!
//! This module owns the leaf and interior-node hashes with their domain-separation prefixes, the
//! root of a tree of any size, the generation of inclusion and consistency proofs, their
//! verification, and [`CompactRange`], the incremental builder that tells storage which complete
//! subtrees each append creates. Everything here is a pure function of its arguments so that any
//! party holding the same hashes computes the same answer.
//!
//! It must never do I/O, read a clock or use randomness: storage reaches it only through
//! [`NodeSource`]. It never trusts a proof it did not check: proof hashes are combined only inside
//! the `verify_*` functions, which succeed only when the recomputed roots match byte for byte, and
//! no other function accepts a proof as input.

use crate::base::words::{Explain, Message, msg};
use std::collections::HashMap;
use std::fmt;

use sha2::{Digest, Sha256};

/// Length of every hash in the tree: SHA-256 output.
pub const HASH_BYTES: usize = 32;

/// A leaf hash, interior-node hash or root.
pub type Hash = [u8; HASH_BYTES];

// Distinct prefixes stop an interior node from being passed off as a leaf (second-preimage
// attack): RFC 6962 §2.1.
const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// The hash of one leaf: `SHA-256(0x00 || leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(leaf);
    hasher.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the tree with no leaves: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Source of hashes of *complete, aligned* subtrees: the node at `level` (0 = leaves) and `index`
/// covers leaves `[index << level, (index + 1) << level)`. Storage implements it; tests use
/// [`MemoryTree`].
///
/// Only complete subtrees are ever asked for, because only they never change once written: a
/// source never has to know the size of the tree the caller has in mind.
pub trait NodeSource {
    type Error;
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

impl<S: NodeSource + ?Sized> NodeSource for &S {
    type Error = S::Error;
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        (**self).node(level, index)
    }
}

/// Why a proof could not be generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofError<E> {
    /// The leaf asked about is not in a tree of that size.
    IndexOutOfRange { index: u64, size: u64 },
    /// The old tree is larger than the new one.
    BadSizes { old: u64, new: u64 },
    /// The node source failed; the cause is in [`std::error::Error::source`].
    Source(E),
}

impl<E> Explain for ProofError<E> {
    fn explain(&self) -> Message {
        match self {
            Self::IndexOutOfRange { index, size } => msg("err.merkle.proof_index_out_of_range")
                .arg("index", index)
                .arg("size", size),
            Self::BadSizes { old, new } => msg("err.merkle.proof_bad_sizes")
                .arg("old", old)
                .arg("new", new),
            Self::Source(_) => msg("err.merkle.proof_source"),
        }
    }
}

/// The English sentence (`english_display!` cannot name a generic type).
impl<E> fmt::Display for ProofError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::base::words::english(self, f)
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ProofError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Source(e) => Some(e),
            Self::IndexOutOfRange { .. } | Self::BadSizes { .. } => None,
        }
    }
}

/// Why a proof, or the parts of a [`CompactRange`], did not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// The leaf index is not below the tree size (this includes every index in an empty tree).
    IndexOutOfRange { index: u64, size: u64 },
    /// The old tree size is larger than the new one.
    BadSizes { old: u64, new: u64 },
    /// A consistency proof from the empty tree was asked for. Every tree extends the empty tree,
    /// so there is nothing to prove; callers decide what an old size of 0 means above this layer.
    EmptyOldTree,
    /// The proof does not have the one length these sizes and this index allow.
    WrongProofLength { expected: usize, got: usize },
    /// The inclusion proof leads to a different root than the one given.
    RootMismatch,
    /// The consistency proof does not rebuild the old root.
    OldRootMismatch,
    /// The consistency proof rebuilds the old root but leads to a different new root.
    NewRootMismatch,
    /// Two different roots were given for the same tree size.
    RootsDifferAtSameSize { size: u64 },
    /// A compact range of `size` leaves has exactly one peak per set bit of `size`.
    WrongPeakCount {
        size: u64,
        expected: usize,
        got: usize,
    },
}

impl Explain for VerifyError {
    fn explain(&self) -> Message {
        match self {
            Self::IndexOutOfRange { index, size } => msg("err.merkle.index_out_of_range")
                .arg("index", index)
                .arg("size", size),
            Self::BadSizes { old, new } => {
                msg("err.merkle.bad_sizes").arg("old", old).arg("new", new)
            }
            Self::EmptyOldTree => msg("err.merkle.empty_old_tree"),
            Self::WrongProofLength { expected, got } => msg("err.merkle.wrong_proof_length")
                .arg("expected", expected)
                .arg("got", got),
            Self::RootMismatch => msg("err.merkle.root_mismatch"),
            Self::OldRootMismatch => msg("err.merkle.old_root_mismatch"),
            Self::NewRootMismatch => msg("err.merkle.new_root_mismatch"),
            Self::RootsDifferAtSameSize { size } => {
                msg("err.merkle.roots_differ_at_same_size").arg("size", size)
            }
            Self::WrongPeakCount {
                size,
                expected,
                got,
            } => msg("err.merkle.wrong_peak_count")
                .arg("size", size)
                .arg("expected", expected)
                .arg("got", got),
        }
    }
}

crate::english_display!(VerifyError);

/// The largest power of two strictly below `n`: where RFC 6962 splits a tree of `n >= 2` leaves.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2, "only trees of two or more leaves are split");
    1 << (63 - (n - 1).leading_zeros())
}

/// The Merkle tree hash of leaves `[begin, end)`, which must be a node of some RFC 6962 tree:
/// `begin` a multiple of the smallest power of two not below `end - begin`.
///
/// Such a range is a run of perfect subtrees, one per set bit of its width, largest on the left,
/// and RFC 6962 always splits off the largest on the left, so its hash is their right fold. That
/// costs one read per set bit, never a read of a subtree that might still grow.
fn range_hash<S: NodeSource>(src: &S, begin: u64, end: u64) -> Result<Hash, S::Error> {
    debug_assert!(begin < end, "a node covers at least one leaf");
    let mut acc: Option<Hash> = None;
    let mut right_edge = end;
    let mut rest = end - begin;
    while rest != 0 {
        let level = rest.trailing_zeros();
        let piece_begin = right_edge - (1 << level);
        let piece = src.node(level as u8, piece_begin >> level)?;
        acc = Some(match acc {
            None => piece,
            Some(right) => node_hash(&piece, &right),
        });
        right_edge = piece_begin;
        rest &= rest - 1;
    }
    Ok(acc.expect("a non-empty range has at least one perfect subtree"))
}

/// Root of the first `size` leaves, using only complete aligned subtrees from `src` (O(log n) reads).
pub fn root<S: NodeSource>(src: &S, size: u64) -> Result<Hash, S::Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(src, 0, size)
}

/// The audit path for leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1),
/// ordered from the leaf's sibling up to the child of the root.
pub fn inclusion_proof<S: NodeSource>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // Walks down from the root, so the path comes out root-first and is reversed at the end.
    // Only the first right-hand sibling met can be an incomplete subtree; everything below it is
    // perfect, which keeps the whole proof at O(log n) reads.
    let mut path = Vec::new();
    let (mut begin, mut end) = (0, size);
    while end - begin > 1 {
        let mid = begin + split_point(end - begin);
        if index < mid {
            path.push(range_hash(src, mid, end).map_err(ProofError::Source)?);
            end = mid;
        } else {
            path.push(range_hash(src, begin, mid).map_err(ProofError::Source)?);
            begin = mid;
        }
    }
    path.reverse();
    Ok(path)
}

/// The proof that the tree of the first `new_size` leaves extends the tree of the first
/// `old_size` (RFC 9162 §2.1.4.1). An old size of 0, or equal sizes, need no hashes at all.
pub fn consistency_proof<S: NodeSource>(
    src: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if old_size > new_size {
        return Err(ProofError::BadSizes {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    // RFC 9162's SUBPROOF walked down from the root: `[begin, end)` is the current node and the
    // old tree's right edge lies in `(begin, end]`. `on_left_edge` is the RFC's flag `b`: while
    // true the node we stop at is a whole old tree, whose root the verifier already has.
    let mut path = Vec::new();
    let (mut begin, mut end) = (0, new_size);
    let mut on_left_edge = true;
    loop {
        if old_size == end {
            if !on_left_edge {
                path.push(range_hash(src, begin, end).map_err(ProofError::Source)?);
            }
            break;
        }
        let mid = begin + split_point(end - begin);
        if old_size <= mid {
            path.push(range_hash(src, mid, end).map_err(ProofError::Source)?);
            end = mid;
        } else {
            path.push(range_hash(src, begin, mid).map_err(ProofError::Source)?);
            begin = mid;
            on_left_edge = false;
        }
    }
    path.reverse();
    Ok(path)
}

/// Splits the audit path of leaf `index` in a tree of `size` leaves into the hashes below the
/// point where the path joins the tree's right border (`inner`) and the hashes on that border
/// (`border`). This pins the exact proof length before any hashing, so a short or padded proof
/// is reported as such rather than as a root mismatch.
fn decompose_inclusion(index: u64, size: u64) -> (u32, u32) {
    debug_assert!(index < size, "callers have range-checked the index");
    let inner = u64::BITS - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner, border)
}

/// Hashes up the inner part of a path: the bits of `index` say on which side each sibling sits.
fn chain_inner(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    proof.iter().enumerate().fold(seed, |acc, (i, sibling)| {
        if (index >> i) & 1 == 0 {
            node_hash(&acc, sibling)
        } else {
            node_hash(sibling, &acc)
        }
    })
}

/// Like [`chain_inner`], but uses only the left-hand siblings: those are the ones that are part
/// of the old tree when rebuilding it from a consistency proof.
fn chain_inner_right(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    proof.iter().enumerate().fold(seed, |acc, (i, sibling)| {
        if (index >> i) & 1 == 1 {
            node_hash(sibling, &acc)
        } else {
            acc
        }
    })
}

/// Hashes up the right border, where every sibling is on the left.
fn chain_border_right(seed: Hash, proof: &[Hash]) -> Hash {
    proof
        .iter()
        .fold(seed, |acc, sibling| node_hash(sibling, &acc))
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is `root`
/// (RFC 9162 §2.1.3.2).
///
/// This computes the same thing as the RFC's bit-shifting loop, but first fixes the one proof
/// length that `index` and `size` allow, so a truncated or padded proof gets its own error.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose_inclusion(index, size);
    let inner = inner as usize;
    let expected = inner + border as usize;
    if proof.len() != expected {
        return Err(VerifyError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    let (inner_path, border_path) = proof.split_at(inner);
    let computed = chain_border_right(chain_inner(*leaf_hash, inner_path, index), border_path);
    if computed != *root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the tree of `old_size`
/// leaves with root `old_root` (RFC 9162 §2.1.4.2).
///
/// An old size of 0 is [`VerifyError::EmptyOldTree`]: the empty tree is a prefix of every tree,
/// so callers handle it above this function. Equal sizes need an empty proof and equal roots.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), VerifyError> {
    if old_size > new_size {
        return Err(VerifyError::BadSizes {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 {
        return Err(VerifyError::EmptyOldTree);
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(VerifyError::WrongProofLength {
                expected: 0,
                got: proof.len(),
            });
        }
        if old_root != new_root {
            return Err(VerifyError::RootsDifferAtSameSize { size: old_size });
        }
        return Ok(());
    }

    // The proof is, in effect, the audit path of the old tree's last leaf in the new tree,
    // started not at that leaf but at the largest perfect subtree ending there (`shift` levels
    // up). When the old tree is itself perfect that subtree is the old root, which the verifier
    // already has, so the proof omits it.
    let shift = old_size.trailing_zeros();
    let (inner, border) = decompose_inclusion(old_size - 1, new_size);
    let inner = inner
        .checked_sub(shift)
        .expect("old_size < new_size, so old_size - 1 and new_size - 1 differ above bit `shift`")
        as usize;
    let old_is_perfect = old_size == 1 << shift;
    let seed_in_proof = usize::from(!old_is_perfect);
    let expected = seed_in_proof + inner + border as usize;
    if proof.len() != expected {
        return Err(VerifyError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    let (seed, path) = match proof.split_first() {
        Some((first, rest)) if !old_is_perfect => (*first, rest),
        _ => (*old_root, proof),
    };
    let (inner_path, border_path) = path.split_at(inner);
    let mask = (old_size - 1) >> shift;

    let old_computed = chain_border_right(chain_inner_right(seed, inner_path, mask), border_path);
    if old_computed != *old_root {
        return Err(VerifyError::OldRootMismatch);
    }
    let new_computed = chain_border_right(chain_inner(seed, inner_path, mask), border_path);
    if new_computed != *new_root {
        return Err(VerifyError::NewRootMismatch);
    }
    Ok(())
}

/// Incremental builder that appends leaves and reports the new complete subtree nodes each
/// append creates.
///
/// It holds the roots of the perfect subtrees along the tree's right edge ("peaks"), one per set
/// bit of the size, largest (leftmost) first: O(log n) hashes are enough to keep appending and to
/// compute the root, without reading anything back from storage.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompactRange {
    size: u64,
    peaks: Vec<Hash>,
}

impl CompactRange {
    /// The range of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a range from a size and its peaks, largest first, as [`CompactRange::peaks`]
    /// returned them. Only the count of peaks can be checked here; compare [`CompactRange::root`]
    /// with a root from a signed checkpoint before trusting the hashes.
    pub fn from_parts(size: u64, peaks: Vec<Hash>) -> Result<Self, VerifyError> {
        let expected = size.count_ones() as usize;
        if peaks.len() != expected {
            return Err(VerifyError::WrongPeakCount {
                size,
                expected,
                got: peaks.len(),
            });
        }
        Ok(Self { size, peaks })
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Roots of the perfect subtrees on the right edge, largest (leftmost) first.
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// Appends one leaf hash; returns the newly completed nodes as `(level, index, hash)`,
    /// including the leaf itself at level 0, lowest level first.
    pub fn append(&mut self, leaf_hash: Hash) -> Vec<(u8, u64, Hash)> {
        let index = self.size;
        self.size = index
            .checked_add(1)
            .expect("a tree cannot hold more than u64::MAX leaves");
        // Each trailing one bit of the old size is a peak exactly as tall as the subtree being
        // carried up, so they merge like a binary increment carries.
        let merges = index.trailing_ones();
        let mut created = Vec::with_capacity(1 + merges as usize);
        created.push((0, index, leaf_hash));
        let mut carried = leaf_hash;
        for level in 1..=merges {
            let left = self
                .peaks
                .pop()
                .expect("there is one peak per set bit of the size");
            carried = node_hash(&left, &carried);
            created.push((level as u8, index >> level, carried));
        }
        self.peaks.push(carried);
        created
    }

    /// The root of the tree of [`CompactRange::size`] leaves.
    pub fn root(&self) -> Hash {
        match self.peaks.split_last() {
            None => empty_root(),
            Some((last, rest)) => rest
                .iter()
                .rev()
                .fold(*last, |right, left| node_hash(left, &right)),
        }
    }
}

/// A node that a [`MemoryTree`] was asked for but does not hold: it lies beyond the leaves
/// appended so far, or is a subtree that is not yet complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingNode {
    pub level: u8,
    pub index: u64,
}

impl fmt::Display for MissingNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no complete subtree at level {} index {} in this tree",
            self.level, self.index
        )
    }
}

impl std::error::Error for MissingNode {}

/// A whole tree in memory, holding every complete subtree an append created: the reference
/// [`NodeSource`] for tests and for checking exported tiles.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    range: CompactRange,
    nodes: HashMap<(u8, u64), Hash>,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree of the given leaves, in order.
    pub fn from_leaves<I>(leaves: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.push(leaf.as_ref());
        }
        tree
    }

    /// Appends a leaf and returns its leaf hash.
    pub fn push(&mut self, leaf: &[u8]) -> Hash {
        let hash = leaf_hash(leaf);
        self.push_hash(hash);
        hash
    }

    /// Appends a leaf by its leaf hash.
    pub fn push_hash(&mut self, leaf_hash: Hash) {
        for (level, index, hash) in self.range.append(leaf_hash) {
            self.nodes.insert((level, index), hash);
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.range.size()
    }

    /// Root of the whole tree.
    pub fn root(&self) -> Hash {
        self.range.root()
    }

    /// The builder state, as storage would persist it.
    pub fn compact_range(&self) -> &CompactRange {
        &self.range
    }
}

impl NodeSource for MemoryTree {
    type Error = MissingNode;
    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        self.nodes
            .get(&(level, index))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(hash: &Hash) -> String {
        hash.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The eight leaves of the RFC 6962 test tree used by transparency-dev/merkle and the
    /// vectors under tests/vectors/rfc6962.
    fn rfc6962_leaves() -> Vec<Vec<u8>> {
        vec![
            vec![],
            vec![0x00],
            vec![0x10],
            vec![0x20, 0x21],
            vec![0x30, 0x31],
            vec![0x40, 0x41, 0x42, 0x43],
            (0x50..0x58).collect(),
            (0x60..0x70).collect(),
        ]
    }

    const RFC6962_ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(root(&MemoryTree::new(), 0), Ok(empty_root()));
        assert_eq!(CompactRange::new().root(), empty_root());
    }

    #[test]
    fn leaf_and_node_hashes_are_domain_separated() {
        assert_eq!(hex(&leaf_hash(b"")), RFC6962_ROOTS[0]);
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        assert_ne!(node_hash(&a, &b), node_hash(&b, &a));
        let mut concatenated = a.to_vec();
        concatenated.extend_from_slice(&b);
        assert_ne!(node_hash(&a, &b), leaf_hash(&concatenated));
    }

    #[test]
    fn roots_of_the_rfc6962_test_tree() {
        let leaves = rfc6962_leaves();
        let full = MemoryTree::from_leaves(&leaves);
        for (i, want) in RFC6962_ROOTS.iter().enumerate() {
            let size = i as u64 + 1;
            let prefix = MemoryTree::from_leaves(&leaves[..=i]);
            assert_eq!(hex(&prefix.root()), *want, "CompactRange root, size {size}");
            assert_eq!(
                root(&full, size).map(|r| hex(&r)),
                Ok(want.to_string()),
                "NodeSource root, size {size}"
            );
        }
    }

    #[test]
    fn append_reports_every_completed_subtree() {
        let mut range = CompactRange::new();
        let leaves: Vec<Hash> = (0u8..4).map(|i| leaf_hash(&[i])).collect();
        assert_eq!(range.append(leaves[0]), vec![(0, 0, leaves[0])]);
        let n01 = node_hash(&leaves[0], &leaves[1]);
        assert_eq!(
            range.append(leaves[1]),
            vec![(0, 1, leaves[1]), (1, 0, n01)]
        );
        assert_eq!(range.append(leaves[2]), vec![(0, 2, leaves[2])]);
        assert_eq!(range.peaks(), &[n01, leaves[2]]);
        let n23 = node_hash(&leaves[2], &leaves[3]);
        let n0123 = node_hash(&n01, &n23);
        assert_eq!(
            range.append(leaves[3]),
            vec![(0, 3, leaves[3]), (1, 1, n23), (2, 0, n0123)]
        );
        assert_eq!(range.size(), 4);
        assert_eq!(range.peaks(), &[n0123]);
        assert_eq!(range.root(), n0123);
    }

    #[test]
    fn proofs_of_the_rfc6962_worked_example() {
        // RFC 6962 §2.1.3's tree of seven leaves d0..d6, with its names for the nodes:
        // k = (g = a·b, h = c·d), l = (i = e·f, j = d6).
        let tree = MemoryTree::from_leaves(rfc6962_leaves());
        let leaf: Vec<Hash> = rfc6962_leaves().iter().map(|l| leaf_hash(l)).collect();
        let [a, b, c, d, e, f, j] = [0, 1, 2, 3, 4, 5, 6].map(|n| leaf[n]);
        let g = node_hash(&a, &b);
        let h = node_hash(&c, &d);
        let i = node_hash(&e, &f);
        let k = node_hash(&g, &h);
        let l = node_hash(&i, &j);
        let root7 = root(&tree, 7).expect("the tree has eight leaves");
        assert_eq!(root7, node_hash(&k, &l));

        for (index, path) in [
            (0, vec![b, h, l]),
            (3, vec![c, g, l]),
            (4, vec![f, j, k]),
            (6, vec![i, k]),
        ] {
            assert_eq!(inclusion_proof(&tree, index, 7), Ok(path.clone()));
            assert_eq!(
                verify_inclusion(index, 7, &leaf[index as usize], &path, &root7),
                Ok(())
            );
        }

        for (old, proof) in [(3, vec![c, d, g, l]), (4, vec![l]), (6, vec![i, j, k])] {
            assert_eq!(consistency_proof(&tree, old, 7), Ok(proof.clone()));
            let old_root = root(&tree, old).expect("the tree has eight leaves");
            assert_eq!(
                verify_consistency(old, 7, &old_root, &root7, &proof),
                Ok(())
            );
        }
    }

    #[test]
    fn trivial_consistency_cases() {
        let tree = MemoryTree::from_leaves([b"x"]);
        assert_eq!(consistency_proof(&tree, 0, 1), Ok(vec![]));
        assert_eq!(consistency_proof(&tree, 1, 1), Ok(vec![]));
        assert_eq!(
            consistency_proof(&tree, 2, 1),
            Err(ProofError::BadSizes { old: 2, new: 1 })
        );
        let r = tree.root();
        assert_eq!(verify_consistency(1, 1, &r, &r, &[]), Ok(()));
        assert_eq!(
            verify_consistency(0, 1, &empty_root(), &r, &[]),
            Err(VerifyError::EmptyOldTree)
        );
        assert_eq!(
            verify_consistency(1, 1, &r, &empty_root(), &[]),
            Err(VerifyError::RootsDifferAtSameSize { size: 1 })
        );
        assert_eq!(
            verify_consistency(1, 1, &r, &r, &[r]),
            Err(VerifyError::WrongProofLength {
                expected: 0,
                got: 1
            })
        );
        assert_eq!(
            verify_consistency(2, 1, &r, &r, &[]),
            Err(VerifyError::BadSizes { old: 2, new: 1 })
        );
    }

    #[test]
    fn out_of_range_requests_are_errors() {
        let tree = MemoryTree::from_leaves([b"a", b"b", b"c"]);
        assert_eq!(
            inclusion_proof(&tree, 3, 3),
            Err(ProofError::IndexOutOfRange { index: 3, size: 3 })
        );
        assert_eq!(
            inclusion_proof(&tree, 0, 0),
            Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
        );
        // Asking for a bigger tree than the source holds reaches a node that is not there.
        assert!(matches!(
            inclusion_proof(&tree, 0, 5),
            Err(ProofError::Source(MissingNode { .. }))
        ));
        assert_eq!(
            verify_inclusion(0, 0, &empty_root(), &[], &empty_root()),
            Err(VerifyError::IndexOutOfRange { index: 0, size: 0 })
        );
    }

    #[test]
    fn extreme_sizes_do_not_overflow() {
        let h = leaf_hash(b"");
        // In the largest possible tree the first leaf is 64 levels deep, which takes a shift
        // by the full width of u64 to see, and the last leaf has one sibling per other peak.
        assert_eq!(
            verify_inclusion(0, u64::MAX, &h, &[], &h),
            Err(VerifyError::WrongProofLength {
                expected: 64,
                got: 0
            })
        );
        assert_eq!(
            verify_inclusion(1, u64::MAX, &h, &[], &h),
            Err(VerifyError::WrongProofLength {
                expected: 64,
                got: 0
            })
        );
        assert_eq!(
            verify_inclusion(u64::MAX - 1, u64::MAX, &h, &[], &h),
            Err(VerifyError::WrongProofLength {
                expected: 63,
                got: 0
            })
        );
        assert!(matches!(
            verify_consistency(u64::MAX - 1, u64::MAX, &h, &h, &[]),
            Err(VerifyError::WrongProofLength { .. })
        ));
        assert!(matches!(
            verify_consistency(1 << 63, u64::MAX, &h, &h, &[]),
            Err(VerifyError::WrongProofLength { .. })
        ));
    }

    #[test]
    fn from_parts_checks_the_peak_count() {
        let tree = MemoryTree::from_leaves([b"a", b"b", b"c"]);
        let range = tree.compact_range();
        let rebuilt = CompactRange::from_parts(range.size(), range.peaks().to_vec());
        assert_eq!(rebuilt.as_ref(), Ok(range));
        assert_eq!(
            CompactRange::from_parts(3, vec![empty_root()]),
            Err(VerifyError::WrongPeakCount {
                size: 3,
                expected: 2,
                got: 1
            })
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = VerifyError::WrongProofLength {
            expected: 3,
            got: 2,
        };
        assert_eq!(
            e.to_string(),
            "proof has 2 hashes but must have exactly 3 for these sizes"
        );
        let p: ProofError<MissingNode> = ProofError::Source(MissingNode { level: 1, index: 2 });
        let source = std::error::Error::source(&p).map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("no complete subtree at level 1 index 2 in this tree")
        );
    }
}

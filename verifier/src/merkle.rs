//! Merkle trees as RFC 9162 (Certificate Transparency 2.0, §2.1) defines them, with SHA-256:
//! the tree head over a list of leaves, inclusion proofs ("this leaf is in the tree of this
//! head") and consistency proofs ("this tree extends that one, unchanged"), built and verified.
//! Anchoring batches status fingerprints into such trees; a receipt carries an inclusion proof
//! that anyone verifies offline.
//!
//! Leaves are hashed as `SHA-256(0x00 ‖ data)`, interior nodes as `SHA-256(0x01 ‖ left ‖
//! right)`, so a leaf can never pass for a node. The verifiers follow the RFC's algorithms
//! (§2.1.3.2 and §2.1.4.2) step by step; they take untrusted sizes and proofs and never panic.

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, a node hash or a tree head.
pub type Hash = [u8; 32];

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not in a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("a tree of {second} leaves cannot extend one of {first}")]
    SizesOutOfOrder { first: u64, second: u64 },
    #[error("the proof has {found} hashes where this tree needs {expected}")]
    WrongLength { expected: usize, found: usize },
    #[error("the proof does not lead to the tree head given")]
    RootMismatch,
}

/// `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The head of the tree over `leaves` (already leaf-hashed): RFC 9162's MTH. The empty tree's
/// head is the hash of nothing.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => Sha256::digest([]).into(),
        [one] => *one,
        _ => {
            let k = split(leaves.len() as u64) as usize;
            let (left, right) = leaves.split_at(k);
            node_hash(&root(left), &root(right))
        }
    }
}

/// The largest power of two smaller than `n` (for `n` ≥ 2).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// A tree kept with all its levels, to answer many proofs over one batch: level 0 holds the
/// leaf hashes, each level above the hashes of pairs below, a lone last node carried up as it
/// is — the same tree as RFC 9162's recursive definition.
#[derive(Debug, Clone)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// Builds every level above `leaves` (already leaf-hashed).
    pub fn new(leaves: Vec<Hash>) -> Tree {
        let mut levels = vec![leaves];
        while let Some(below) = levels.last().filter(|level| level.len() > 1) {
            let above = below
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node_hash(left, right),
                    [lone] => *lone,
                    _ => unreachable!("chunks(2) yields one or two"),
                })
                .collect();
            levels.push(above);
        }
        Tree { levels }
    }

    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    pub fn root(&self) -> Hash {
        match self.levels.last() {
            Some(top) if top.len() == 1 => top[0],
            _ => root(&[]),
        }
    }

    /// The inclusion proof of leaf `index` (RFC 9162 §2.1.3.1), or `None` when there is no
    /// such leaf.
    pub fn inclusion_proof(&self, index: u64) -> Option<Vec<Hash>> {
        if index >= self.size() {
            return None;
        }
        let mut proof = Vec::new();
        let mut at = index as usize;
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = at ^ 1;
            if let Some(hash) = level.get(sibling) {
                proof.push(*hash);
            }
            at >>= 1;
        }
        Some(proof)
    }

    /// The consistency proof from the tree's first `first` leaves to the whole tree (RFC 9162
    /// §2.1.4.1), or `None` when `first` is larger than the tree.
    pub fn consistency_proof(&self, first: u64) -> Option<Vec<Hash>> {
        let size = self.size();
        if first > size {
            return None;
        }
        let mut proof = Vec::new();
        if first > 0 && first < size {
            self.subproof(first, 0, size, true, &mut proof);
        }
        Some(proof)
    }

    /// SUBPROOF(m, D[start:start+n], b).
    fn subproof(&self, m: u64, start: u64, n: u64, whole: bool, proof: &mut Vec<Hash>) {
        if m == n {
            if !whole {
                proof.push(self.range_root(start, n));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, k, whole, proof);
            proof.push(self.range_root(start + k, n - k));
        } else {
            self.subproof(m - k, start + k, n - k, false, proof);
            proof.push(self.range_root(start, k));
        }
    }

    /// MTH(D[start:start+n]) for the ranges proofs need: whole subtrees (read from a level),
    /// or a right edge of the tree (split as the RFC splits it).
    fn range_root(&self, start: u64, n: u64) -> Hash {
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let height = n.trailing_zeros() as usize;
            if let Some(hash) = self
                .levels
                .get(height)
                .and_then(|level| level.get((start >> height) as usize))
            {
                return *hash;
            }
        }
        if n <= 1 {
            return self.levels[0][start as usize];
        }
        let k = split(n);
        node_hash(
            &self.range_root(start, k),
            &self.range_root(start + k, n - k),
        )
    }
}

/// Checks that `leaf` (a leaf hash) is at `index` in the tree of `size` leaves whose head is
/// `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_length(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            expected,
            found: proof.len(),
        });
    }
    let mut f_n = index;
    let mut s_n = size - 1;
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return Err(ProofError::RootMismatch);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n == 0 && r == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Checks that the tree of `second` leaves with head `second_root` extends, unchanged, the tree
/// of `first` leaves with head `first_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second });
    }
    if first == second || first == 0 {
        // Nothing to prove: equal trees must have equal heads; every tree extends the empty one.
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                expected: 0,
                found: proof.len(),
            });
        }
        return if first == 0 || first_root == second_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let expected = consistency_length(first, second);
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            expected,
            found: proof.len(),
        });
    }
    // 1. A first tree that is a whole subtree is its own first proof element.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    // 2.–3.
    let mut f_n = first - 1;
    let mut s_n = second - 1;
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    // 4.
    let Some((head, rest)) = path.split_first() else {
        return Err(ProofError::RootMismatch);
    };
    let mut f_r = *head;
    let mut s_r = *head;
    // 5.
    for c in rest {
        if s_n == 0 {
            return Err(ProofError::RootMismatch);
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // 6.
    if f_r == *first_root && s_r == *second_root && s_n == 0 {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// How many hashes the inclusion proof of `index` in a tree of `size` leaves holds.
fn inclusion_length(index: u64, size: u64) -> usize {
    // The levels where the path has a sibling: below the point where the index's and the last
    // leaf's paths part, every level; above it, the levels where the last leaf's path has one.
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    // `inner` is 64 when the two paths part at the very top: nothing lies above.
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// How many hashes the consistency proof from `first` to `second` leaves holds (0 < first <
/// second).
fn consistency_length(first: u64, second: u64) -> usize {
    let inner = 64 - ((first - 1) ^ (second - 1)).leading_zeros();
    let shift = (first - 1).trailing_ones().min(inner);
    let border = (first - 1).checked_shr(inner).unwrap_or(0).count_ones();
    let start = usize::from(!first.is_power_of_two());
    (inner - shift + border) as usize + start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// Found by the `merkle` fuzz target: sizes whose paths part at the top bit made a shift
    /// overflow. Untrusted sizes get an answer, never a panic.
    #[test]
    fn the_largest_sizes_are_answered_not_panicked_on() {
        let h = leaf_hash(b"x");
        for (index, size) in [(1 << 63, u64::MAX), (0, u64::MAX), (u64::MAX - 1, u64::MAX)] {
            assert!(verify_inclusion(&h, index, size, &[h; 3], &h).is_err());
        }
        for (first, second) in [
            ((1 << 63) + 1, u64::MAX),
            (1, u64::MAX),
            (u64::MAX - 1, u64::MAX),
        ] {
            assert!(verify_consistency(first, second, &h, &h, &[h; 3]).is_err());
        }
    }

    #[test]
    fn levels_and_recursion_give_the_same_head() {
        for n in 0..70 {
            let all = leaves(n);
            assert_eq!(Tree::new(all.clone()).root(), root(&all), "{n} leaves");
        }
    }

    #[test]
    fn every_proof_of_small_trees_verifies_and_has_the_predicted_length() {
        for n in 1..40u64 {
            let tree = Tree::new(leaves(n));
            for i in 0..n {
                let proof = tree.inclusion_proof(i).unwrap_or_default();
                assert_eq!(proof.len(), inclusion_length(i, n), "{i} of {n}");
                assert_eq!(
                    verify_inclusion(&leaf_hash(&i.to_be_bytes()), i, n, &proof, &tree.root()),
                    Ok(()),
                    "{i} of {n}"
                );
            }
            for m in 1..n {
                let before = Tree::new(leaves(m)).root();
                let proof = tree.consistency_proof(m).unwrap_or_default();
                assert_eq!(proof.len(), consistency_length(m, n), "{m} to {n}");
                assert_eq!(
                    verify_consistency(m, n, &before, &tree.root(), &proof),
                    Ok(()),
                    "{m} to {n}"
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]

        /// Larger trees: a proof verifies against its tree and against no tree in which one
        /// leaf differs; a tree extends its every prefix and no forked one.
        #[test]
        fn proofs_hold_for_their_tree_only(n in 2u64..3000, pick in 0u64..u64::MAX, other in 0u64..u64::MAX) {
            let index = pick % n;
            let first = 1 + other % (n - 1);
            let tree = Tree::new(leaves(n));
            let proof = tree.inclusion_proof(index).unwrap_or_default();
            let leaf = leaf_hash(&index.to_be_bytes());
            proptest::prop_assert_eq!(verify_inclusion(&leaf, index, n, &proof, &tree.root()), Ok(()));
            let mut forked_leaves = leaves(n);
            forked_leaves[(other % n) as usize] = leaf_hash(b"forked");
            let forked = Tree::new(forked_leaves);
            proptest::prop_assert!(verify_inclusion(&leaf, index, n, &proof, &forked.root()).is_err());

            let prefix = Tree::new(leaves(first)).root();
            let consistency = tree.consistency_proof(first).unwrap_or_default();
            proptest::prop_assert_eq!(verify_consistency(first, n, &prefix, &tree.root(), &consistency), Ok(()));
            proptest::prop_assert!(verify_consistency(first, n, &prefix, &forked.root(), &consistency).is_err());
        }
    }
}

//! RFC 9162 proof verification on untrusted input: sizes, indexes, heads and proofs read from
//! arbitrary bytes (as a receipt would carry them). Must never panic, and a proof built for a
//! small tree must verify while the same proof with the fuzzer's changes must not pass unless it
//! is the very same.
#![no_main]

use corroborate_verifier::merkle::{self, Hash, Tree};
use libfuzzer_sys::fuzz_target;

fn take<const N: usize>(data: &mut &[u8]) -> Option<[u8; N]> {
    let (head, rest) = data.split_first_chunk::<N>()?;
    *data = rest;
    Some(*head)
}

fuzz_target!(|data: &[u8]| {
    let mut data = data;
    let (Some(a), Some(b), Some(root1), Some(root2)) = (
        take::<8>(&mut data),
        take::<8>(&mut data),
        take::<32>(&mut data),
        take::<32>(&mut data),
    ) else {
        return;
    };
    let (a, b) = (u64::from_le_bytes(a), u64::from_le_bytes(b));
    let proof: Vec<Hash> = data
        .chunks_exact(32)
        .filter_map(|chunk| chunk.try_into().ok())
        .collect();
    // Arbitrary values: any answer, never a panic.
    let _ = merkle::verify_inclusion(&root1, a, b, &proof, &root2);
    let _ = merkle::verify_consistency(a, b, &root1, &root2, &proof);

    // A real tree of up to 64 leaves: its proofs verify; the fuzzer's proof only if identical.
    let size = 1 + (a % 64);
    let index = b % size;
    let tree = Tree::new((0..size).map(|i| merkle::leaf_hash(&i.to_le_bytes())).collect());
    let leaf = merkle::leaf_hash(&index.to_le_bytes());
    let good = tree.inclusion_proof(index).unwrap_or_default();
    assert!(merkle::verify_inclusion(&leaf, index, size, &good, &tree.root()).is_ok());
    if proof != good {
        assert!(merkle::verify_inclusion(&leaf, index, size, &proof, &tree.root()).is_err());
    }
});

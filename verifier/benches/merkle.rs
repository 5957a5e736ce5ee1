//! RFC 9162 Merkle trees at anchoring scale, beside raw SHA-256 in the same run so the figures
//! read as ratios (`docs/performance.md`):
//!
//! - `ed25519/verify_strict_32B`: one raw Ed25519 verification, the unit of every other bench
//!   of the project (`verify.rs`), so a tree head can be set against it;
//! - `sha256/32B-x1M`: one million SHA-256 of 32 bytes, the floor of any tree over as many;
//! - `tree/root-1M`: the tree head over one million leaf hashes, straight from the RFC's
//!   recursive definition (`merkle::root`), and `tree/levels-1M` with every level kept
//!   (`merkle::Tree::new`), which is what answers many proofs;
//! - `proof/inclusion-1M`: one inclusion proof from the kept levels, `proof/verify-1M` its
//!   verification, and `proof/consistency-1M` a consistency proof from half the tree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use corroborate_verifier::merkle::{self, Hash, Tree};
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};

const N: u64 = 1_000_000;

fn leaves() -> Vec<Hash> {
    (0..N)
        .map(|i| merkle::leaf_hash(&Sha256::digest(i.to_be_bytes())))
        .collect()
}

fn bench(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let message = [42u8; 32];
    let signature = key.sign(&message);
    let public = key.verifying_key();
    c.bench_function("ed25519/verify_strict_32B", |b| {
        b.iter(|| {
            public
                .verify_strict(black_box(&message), &signature)
                .unwrap()
        })
    });

    let leaves = leaves();
    let mut group = c.benchmark_group("merkle");
    group.sample_size(10);
    group.bench_function("sha256/32B-x1M", |b| {
        b.iter(|| {
            for leaf in &leaves {
                black_box(Sha256::digest(leaf));
            }
        })
    });
    group.bench_function("tree/root-1M", |b| {
        b.iter(|| black_box(merkle::root(&leaves)))
    });
    group.bench_function("tree/levels-1M", |b| {
        b.iter(|| black_box(Tree::new(leaves.clone())))
    });
    group.finish();

    let tree = Tree::new(leaves.clone());
    let root = tree.root();
    let index = 777_777;
    let proof = tree.inclusion_proof(index).unwrap();
    let mut group = c.benchmark_group("merkle");
    group.bench_function("proof/inclusion-1M", |b| {
        b.iter(|| black_box(tree.inclusion_proof(black_box(index))))
    });
    group.bench_function("proof/verify-1M", |b| {
        b.iter(|| {
            merkle::verify_inclusion(&leaves[index as usize], index, N, &proof, &root).unwrap()
        })
    });
    group.bench_function("proof/consistency-1M", |b| {
        b.iter(|| black_box(tree.consistency_proof(black_box(N / 2 + 3))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The specifications' own test vectors, walked from `tests/vectors/` (see its README).
//!
//! One test walks the folder and dispatches on each entry's name; an entry nobody checks fails the
//! test, so a vector cannot be copied in and silently ignored.

#![allow(clippy::unwrap_used, clippy::panic)]

use chrono::{DateTime, Utc};
use corroborate_verifier::did::{LocalResolver, ProofPurpose};
use corroborate_verifier::failure::Failure;
use corroborate_verifier::key::SecretKey;
use corroborate_verifier::merkle;
use corroborate_verifier::proof::{self, Cryptosuite, Expectation, ProofOptions};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// Proof-only expectations: the vectors' issuer does not control the signing key.
fn proof_only() -> Expectation {
    Expectation {
        purpose: ProofPurpose::AssertionMethod,
        controller: None,
        at: at("2030-01-01T00:00:00Z"),
        clock_skew: chrono::Duration::zero(),
        challenge: None,
        domain: None,
        max_proofs: 8,
    }
}

fn options_from_config(config: &Value) -> ProofOptions {
    let text = |k: &str| config.get(k).and_then(Value::as_str).map(str::to_owned);
    ProofOptions {
        cryptosuite: Cryptosuite::from_name(&text("cryptosuite").unwrap()).unwrap(),
        verification_method: text("verificationMethod").unwrap(),
        proof_purpose: text("proofPurpose")
            .unwrap()
            .parse::<ProofPurpose>()
            .unwrap(),
        created: text("created").map(|t| at(&t)),
        expires: None,
        challenge: None,
        domain: None,
        id: text("id"),
        previous_proof: match config.get("previousProof") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a.iter().map(|v| v.as_str().unwrap().to_owned()).collect(),
            Some(other) => panic!("previousProof {other}"),
        },
    }
}

fn hex_file(path: &Path) -> String {
    read(path).trim().to_owned()
}

/// One eddsa suite folder: every intermediate value, the signature, the signed document, and its
/// proof-only verification.
fn check_suite(dir: &Path, suite: Cryptosuite, tag: &str) {
    let root = dir.parent().unwrap();
    let unsigned = read_json(&root.join("unsigned.json"));
    let key_pair = read_json(&root.join("keyPair.json"));
    let key = SecretKey::from_multibase(key_pair["privateKeyMultibase"].as_str().unwrap()).unwrap();
    assert_eq!(
        key.public_key().to_multibase(),
        key_pair["publicKeyMultibase"].as_str().unwrap()
    );
    let config = read_json(&dir.join(format!("proofConfig{tag}.json")));
    let canon_doc = pollster::block_on(suite.canonicalize(&unsigned)).unwrap();
    let canon_proof = pollster::block_on(suite.canonicalize(&config)).unwrap();
    let expected_doc = read(&dir.join(format!("canonDoc{tag}.txt")));
    let expected_proof = read(&dir.join(format!("proofCanon{tag}.txt")));
    assert_eq!(
        String::from_utf8(canon_doc.clone()).unwrap(),
        expected_doc,
        "{tag}: canonical document"
    );
    assert_eq!(
        String::from_utf8(canon_proof.clone()).unwrap(),
        expected_proof,
        "{tag}: canonical proof configuration"
    );
    assert_eq!(
        hex::encode(Sha256::digest(&canon_doc)),
        hex_file(&dir.join(format!("docHash{tag}.txt")))
    );
    assert_eq!(
        hex::encode(Sha256::digest(&canon_proof)),
        hex_file(&dir.join(format!("proofHash{tag}.txt")))
    );
    let combined = pollster::block_on(suite.hash_data(&config, &unsigned)).unwrap();
    assert_eq!(
        hex::encode(combined),
        hex_file(&dir.join(format!("combinedHash{tag}.txt")))
    );
    let signature = key.sign(&combined);
    assert_eq!(
        hex::encode(signature),
        hex_file(&dir.join(format!("sigHex{tag}.txt")))
    );
    let multibase = format!("z{}", bs58::encode(signature).into_string());
    assert_eq!(multibase, hex_file(&dir.join(format!("sigBTC58{tag}.txt"))));

    let signed = read_json(&dir.join(format!("signed{tag}.json")));
    let ours = pollster::block_on(proof::add_proof(
        &unsigned,
        &key,
        &options_from_config(&config),
    ))
    .unwrap();
    assert_eq!(ours, signed, "{tag}: signed document");
    let results =
        pollster::block_on(proof::verify_proofs(&signed, &proof_only(), &LocalResolver)).unwrap();
    assert!(proof::all_passed(&results), "{tag}: {results:?}");

    // With the issuer check on, the same vector fails for the right reason.
    let mut strict = proof_only();
    strict.controller = Some(signed["issuer"].as_str().unwrap().to_owned());
    let results =
        pollster::block_on(proof::verify_proofs(&signed, &strict, &LocalResolver)).unwrap();
    assert!(
        matches!(results[0].failure, Some(Failure::KeyNotControlledBy { .. })),
        "{results:?}"
    );

    // Any change to the content breaks the signature.
    let mut tampered = signed.clone();
    tampered["credentialSubject"]["alumniOf"] = Value::from("The School of Tampering");
    let results = pollster::block_on(proof::verify_proofs(
        &tampered,
        &proof_only(),
        &LocalResolver,
    ))
    .unwrap();
    assert_eq!(
        results[0].failure,
        Some(Failure::BadSignature),
        "{tag}: tampered content"
    );
}

fn check_legacy_suite(dir: &Path) {
    let signed = read_json(&dir.join("signedEdSig.json"));
    let results =
        pollster::block_on(proof::verify_proofs(&signed, &proof_only(), &LocalResolver)).unwrap();
    assert!(
        matches!(&results[0].failure, Some(Failure::UnsupportedProofType { found }) if found == "Ed25519Signature2020"),
        "{results:?}"
    );
}

fn check_proof_sets_and_chains(dir: &Path) {
    let unsigned = read_json(&dir.join("unsigned.json"));
    let keys = read_json(&dir.join("multiKeyPairs.json"));
    let key = |n: usize| {
        SecretKey::from_multibase(
            keys[format!("keyPair{n}")]["privateKeyMultibase"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
    };
    let sign = |doc: &Value, n: usize, config: &str| {
        let options = options_from_config(&read_json(&dir.join(config)));
        pollster::block_on(proof::add_proof(doc, &key(n), &options)).unwrap()
    };
    // A proof set: two independent proofs.
    let set1 = sign(&unsigned, 1, "proofSetConfig1.json");
    assert_eq!(set1, read_json(&dir.join("signedProofSet1.json")));
    let set2 = sign(&set1, 2, "proofSetConfig2.json");
    assert_eq!(set2, read_json(&dir.join("signedProofSet2.json")));
    // A chain on top: the third proof covers the first two, the fourth covers the third.
    let chain1 = sign(&set2, 3, "proofChainConfig1.json");
    assert_eq!(chain1, read_json(&dir.join("signedProofChain1.json")));
    let chain2 = sign(&chain1, 4, "proofChainConfig2.json");
    assert_eq!(chain2, read_json(&dir.join("signedProofChain2.json")));
    for name in [
        "signedProofSet1.json",
        "signedProofSet2.json",
        "signedProofChain1.json",
        "signedProofChain2.json",
    ] {
        let doc = read_json(&dir.join(name));
        let results =
            pollster::block_on(proof::verify_proofs(&doc, &proof_only(), &LocalResolver)).unwrap();
        assert!(proof::all_passed(&results), "{name}: {results:?}");
    }
    // Dropping a proof a chain names fails the chained proof, and only it.
    let mut broken = read_json(&dir.join("signedProofChain2.json"));
    broken["proof"].as_array_mut().unwrap().remove(0);
    let results =
        pollster::block_on(proof::verify_proofs(&broken, &proof_only(), &LocalResolver)).unwrap();
    let failures: Vec<_> = results.iter().map(|r| r.failure.clone()).collect();
    assert_eq!(failures[0], None);
    assert!(
        matches!(&failures[1], Some(Failure::MissingPreviousProof { .. })),
        "{failures:?}"
    );
    assert_eq!(failures[2], None);
    assert!(!proof::all_passed(&results));
    // The chained proofs are the ones published with their configurations.
    for (position, signed_config) in [
        (2, "proofChainConfigSigned1.json"),
        (3, "proofChainConfigSigned2.json"),
    ] {
        let published = read_json(&dir.join(signed_config));
        assert_eq!(
            chain2["proof"][position]["proofValue"], published["proofValue"],
            "{signed_config}"
        );
    }
}

fn check_jcs(dir: &Path) {
    for entry in std::fs::read_dir(dir.join("input")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let input: Value = serde_json::from_str(&read(&path)).unwrap();
        let canonical = serde_json_canonicalizer::to_vec(&input).unwrap();
        let expected = std::fs::read(dir.join("output").join(&name)).unwrap();
        assert_eq!(canonical, expected, "jcs {name}");
        let hex_name = name.replace(".json", ".txt");
        let expected_hex: String = read(&dir.join("outhex").join(hex_name))
            .split_whitespace()
            .collect();
        assert_eq!(
            hex::encode(&canonical),
            expected_hex.to_lowercase(),
            "jcs hex {name}"
        );
    }
    let numbers = read_json(&dir.join("numbers.json"));
    for case in numbers["numbers"].as_array().unwrap() {
        let bits = u64::from_str_radix(case["ieee754_hex"].as_str().unwrap(), 16).unwrap();
        let number = f64::from_bits(bits);
        match (
            serde_json::Number::from_f64(number),
            case["expected"].as_str(),
        ) {
            (Some(n), Some(expected)) => {
                let text =
                    String::from_utf8(serde_json_canonicalizer::to_vec(&Value::Number(n)).unwrap())
                        .unwrap();
                assert_eq!(text, expected, "number {bits:016x}");
            }
            (None, None) => {} // NaN and infinities cannot be JSON numbers
            (got, expected) => panic!("number {bits:016x}: got {got:?}, expected {expected:?}"),
        }
    }
}

fn check_rfc8032(path: &Path) {
    let file = read_json(path);
    for case in file["vectors"].as_array().unwrap() {
        let seed: [u8; 32] = hex::decode(case["secret"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let key = SecretKey::from_bytes(&seed);
        assert_eq!(
            hex::encode(key.public_key().to_bytes()),
            case["public"].as_str().unwrap()
        );
        let message = hex::decode(case["message"].as_str().unwrap()).unwrap();
        let signature = key.sign(&message);
        assert_eq!(
            hex::encode(signature),
            case["signature"].as_str().unwrap(),
            "{}",
            case["name"]
        );
        assert!(key.public_key().verify(&message, &signature).is_ok());
    }
}

fn check_did_key(path: &Path) {
    let file = read_json(path);
    for case in file["vectors"].as_array().unwrap() {
        let seed: [u8; 32] = hex::decode(case["seed"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let key = SecretKey::from_bytes(&seed);
        let did = corroborate_verifier::did::did_key_from_public_key(&key.public_key());
        assert_eq!(did, case["did"].as_str().unwrap());
        let document = pollster::block_on(corroborate_verifier::did::DidResolver::resolve(
            &LocalResolver,
            &did,
        ))
        .unwrap();
        let method = &document.verification_methods()[0];
        assert_eq!(
            bs58::encode(method.key.to_bytes()).into_string(),
            case["publicKeyBase58"].as_str().unwrap()
        );
    }
}

#[test]
fn specification_vectors() {
    let root = vectors();
    let mut checked = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        match name.as_str() {
            "README.md" => continue,
            "vc-di-eddsa" => {
                check_suite(
                    &path.join("eddsa-rdfc-2022"),
                    Cryptosuite::EddsaRdfc2022,
                    "DataInt",
                );
                check_suite(
                    &path.join("eddsa-jcs-2022"),
                    Cryptosuite::EddsaJcs2022,
                    "JCS",
                );
                check_legacy_suite(&path.join("Ed25519Signature2020"));
                check_proof_sets_and_chains(&path.join("proof-set-chain"));
            }
            "jcs" => check_jcs(&path),
            "rfc8032-ed25519.json" => check_rfc8032(&path),
            "did-key-ed25519.json" => check_did_key(&path),
            "rfc6962-merkle.json" => check_merkle(&path),
            other => panic!("vector {other} is not checked by any test"),
        }
        checked.push(name);
    }
    assert_eq!(checked.len(), 5, "{checked:?}");
}

fn hash(text: &Value) -> merkle::Hash {
    hex::decode(text.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

fn hashes(list: &Value) -> Vec<merkle::Hash> {
    list.as_array().unwrap().iter().map(hash).collect()
}

/// RFC 9162 Merkle trees: every vector reproduced and verified, and every corruption the
/// reference tests make of a good proof refused.
fn check_merkle(path: &Path) {
    let vectors = read_json(path);
    let data: Vec<Vec<u8>> = vectors["leaves_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
        .collect();
    let leaf_hashes = hashes(&vectors["leaf_hashes"]);
    for (d, expected) in data.iter().zip(&leaf_hashes) {
        assert_eq!(&merkle::leaf_hash(d), expected);
    }
    let roots: Vec<(u64, merkle::Hash)> = vectors["root_by_size"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(size, root)| (size.parse().unwrap(), hash(root)))
        .collect();
    assert_eq!(roots.len(), 9, "sizes 0 to 8");
    for (size, expected) in &roots {
        let leaves = leaf_hashes[..*size as usize].to_vec();
        assert_eq!(merkle::root(&leaves), *expected, "size {size}");
        assert_eq!(merkle::Tree::new(leaves).root(), *expected, "size {size}");
    }
    let root_of = |size: u64| roots.iter().find(|(s, _)| *s == size).unwrap().1;
    let flip = |h: &merkle::Hash, bit: usize| {
        let mut h = *h;
        h[bit / 8] ^= 1 << (bit % 8);
        h
    };

    for case in vectors["inclusion_proofs"].as_array().unwrap() {
        let index = case["leaf_index"].as_u64().unwrap();
        let size = case["tree_size"].as_u64().unwrap();
        let proof = hashes(&case["proof"]);
        let tree = merkle::Tree::new(leaf_hashes[..size as usize].to_vec());
        assert_eq!(tree.inclusion_proof(index).unwrap(), proof, "{case}");
        let leaf = leaf_hashes[index as usize];
        let root = root_of(size);
        assert_eq!(
            merkle::verify_inclusion(&leaf, index, size, &proof, &root),
            Ok(())
        );
        let refused = |leaf: &merkle::Hash,
                       index: u64,
                       size: u64,
                       proof: &[merkle::Hash],
                       root: &merkle::Hash| {
            assert!(
                merkle::verify_inclusion(leaf, index, size, proof, root).is_err(),
                "{case}: index {index} size {size} proof {} accepted",
                proof.len()
            );
        };
        refused(&leaf, index + 1, size, &proof, &root);
        if index > 0 {
            refused(&leaf, index - 1, size, &proof, &root);
        }
        refused(&leaf, index ^ 2, size, &proof, &root);
        refused(&leaf, index, size * 2, &proof, &root);
        refused(&leaf, index, size / 2, &proof, &root);
        refused(
            &merkle::leaf_hash(b"another leaf"),
            index,
            size,
            &proof,
            &root,
        );
        refused(
            &leaf,
            index,
            size,
            &proof,
            &merkle::leaf_hash(b"another root"),
        );
        refused(&leaf, index, size, &proof, &merkle::root(&[]));
        for garbage in [leaf, root, [0u8; 32]] {
            let mut longer = proof.clone();
            longer.push(garbage);
            refused(&leaf, index, size, &longer, &root);
            let mut longer = vec![garbage];
            longer.extend(proof.iter().copied());
            refused(&leaf, index, size, &longer, &root);
        }
        for at in 0..proof.len() {
            for bit in [0, 7, 100, 255] {
                let mut bad = proof.clone();
                bad[at] = flip(&bad[at], bit);
                refused(&leaf, index, size, &bad, &root);
            }
            let mut shorter = proof.clone();
            shorter.remove(at);
            refused(&leaf, index, size, &shorter, &root);
            let mut longer = proof.clone();
            longer.insert(at, proof[at]);
            refused(&leaf, index, size, &longer, &root);
        }
    }

    for case in vectors["consistency_proofs"].as_array().unwrap() {
        let first = case["size1"].as_u64().unwrap();
        let second = case["size2"].as_u64().unwrap();
        let proof = hashes(&case["proof"]);
        let tree = merkle::Tree::new(leaf_hashes[..second as usize].to_vec());
        assert_eq!(tree.consistency_proof(first).unwrap(), proof, "{case}");
        let (r1, r2) = (root_of(first), root_of(second));
        assert_eq!(
            merkle::verify_consistency(first, second, &r1, &r2, &proof),
            Ok(())
        );
        let refused = |first: u64,
                       second: u64,
                       r1: &merkle::Hash,
                       r2: &merkle::Hash,
                       proof: &[merkle::Hash]| {
            assert!(
                merkle::verify_consistency(first, second, r1, r2, proof).is_err(),
                "{case}: {first} to {second} with {} hashes accepted",
                proof.len()
            );
        };
        if first != second {
            refused(first, second, &r2, &r2, &proof);
            refused(first, second, &r1, &r1, &proof);
            refused(first + 1, second, &r1, &r2, &proof);
            refused(first, second * 2, &r1, &r2, &proof);
            if first > 1 {
                refused(first - 1, second, &r1, &r2, &proof);
            }
        } else {
            refused(first, second, &r1, &merkle::leaf_hash(b"forked"), &proof);
        }
        refused(second + 1, second, &r1, &r2, &proof);
        for garbage in [r1, r2, [0u8; 32]] {
            let mut longer = proof.clone();
            longer.push(garbage);
            refused(first, second, &r1, &r2, &longer);
            let mut longer = vec![garbage];
            longer.extend(proof.iter().copied());
            refused(first, second, &r1, &r2, &longer);
        }
        for at in 0..proof.len() {
            for bit in [0, 9, 128, 255] {
                let mut bad = proof.clone();
                bad[at] = flip(&bad[at], bit);
                refused(first, second, &r1, &r2, &bad);
            }
            let mut shorter = proof.clone();
            shorter.remove(at);
            refused(first, second, &r1, &r2, &shorter);
        }
    }
}

//! Every way a proof can fail has its own reason: a table of (mutation of a good credential,
//! expected failure code), run for both cryptosuites.

#![allow(clippy::unwrap_used, clippy::panic)]

use chrono::{DateTime, Utc};
use corroborate_verifier::did::ProofPurpose;
use corroborate_verifier::did::{self, LocalResolver};
use corroborate_verifier::key::SecretKey;
use corroborate_verifier::proof::{self, Cryptosuite, ProofOptions};
use corroborate_verifier::verification::{
    Check, CheckOutcome, ProofChecks, Verdict, VerifyOptions, verify_credential,
};
use serde_json::{Value, json};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn key(n: u8) -> SecretKey {
    let mut seed = [0u8; 32];
    seed[31] = n;
    SecretKey::from_bytes(&seed)
}

fn did_of(key: &SecretKey) -> String {
    did::did_key_from_public_key(&key.public_key())
}

fn vm_of(key: &SecretKey) -> String {
    format!("{}#{}", did_of(key), key.public_key().to_multibase())
}

fn unsigned(issuer: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:1b7b1a4e-8c53-4b0e-9f3a-3f3c2f4f9a10",
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject", "claim": "value"}
    })
}

fn sign(document: &Value, signer: &SecretKey, vm: &str, suite: Cryptosuite) -> Value {
    let options = ProofOptions::assertion(suite, vm.to_owned(), at("2025-01-01T00:00:00Z"));
    pollster::block_on(proof::add_proof(document, signer, &options)).unwrap()
}

/// The code of the first failure in the report, or "valid".
fn outcome(credential: Value, when: &str) -> String {
    let report = pollster::block_on(verify_credential(
        credential,
        &VerifyOptions::at(at(when)),
        &LocalResolver,
    ));
    if report.verdict == Verdict::Valid {
        return "valid".into();
    }
    for check in &report.checks {
        if let CheckOutcome::Failed { failure } | CheckOutcome::NotChecked { reason: failure } =
            &check.outcome
        {
            let value = serde_json::to_value(failure).unwrap();
            let code = value["code"].as_str().unwrap().to_owned();
            return if check.check == Check::Proof {
                code
            } else {
                format!("{:?}:{code}", check.check)
            };
        }
    }
    panic!("not valid, and no failure: {report:?}")
}

const NOW: &str = "2025-06-01T00:00:00Z";

#[test]
fn each_failure_has_its_reason() {
    let issuer = key(1);
    let other = key(2);
    for suite in [Cryptosuite::EddsaJcs2022, Cryptosuite::EddsaRdfc2022] {
        let good = sign(&unsigned(&did_of(&issuer)), &issuer, &vm_of(&issuer), suite);
        let edit = |f: &dyn Fn(&mut Value)| {
            let mut doc = good.clone();
            f(&mut doc);
            doc
        };
        let cases: Vec<(&str, Value, &str)> = vec![
            ("untouched", good.clone(), "valid"),
            (
                "tampered claim",
                edit(&|d| d["credentialSubject"]["claim"] = json!("other")),
                "bad_signature",
            ),
            (
                "tampered proof date",
                edit(&|d| d["proof"]["created"] = json!("2025-01-02T00:00:00Z")),
                "bad_signature",
            ),
            (
                "signed by another key than its method names",
                sign(&unsigned(&did_of(&issuer)), &other, &vm_of(&issuer), suite),
                "bad_signature",
            ),
            (
                "key of someone other than the issuer",
                sign(&unsigned(&did_of(&issuer)), &other, &vm_of(&other), suite),
                "key_not_controlled_by",
            ),
            (
                "wrong proof purpose",
                edit(&|d| d["proof"]["proofPurpose"] = json!("authentication")),
                "wrong_proof_purpose",
            ),
            (
                "unsupported cryptosuite",
                edit(&|d| d["proof"]["cryptosuite"] = json!("ecdsa-rdfc-2019")),
                "unsupported_cryptosuite",
            ),
            (
                "unsupported proof type",
                edit(&|d| d["proof"]["type"] = json!("Ed25519Signature2020")),
                "unsupported_proof_type",
            ),
            (
                "unknown DID method",
                {
                    let mut doc = unsigned("did:example:issuer");
                    doc = sign(&doc, &issuer, "did:example:issuer#key-1", suite);
                    doc
                },
                "unknown_did_method",
            ),
            (
                "proof value not multibase",
                edit(&|d| d["proof"]["proofValue"] = json!("3xyz")),
                "malformed_proof_value",
            ),
            (
                "proof value bad base58",
                edit(&|d| d["proof"]["proofValue"] = json!("z0OIl")),
                "malformed_proof_value",
            ),
            (
                "proof value too short",
                edit(&|d| d["proof"]["proofValue"] = json!("z2YwC8z3ap7")),
                "malformed_proof_value",
            ),
            (
                "verification method key with a wrong multicodec",
                edit(&|d| {
                    let vm = "did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc#z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc";
                    d["issuer"] = json!("did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc");
                    d["proof"]["verificationMethod"] = json!(vm);
                }),
                "malformed_key",
            ),
            (
                "no proof",
                edit(&|d| {
                    d.as_object_mut().unwrap().remove("proof");
                }),
                "no_proof",
            ),
            (
                "proof missing purpose",
                edit(&|d| {
                    d["proof"].as_object_mut().unwrap().remove("proofPurpose");
                }),
                "malformed_proof",
            ),
            (
                "previousProof naming a missing proof",
                edit(&|d| d["proof"]["previousProof"] = json!("urn:uuid:missing")),
                "missing_previous_proof",
            ),
        ];
        for (name, credential, expected) in cases {
            assert_eq!(outcome(credential, NOW), expected, "{suite}: {name}");
        }
        // The validity period and the proof's creation time, against the injected time.
        let mut later = unsigned(&did_of(&issuer));
        later["validFrom"] = json!("2025-03-01T00:00:00Z");
        let later = sign(&later, &issuer, &vm_of(&issuer), suite);
        assert_eq!(
            outcome(later, "2025-02-01T00:00:00Z"),
            "ValidityPeriod:not_yet_valid",
            "{suite}"
        );
        assert_eq!(
            outcome(good.clone(), "2026-01-01T00:00:01Z"),
            "ValidityPeriod:expired",
            "{suite}"
        );
        // Within the allowed clock skew a proof from a second ahead passes (the credential does not
        // yet, for its own validFrom); a day ahead it does not.
        assert_eq!(
            outcome(good.clone(), "2024-12-31T23:59:59Z"),
            "ValidityPeriod:not_yet_valid",
            "{suite}"
        );
        assert_eq!(
            outcome(good.clone(), "2024-12-31T00:00:00Z"),
            "proof_created_in_future",
            "{suite}"
        );
        assert_eq!(
            outcome(good.clone(), "2025-01-01T00:00:00Z"),
            "valid",
            "{suite}: created exactly now is fine"
        );
    }
}

#[test]
fn a_proof_set_fails_when_any_proof_fails() {
    let issuer = key(1);
    let once = sign(
        &unsigned(&did_of(&issuer)),
        &issuer,
        &vm_of(&issuer),
        Cryptosuite::EddsaJcs2022,
    );
    let twice = sign(&once, &issuer, &vm_of(&issuer), Cryptosuite::EddsaRdfc2022);
    assert_eq!(twice["proof"].as_array().unwrap().len(), 2);
    assert_eq!(outcome(twice.clone(), NOW), "valid");
    let mut broken = twice;
    broken["proof"][1]["proofValue"] = broken["proof"][0]["proofValue"].clone();
    assert_eq!(outcome(broken, NOW), "bad_signature");
}

#[test]
fn jcs_proof_context_must_prefix_the_documents() {
    let issuer = key(1);
    let mut signed = sign(
        &unsigned(&did_of(&issuer)),
        &issuer,
        &vm_of(&issuer),
        Cryptosuite::EddsaJcs2022,
    );
    assert!(
        signed["proof"]["@context"].is_array(),
        "eddsa-jcs-2022 proofs carry the context"
    );
    signed["proof"]["@context"] = json!(["https://www.w3.org/ns/credentials/examples/v2"]);
    assert_eq!(outcome(signed, NOW), "malformed_proof");
}

#[test]
fn a_jcs_proof_configured_without_context_verifies() {
    // eddsa-jcs-2022's proof configuration is the proof minus its value; another implementation
    // may leave `@context` out of the proof, and then signed a configuration without it.
    let issuer = key(1);
    let document = unsigned(&did_of(&issuer));
    let config = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2025-01-01T00:00:00Z",
        "verificationMethod": vm_of(&issuer),
        "proofPurpose": "assertionMethod",
    });
    let hash = pollster::block_on(Cryptosuite::EddsaJcs2022.hash_data(&config, &document)).unwrap();
    let mut proof = config;
    proof["proofValue"] = json!(format!(
        "z{}",
        bs58::encode(issuer.sign(&hash)).into_string()
    ));
    let mut signed = document;
    signed["proof"] = proof;
    assert_eq!(outcome(signed, NOW), "valid");
}

#[test]
fn the_caller_sets_the_expected_purpose_challenge_and_domain() {
    let issuer = key(1);
    let good = sign(
        &unsigned(&did_of(&issuer)),
        &issuer,
        &vm_of(&issuer),
        Cryptosuite::EddsaJcs2022,
    );
    let check = |proof: ProofChecks| {
        let mut options = VerifyOptions::at(at(NOW));
        options.proof = proof;
        let report = pollster::block_on(verify_credential(good.clone(), &options, &LocalResolver));
        report.failures().first().map(|f| {
            serde_json::to_value(f).unwrap()["code"]
                .as_str()
                .unwrap()
                .to_owned()
        })
    };
    assert_eq!(check(ProofChecks::default()), None);
    let authentication = ProofChecks {
        purpose: ProofPurpose::Authentication,
        ..ProofChecks::default()
    };
    assert_eq!(
        check(authentication).as_deref(),
        Some("wrong_proof_purpose")
    );
    let challenge = ProofChecks {
        challenge: Some("abc".into()),
        ..ProofChecks::default()
    };
    assert_eq!(check(challenge).as_deref(), Some("challenge_mismatch"));
    let domain = ProofChecks {
        domain: Some("https://v.example".into()),
        ..ProofChecks::default()
    };
    assert_eq!(check(domain).as_deref(), Some("domain_mismatch"));
}

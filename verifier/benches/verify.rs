//! Verification costs, measured together so they can be compared as ratios (`docs/performance.md`).
//!
//! - `ed25519/verify_strict_32B`: one raw `ed25519-dalek` `verify_strict` of a 32-byte message,
//!   the unit every other figure is divided by;
//! - `credential/eddsa-jcs-2022` and `credential/eddsa-rdfc-2022`: [`verify_credential`] of the
//!   example bank attestation, signed with each suite;
//! - `proof/eddsa-rdfc-2022`: the same credential's proof only ([`proof::verify_proofs`]), which is
//!   what the JavaScript reference (`bench/js/verify-rdfc.mjs`) measures;
//! - `rdfc/canonicalize`: RDFC-1.0 of the unsigned credential alone, and
//!   `rdfc/canonicalize-ssi-plain` the same through `ssi`'s own pipeline, which processes the
//!   contexts on every call (what `proof::rdfc` did before it kept them processed);
//! - `decision/residence-3-jcs`: a three-attestation residence bundle (eddsa-jcs-2022), each
//!   credential verified as `corroborate decide` does, then the policy decision.
//!
//! Keys are the demo registry's: a 32-byte seed of zeros ending in the byte given.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Utc};
use corroborate_verifier::context::ShippedLoader;
use corroborate_verifier::credential::parse_date_time;
use corroborate_verifier::decision::{self, Context, Input};
use corroborate_verifier::did::{LocalResolver, ProofPurpose, did_key_from_public_key};
use corroborate_verifier::key::SecretKey;
use corroborate_verifier::policy::Policy;
use corroborate_verifier::proof::{self, Cryptosuite, Expectation, ProofOptions};
use corroborate_verifier::registry::FileRegistry;
use corroborate_verifier::verification::{DEFAULT_CLOCK_SKEW, VerifyOptions, verify_credential};
use criterion::{BatchSize, Criterion, black_box, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn seed(last: u8) -> SecretKey {
    let mut bytes = [0u8; 32];
    bytes[31] = last;
    SecretKey::from_bytes(&bytes)
}

fn now() -> DateTime<Utc> {
    parse_date_time("2025-03-01T00:00:00Z").unwrap()
}

/// An example credential without its status entry (the status check would make it
/// indeterminate, and it is not what is measured), signed by the key of seed `last`.
fn signed_example(name: &str, last: u8, suite: Cryptosuite) -> Value {
    let mut document = load(&format!("schemas/examples/{name}.json"));
    document.as_object_mut().unwrap().remove("credentialStatus");
    let key = seed(last);
    let did = did_key_from_public_key(&key.public_key());
    let method = format!("{did}#{}", key.public_key().to_multibase());
    let created = parse_date_time("2025-02-28T12:00:00Z").unwrap();
    let options = ProofOptions::assertion(suite, method, created);
    pollster::block_on(proof::add_proof(&document, &key, &options)).unwrap()
}

fn verify(value: Value, options: &VerifyOptions) -> bool {
    pollster::block_on(verify_credential(value, options, &LocalResolver)).is_valid()
}

fn raw_ed25519(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let message = [42u8; 32];
    let signature = key.sign(&message);
    let public = key.verifying_key();
    c.bench_function("ed25519/verify_strict_32B", |b| {
        b.iter(|| {
            public
                .verify_strict(black_box(&message), black_box(&signature))
                .unwrap()
        })
    });
}

fn credentials(c: &mut Criterion) {
    let options = VerifyOptions::at(now());
    for suite in [Cryptosuite::EddsaJcs2022, Cryptosuite::EddsaRdfc2022] {
        let signed = signed_example("residence-bank", 2, suite);
        assert!(
            verify(signed.clone(), &options),
            "{suite} credential does not verify"
        );
        c.bench_function(&format!("credential/{suite}"), |b| {
            b.iter_batched(
                || signed.clone(),
                |v| assert!(verify(v, &options)),
                BatchSize::SmallInput,
            )
        });
    }

    let signed = signed_example("residence-bank", 2, Cryptosuite::EddsaRdfc2022);
    let expect = Expectation {
        purpose: ProofPurpose::AssertionMethod,
        controller: None,
        at: now(),
        challenge: None,
        domain: None,
        max_proofs: 8,
        clock_skew: DEFAULT_CLOCK_SKEW,
    };
    c.bench_function("proof/eddsa-rdfc-2022", |b| {
        b.iter(|| {
            let results = pollster::block_on(proof::verify_proofs(
                black_box(&signed),
                &expect,
                &LocalResolver,
            ))
            .unwrap();
            assert!(proof::all_passed(&results));
        })
    });

    let mut unsigned = signed;
    unsigned.as_object_mut().unwrap().remove("proof");
    c.bench_function("rdfc/canonicalize", |b| {
        b.iter(|| {
            pollster::block_on(Cryptosuite::EddsaRdfc2022.canonicalize(black_box(&unsigned)))
                .unwrap()
        })
    });
    let ours = pollster::block_on(Cryptosuite::EddsaRdfc2022.canonicalize(&unsigned)).unwrap();
    assert_eq!(String::from_utf8(ours).unwrap(), ssi_plain(&unsigned));
    c.bench_function("rdfc/canonicalize-ssi-plain", |b| {
        b.iter(|| ssi_plain(black_box(&unsigned)))
    });
}

/// `ssi`'s own pipeline: expansion from the empty context, then canonical N-Quads.
fn ssi_plain(document: &Value) -> String {
    use ssi_json_ld::{CompactJsonLd, Expandable};
    use ssi_rdf::{AnyLdEnvironment, LdEnvironment};
    let json = json_syntax::Value::from_serde_json(document.clone());
    let expanded = pollster::block_on(CompactJsonLd(json).expand(&ShippedLoader)).unwrap();
    LdEnvironment::default()
        .canonical_form_of(&expanded)
        .unwrap()
        .concat()
}

fn residence_decision(c: &mut Criterion) {
    let policy = Policy::from_json(&load("schemas/policies/residence-municipality.json")).unwrap();
    let registry = FileRegistry::from_json(&load("schemas/registries/demo.json")).unwrap();
    let bundle = [
        signed_example("residence-utility", 1, Cryptosuite::EddsaJcs2022),
        signed_example("residence-bank", 2, Cryptosuite::EddsaJcs2022),
        signed_example("residence-neighbour", 3, Cryptosuite::EddsaJcs2022),
    ];
    let options = VerifyOptions {
        require_schema: true,
        ..VerifyOptions::at(now())
    };
    let context = Context::at(now());
    let decide = |bundle: [Value; 3]| {
        let inputs: Vec<Input> = bundle
            .into_iter()
            .map(|value| {
                let report = pollster::block_on(verify_credential(value, &options, &LocalResolver));
                Input {
                    failures: report.failures(),
                    credential: report.credential,
                }
            })
            .collect();
        decision::decide(&policy, &registry, &inputs, &context)
    };
    let decision = decide(bundle.clone());
    assert_eq!(
        decision.outcome,
        decision::Outcome::Established,
        "{}",
        decision.render_text()
    );
    c.bench_function("decision/residence-3-jcs", |b| {
        b.iter_batched(|| bundle.clone(), decide, BatchSize::SmallInput)
    });
}

criterion_group!(benches, raw_ed25519, credentials, residence_decision);
criterion_main!(benches);

//! Our RDFC-1.0 canonicalization (`proof::rdfc`, which reuses processed contexts) against the plain
//! `ssi` pipeline (`CompactJsonLd::expand` with the shipped loader, then
//! `LdEnvironment::canonical_form_of`): the canonical forms must be byte-identical, and a document
//! one refuses the other must refuse too, with the same message.
//!
//! The one intended difference is our refusal of terms that only the issuer-dependent `@vocab`
//! defines; where we refuse for that reason, the plain canonical form must show such a term.
//!
//! Inputs: every example credential in `schemas/examples/` (valid and invalid, unsigned, signed
//! with each suite, and the proof configurations), every JSON file of the specification's
//! vectors, hand-written documents that exercise context semantics (protected terms, scoped
//! contexts, propagation), and proptest variations of the example credentials.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use corroborate_verifier::context::{ISSUER_DEPENDENT_VOCAB, SHIPPED, ShippedLoader};
use corroborate_verifier::did::did_key_from_public_key;
use corroborate_verifier::failure::Failure;
use corroborate_verifier::key::SecretKey;
use corroborate_verifier::proof::{self, Cryptosuite, ProofOptions, rdfc};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use ssi_json_ld::{CompactJsonLd, Expandable};
use ssi_rdf::{AnyLdEnvironment, LdEnvironment};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// The comparison
// ---------------------------------------------------------------------------------------------

/// The plain `ssi` pipeline, with the error text our `Failure::JsonLd` carries.
fn plain(document: &Value) -> Result<String, String> {
    let json = json_syntax::Value::from_serde_json(document.clone());
    let expanded = pollster::block_on(CompactJsonLd(json).expand(&ShippedLoader))
        .map_err(|e| e.to_string())?;
    // ssi reports a failure to produce quads as an interpretation error, as our path does.
    let lines = LdEnvironment::default()
        .canonical_form_of(&expanded)
        .map_err(|e| ssi_json_ld::JsonLdError::Interpretation(e).to_string())?;
    Ok(lines.concat())
}

/// Compares both paths on `document`; returns whether the document canonicalized.
fn check(name: &str, document: &Value) -> bool {
    let expected = plain(document);
    let found = pollster::block_on(rdfc::canonicalize(document));
    match (expected, found) {
        (Ok(expected), Ok(found)) => {
            assert_eq!(
                found, expected,
                "{name}: canonical forms differ\n{document:#}"
            );
            true
        }
        (Ok(expected), Err(Failure::JsonLd { detail })) if detail.contains("issuer-dependent") => {
            assert!(
                expected.contains(ISSUER_DEPENDENT_VOCAB),
                "{name}: refused as issuer-dependent, but the plain form has no such term: {detail}\n{expected}"
            );
            false
        }
        (Ok(_), Err(failure)) => {
            panic!("{name}: plain ssi accepts, we refuse: {failure}\n{document:#}")
        }
        (Err(error), Ok(_)) => {
            panic!("{name}: plain ssi refuses ({error}), we accept\n{document:#}")
        }
        (Err(error), Err(Failure::JsonLd { detail })) => {
            assert_eq!(
                detail, error,
                "{name}: both refuse, for different reasons\n{document:#}"
            );
            false
        }
        (Err(error), Err(failure)) => {
            panic!("{name}: plain ssi refuses ({error}), we fail differently: {failure}")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed inputs
// ---------------------------------------------------------------------------------------------

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn seed(last: u8) -> SecretKey {
    let mut bytes = [0u8; 32];
    bytes[31] = last;
    SecretKey::from_bytes(&bytes)
}

/// `document` signed with `suite` by the key of seed 00…02, and the proof configuration that
/// proof was made over.
fn signed(document: &Value, suite: Cryptosuite) -> Option<(Value, Value)> {
    let key = seed(2);
    let method = format!(
        "{}#{}",
        did_key_from_public_key(&key.public_key()),
        key.public_key().to_multibase()
    );
    let created =
        corroborate_verifier::credential::parse_date_time("2025-02-28T12:00:00Z").unwrap();
    let options = ProofOptions::assertion(suite, method, created);
    let secured = pollster::block_on(proof::add_proof(document, &key, &options)).ok()?;
    let proof = match &secured["proof"] {
        Value::Array(proofs) => proofs.last(),
        proof => Some(proof),
    };
    let mut config = proof
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no proof: {secured:#}"))
        .clone();
    config.remove("proofValue");
    if let Some(context) = document.get("@context") {
        config.insert("@context".to_owned(), context.clone());
    }
    Some((secured, Value::Object(config)))
}

#[test]
fn example_credentials_signed_or_not() {
    let mut paths = Vec::new();
    json_files(&repo().join("schemas/examples"), &mut paths);
    assert!(paths.len() >= 7, "examples missing: {paths:?}");
    let mut canonicalized = 0;
    for path in &paths {
        let name = path.strip_prefix(repo()).unwrap().display().to_string();
        let document = read_json(path);
        canonicalized += usize::from(check(&name, &document));
        let mut without_status = document.clone();
        without_status
            .as_object_mut()
            .unwrap()
            .remove("credentialStatus");
        check(&format!("{name} without status"), &without_status);
        for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
            if let Some((secured, config)) = signed(&document, suite) {
                check(&format!("{name} signed {suite}"), &secured);
                check(&format!("{name} {suite} proof configuration"), &config);
            }
        }
    }
    assert!(
        canonicalized >= 7,
        "only {canonicalized} examples canonicalized"
    );
}

#[test]
fn specification_vectors() {
    let mut paths = Vec::new();
    json_files(
        &repo().join("verifier/tests/vectors/vc-di-eddsa"),
        &mut paths,
    );
    assert!(paths.len() >= 20, "vectors missing: {paths:?}");
    let mut canonicalized = 0;
    for path in &paths {
        let name = path.strip_prefix(repo()).unwrap().display().to_string();
        let mut document = read_json(path);
        if document.get("@context").is_none() {
            // Proof configurations of sets and chains: canonicalized with the document's context.
            let unsigned = read_json(&path.with_file_name("unsigned.json"));
            document["@context"] = unsigned["@context"].clone();
        }
        canonicalized += usize::from(check(&name, &document));
        if let Some(Value::Object(proof)) = document.get("proof") {
            // The proof as its own document, as Verify Proof canonicalizes it.
            let mut config = proof.clone();
            config.remove("proofValue");
            if let Some(context) = document.get("@context") {
                config.entry("@context").or_insert_with(|| context.clone());
            }
            check(
                &format!("{name} proof configuration"),
                &Value::Object(config),
            );
        }
    }
    assert!(
        canonicalized >= 20,
        "only {canonicalized} vectors canonicalized"
    );
}

const V2: &str = "https://www.w3.org/ns/credentials/v2";
const EXAMPLES: &str = "https://www.w3.org/ns/credentials/examples/v2";
const CORROBORATE: &str = "https://w3id.org/corroborate/v1";
const DATA_INTEGRITY: &str = "https://w3id.org/security/data-integrity/v2";

/// Documents that exercise what a cached context must not change: protected terms, type- and
/// property-scoped contexts, propagation, nested and null contexts.
#[test]
fn context_semantics() {
    let base = || {
        json!({
            "@context": [V2, CORROBORATE],
            "type": ["VerifiableCredential", "ResidenceAttestation"],
            "issuer": "did:example:issuer",
            "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:alice", "residence": {"since": "2021-09-01"}}
        })
    };
    let with = |edit: &dyn Fn(&mut Map<String, Value>)| {
        let mut document = base();
        edit(document.as_object_mut().unwrap());
        document
    };
    let cases: Vec<(&str, Value)> = vec![
        ("base", base()),
        ("context last", {
            let mut object = Map::new();
            for (k, v) in base()
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k != "@context")
            {
                object.insert(k.clone(), v.clone());
            }
            object.insert("@context".into(), json!([V2, CORROBORATE]));
            Value::Object(object)
        }),
        (
            "contexts swapped",
            with(&|o| {
                o.insert("@context".into(), json!([CORROBORATE, V2]));
            }),
        ),
        (
            "context repeated",
            with(&|o| {
                o.insert("@context".into(), json!([V2, CORROBORATE, V2]));
            }),
        ),
        (
            "single context string",
            with(&|o| {
                o.insert("@context".into(), json!(V2));
            }),
        ),
        (
            "empty context list",
            with(&|o| {
                o.insert("@context".into(), json!([]));
            }),
        ),
        (
            "null context",
            with(&|o| {
                o.insert("@context".into(), Value::Null);
            }),
        ),
        (
            "null after protected",
            with(&|o| {
                o.insert("@context".into(), json!([V2, null]));
            }),
        ),
        (
            "protected term redefined inline",
            with(&|o| {
                o.insert(
                    "@context".into(),
                    json!([V2, CORROBORATE, {"name": "https://example.org/name"}]),
                );
            }),
        ),
        (
            "protected term redefined identically",
            with(&|o| {
                o.insert(
                    "@context".into(),
                    json!([V2, CORROBORATE, {"name": "https://schema.org/name"}]),
                );
            }),
        ),
        (
            "inline term",
            with(&|o| {
                o.insert(
                    "@context".into(),
                    json!([V2, CORROBORATE, {"nickname": "https://example.org/nickname"}]),
                );
                o["credentialSubject"]["nickname"] = json!("Al");
            }),
        ),
        (
            "top-level propagate false",
            with(&|o| {
                o.insert(
                "@context".into(),
                json!([V2, CORROBORATE, {"@propagate": false, "nickname": "https://example.org/nickname"}]),
            );
                o["credentialSubject"]["nickname"] = json!("Al");
            }),
        ),
        (
            "top-level propagate false, single object",
            json!({
                "@context": {"@propagate": false, "name": "https://example.org/name", "knows": {"@id": "https://example.org/knows"}},
                "name": "top",
                "knows": {"@id": "https://example.org/bob", "https://example.org/age": 42}
            }),
        ),
        (
            "top-level propagate false, term out of scope in a nested node",
            json!({
                "@context": {"@propagate": false, "name": "https://example.org/name", "knows": {"@id": "https://example.org/knows"}},
                "name": "top",
                "knows": {"name": "nested"}
            }),
        ),
        (
            "nested context in subject",
            with(&|o| {
                o["credentialSubject"]["@context"] =
                    json!({"nickname": "https://example.org/nickname"});
                o["credentialSubject"]["nickname"] = json!("Al");
            }),
        ),
        (
            "nested context redefines protected term",
            with(&|o| {
                o["credentialSubject"]["@context"] =
                    json!({"residence": "https://example.org/residence"});
            }),
        ),
        (
            "nested null context",
            with(&|o| {
                o["credentialSubject"]["@context"] = Value::Null;
            }),
        ),
        (
            "type-scoped term outside its type",
            with(&|o| {
                o["credentialSubject"]["credentialSchema"] =
                    json!({"id": "https://example.org/s", "type": "JsonSchema"});
            }),
        ),
        (
            "type-scoped JsonSchema",
            with(&|o| {
                o.insert(
                    "credentialSchema".into(),
                    json!({"id": "https://example.org/s", "type": "JsonSchema"}),
                );
            }),
        ),
        (
            "status entry",
            with(&|o| {
                o.insert("credentialStatus".into(), json!({
                "id": "https://example.org/status#1", "type": "BitstringStatusListEntry",
                "statusPurpose": "message", "statusListIndex": "1",
                "statusListCredential": "https://example.org/status",
                "statusSize": 2,
                "statusMessage": [{"status": "0x0", "message": "ok"}, {"status": "0x1", "message": "no"}]
            }));
            }),
        ),
        (
            "embedded proof",
            with(&|o| {
                o.insert("proof".into(), json!({
                "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                "created": "2025-01-01T00:00:00Z", "verificationMethod": "did:example:issuer#key",
                "proofPurpose": "assertionMethod", "proofValue": "z111"
            }));
            }),
        ),
        (
            "presentation with credential",
            json!({
                "@context": [V2],
                "type": "VerifiablePresentation",
                "holder": "did:example:alice",
                "verifiableCredential": [base()]
            }),
        ),
        (
            "examples vocabulary",
            with(&|o| {
                o.insert("@context".into(), json!([V2, EXAMPLES]));
                o["credentialSubject"]["anything"] = json!("goes");
            }),
        ),
        (
            "examples vocabulary then corroborate",
            with(&|o| {
                o.insert("@context".into(), json!([V2, EXAMPLES, CORROBORATE]));
            }),
        ),
        (
            "data integrity context",
            with(&|o| {
                o.insert("@context".into(), json!([V2, DATA_INTEGRITY, CORROBORATE]));
            }),
        ),
        (
            "unknown context",
            with(&|o| {
                o.insert(
                    "@context".into(),
                    json!([V2, "https://example.org/context"]),
                );
            }),
        ),
        (
            "undefined term",
            with(&|o| {
                o["credentialSubject"]["undefinedTerm"] = json!(1);
            }),
        ),
        (
            "undefined type",
            with(&|o| {
                o.insert(
                    "type".into(),
                    json!(["VerifiableCredential", "UndefinedType"]),
                );
            }),
        ),
        (
            "language map",
            with(&|o| {
                o["credentialSubject"]["residence"]["address"] = json!({
                    "street": {"fr": "Rue de la Brasserie", "nl": ["Brouwerijstraat", "Brouwersstraat"], "@none": "x"},
                    "municipality": {"fr-BE": "Ixelles", "nl-BE": null}
                });
            }),
        ),
        ("top-level array", json!([base(), base()])),
        (
            "top-level graph",
            json!({"@context": [V2, CORROBORATE], "@graph": [base()]}),
        ),
        ("no context at all", json!({"https://example.org/p": "v"})),
        (
            "numbers",
            with(&|o| {
                o["credentialSubject"]["residence"]["address"] = json!({
                    "houseNumber": 27, "box": 1.5, "postalCode": -1e300, "country": true
                });
            }),
        ),
        (
            "inline context too long to be kept processed",
            with(&|o| {
                let terms: Map<String, Value> = (0..200)
                    .map(|i| {
                        (
                            format!("term{i}"),
                            json!(format!("https://example.org/term{i}")),
                        )
                    })
                    .collect();
                o.insert("@context".into(), json!([V2, CORROBORATE, terms]));
                o["credentialSubject"]["term7"] = json!("seven");
            }),
        ),
    ];
    let mut names = BTreeSet::new();
    for (name, document) in &cases {
        assert!(names.insert(*name), "duplicate case {name}");
        check(name, document);
    }
}

/// Our one intended difference: terms only the issuer-dependent `@vocab` defines are refused.
#[test]
fn issuer_dependent_terms_are_refused() {
    let vocab = json!({"@vocab": ISSUER_DEPENDENT_VOCAB});
    let property = json!({
        "@context": [V2, CORROBORATE, vocab],
        "type": ["VerifiableCredential", "ResidenceAttestation"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:alice", "favouriteColour": "green"}
    });
    let mut class = property.clone();
    class["credentialSubject"] = json!({"id": "did:example:alice", "type": "Neighbour"});
    for (name, document) in [("property", property), ("class", class)] {
        let plain = plain(&document).unwrap();
        assert!(plain.contains(ISSUER_DEPENDENT_VOCAB), "{name}: {plain}");
        match pollster::block_on(rdfc::canonicalize(&document)) {
            Err(Failure::JsonLd { detail }) => {
                assert!(detail.contains("issuer-dependent"), "{name}: {detail}")
            }
            other => panic!("{name}: not refused: {other:?}"),
        }
        assert!(!check(name, &document));
    }
}

// ---------------------------------------------------------------------------------------------
// Generated variations
// ---------------------------------------------------------------------------------------------

/// Every term the shipped contexts define, at any depth (type- and property-scoped ones too).
fn context_terms() -> &'static Vec<String> {
    static TERMS: OnceLock<Vec<String>> = OnceLock::new();
    TERMS.get_or_init(|| {
        fn walk(value: &Value, out: &mut BTreeSet<String>) {
            match value {
                Value::Object(object) => {
                    for (key, value) in object {
                        if !key.starts_with('@') {
                            out.insert(key.clone());
                        }
                        if let Some(scoped) = value.get("@context") {
                            walk(scoped, out);
                        }
                    }
                }
                Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
                _ => {}
            }
        }
        let mut terms = BTreeSet::new();
        for context in SHIPPED {
            let document: Value = serde_json::from_str(context.content).unwrap();
            walk(&document["@context"], &mut terms);
        }
        terms.into_iter().collect()
    })
}

fn examples() -> &'static Vec<Value> {
    static EXAMPLES: OnceLock<Vec<Value>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let mut paths = Vec::new();
        json_files(&repo().join("schemas/examples"), &mut paths);
        paths
            .iter()
            .filter(|p| !p.to_string_lossy().contains("invalid"))
            .map(|p| read_json(p))
            .collect()
    })
}

fn key() -> impl Strategy<Value = String> {
    let terms = context_terms().clone();
    prop_oneof![
        8 => prop::sample::select(terms),
        1 => prop::sample::select(vec!["id", "type", "@id", "@type", "@value", "@language", "@list", "@set", "@index"])
            .prop_map(str::to_owned),
        1 => "[a-z][a-zA-Z]{0,8}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{0,16}",
        any::<String>(),
        "(https://example\\.org/|did:example:|urn:uuid:|_:b)[a-z0-9]{1,6}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    let terms = context_terms().clone();
    prop_oneof![
        4 => text().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::from),
        1 => Just(Value::Null),
        1 => prop::sample::select(terms).prop_map(Value::from),
    ]
}

fn language_map() -> impl Strategy<Value = Value> {
    let tag = prop_oneof![
        "[a-z]{2}(-[A-Z]{2})?",
        "[A-Za-z0-9-]{1,10}",
        Just("@none".to_owned())
    ];
    let entry = prop_oneof![
        text().prop_map(Value::from),
        prop::collection::vec(text().prop_map(Value::from), 0..3).prop_map(Value::from),
        Just(Value::Null),
    ];
    prop::collection::btree_map(tag, entry, 0..4)
        .prop_map(|map| Value::Object(map.into_iter().collect()))
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(key(), inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
            language_map(),
        ]
    })
}

/// Where in a credential a generated entry goes.
const TARGETS: &[&str] = &[
    "",
    "/credentialSubject",
    "/credentialSubject/residence",
    "/credentialSubject/residence/address",
    "/credentialSubject/attesterRelation",
    "/credentialSubject/birth",
    "/issuer",
    "/evidence/0",
];

fn edits() -> impl Strategy<Value = Vec<(&'static str, String, Value)>> {
    prop::collection::vec((prop::sample::select(TARGETS), key(), value()), 0..5)
}

fn apply(mut document: Value, edits: &[(&str, String, Value)]) -> Value {
    for (target, key, value) in edits {
        if let Some(Value::Object(object)) = document.pointer_mut(target) {
            object.insert(key.clone(), value.clone());
        }
    }
    document
}

fn contexts() -> impl Strategy<Value = Value> {
    let urls = vec![V2, CORROBORATE, EXAMPLES, DATA_INTEGRITY];
    prop_oneof![
        4 => Just(json!([V2, CORROBORATE])),
        2 => prop::sample::subsequence(urls.clone(), 1..=4).prop_shuffle().prop_map(|u| json!(u)),
        1 => (prop::sample::subsequence(urls, 1..=3), key(), text())
            .prop_map(|(mut u, term, iri)| {
                let mut list: Vec<Value> = u.drain(..).map(Value::from).collect();
                list.push(json!({ term: iri }));
                Value::Array(list)
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    /// Example credentials with generated claims: both paths agree byte for byte.
    #[test]
    fn generated_claims(example in prop::sample::select(examples().clone()), edits in edits()) {
        let document = apply(example, &edits);
        check("generated claims", &document);
    }

    /// The same with generated top-level contexts (orders, subsets, inline definitions).
    #[test]
    fn generated_contexts(
        example in prop::sample::select(examples().clone()),
        context in contexts(),
        edits in edits(),
    ) {
        let mut document = apply(example, &edits);
        document["@context"] = context;
        check("generated contexts", &document);
    }

    /// Signed documents and proof configurations with generated claims.
    #[test]
    fn generated_signed(example in prop::sample::select(examples().clone()), edits in edits()) {
        let document = apply(example, &edits);
        if let Some((secured, config)) = signed(&document, Cryptosuite::EddsaRdfc2022) {
            check("generated signed", &secured);
            check("generated proof configuration", &config);
        }
    }
}

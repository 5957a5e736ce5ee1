//! Fact schemas, their examples and the Corroborate JSON-LD context, checked against each other.
//!
//! - every schema file is a valid draft 2020-12 schema, and every fact schema file is embedded;
//! - every example in `schemas/examples/` matches the schema of the fact type its `type` names;
//! - every example in `schemas/examples/invalid/` fails, at the place its name says;
//! - every term the schemas allow is defined by the VC 2.0 context or ours, and expands under
//!   JSON-LD without an undefined term.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use corroborate_verifier::schema::{
    self, CORROBORATE_V1_CONTEXT, CORROBORATE_V1_CONTEXT_URL, FACT_SCHEMAS, FACT_TYPES,
    SHARED_SCHEMAS,
};
use serde_json::Value;
use ssi_json_ld::syntax::Parse;
use ssi_json_ld::{CompactJsonLd, ContextLoader, Expandable};

/// Each invalid example, the JSON pointer of its one defect, and the keyword that must report it
/// there. Every violation found must lie at or under that pointer.
#[rustfmt::skip]
const INVALID: &[(&str, &str, &str)] = &[
    ("birth-impossible-date.json", "/credentialSubject/birth/date", "format"),
    ("birth-missing-mother.json", "/credentialSubject/birth", "required"),
    ("birth-time-not-hh-mm.json", "/credentialSubject/birth/time", "pattern"),
    ("parentage-parent-with-name.json", "/credentialSubject/parentage/parent", "additionalProperties"),
    ("parentage-unknown-relationship.json", "/credentialSubject/parentage/relationship", "enum"),
    ("residence-contexts-swapped.json", "/@context", "const"),
    ("residence-country-not-alpha2.json", "/credentialSubject/residence/address/country", "pattern"),
    ("residence-evidence-personal-data.json", "/evidence/0", "additionalProperties"),
    ("residence-inline-context.json", "/@context/2", "type"),
    ("residence-issuer-not-did.json", "/issuer", "pattern"),
    ("residence-missing-attester-relation.json", "/credentialSubject", "required"),
    ("residence-missing-fact-type.json", "/type", "contains"),
    ("residence-since-not-iso-date.json", "/credentialSubject/residence/since", "format"),
    ("residence-street-bad-language-tag.json", "/credentialSubject/residence/address/street", "propertyNames"),
    ("residence-street-too-long.json", "/credentialSubject/residence/address/street", "maxLength"),
    ("residence-two-subjects.json", "/credentialSubject", "type"),
    ("residence-unknown-address-field.json", "/credentialSubject/residence/address", "additionalProperties"),
    ("residence-unknown-role.json", "/credentialSubject/attesterRelation/role", "enum"),
    ("residence-unknown-subject-field.json", "/credentialSubject", "additionalProperties"),
    ("residence-valid-from-without-offset.json", "/validFrom", "pattern"),
];

/// Terms of the VC 2.0 context that our schemas use, and so must not be defined by ours.
#[rustfmt::skip]
const CREDENTIALS_V2_TERMS: &[&str] = &[
    "@context", "id", "type", "name", "description", "digestMultibase", "issuer", "validFrom",
    "validUntil", "credentialSubject", "credentialSchema", "credentialStatus", "evidence", "proof",
    "VerifiableCredential", "JsonSchema", "JsonSchemaCredential", "BitstringStatusListEntry",
    "statusPurpose", "statusListIndex", "statusListCredential", "statusSize", "DataIntegrityProof",
    "cryptosuite", "verificationMethod", "proofPurpose", "proofValue", "created", "expires",
    "domain", "challenge", "nonce", "previousProof",
];

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

fn examples_dir() -> PathBuf {
    schemas_dir().join("examples")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|name| name.to_str()).unwrap()
}

/// The example-name prefix of a fact type: `ResidenceAttestation` -> `residence`,
/// `LegalCohabitationAttestation` -> `legal-cohabitation`.
fn fact_prefix(fact_type: &str) -> String {
    let stem = fact_type.strip_suffix("Attestation").unwrap_or(fact_type);
    let mut prefix = String::new();
    for (i, c) in stem.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            prefix.push('-');
        }
        prefix.push(c.to_ascii_lowercase());
    }
    prefix
}

/// The fact type whose examples are named `<prefix>-<attester>.json`.
fn fact_type_named_by(file: &str) -> Option<&'static str> {
    FACT_TYPES
        .iter()
        .copied()
        .find(|fact_type| file.starts_with(&format!("{}-", fact_prefix(fact_type))))
}

#[test]
fn every_schema_file_is_a_valid_2020_12_schema() {
    let files = json_files(&schemas_dir());
    assert!(files.len() >= FACT_SCHEMAS.len() + SHARED_SCHEMAS.len());
    for path in files {
        let schema = read_json(&path);
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema",
            "{} must declare draft 2020-12",
            path.display()
        );
        let errors: Vec<String> = jsonschema::draft202012::meta::validator()
            .iter_errors(&schema)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

#[test]
fn every_fact_schema_file_is_listed_and_named_after_its_fact_type() {
    let embedded: BTreeSet<&str> = FACT_SCHEMAS
        .iter()
        .map(|fact| &fact.schema)
        .chain(SHARED_SCHEMAS)
        .map(|source| source.file)
        .collect();
    // A fact schema file that is not in FACT_SCHEMAS would never be applied.
    for path in json_files(&schemas_dir()) {
        let name = file_name(&path);
        if name.ends_with("-attestation.json") {
            assert!(
                embedded.contains(name),
                "{name} is not listed in FACT_SCHEMAS"
            );
        }
    }
    for fact in FACT_SCHEMAS {
        // `ResidenceAttestation` → residence-attestation.json; other credential types (the
        // derived status) → their whole name: derived-status-credential.json.
        let expected = if fact.fact_type.ends_with("Attestation") {
            format!("{}-attestation.json", fact_prefix(fact.fact_type))
        } else {
            format!("{}.json", fact_prefix(fact.fact_type))
        };
        assert_eq!(fact.schema.file, expected);
        let schema: Value = serde_json::from_str(fact.schema.text).unwrap();
        assert_eq!(schema["title"], fact.fact_type);
        assert_eq!(
            schema["properties"]["type"]["items"]["enum"],
            serde_json::json!(["VerifiableCredential", fact.fact_type]),
            "{}",
            fact.schema.file
        );
    }
}

#[test]
fn every_example_matches_the_schema_of_its_fact_type() {
    let mut checked: BTreeMap<&str, usize> = BTreeMap::new();
    for path in json_files(&examples_dir()) {
        let name = file_name(&path);
        // Other files (policy examples, say) may share the folder: ours are named after a fact.
        let Some(named) = fact_type_named_by(name) else {
            continue;
        };
        let credential = read_json(&path);
        let fact_type = schema::fact_type_of(&credential)
            .unwrap_or_else(|| panic!("{name}: its type names no single fact type"));
        assert_eq!(fact_type, named, "{name}: its name and its type disagree");
        if let Err(error) = schema::validate(fact_type, &credential) {
            panic!("{name}: {error}");
        }
        *checked.entry(fact_type).or_default() += 1;
    }
    for fact_type in FACT_TYPES {
        assert!(checked.contains_key(fact_type), "no example of {fact_type}");
    }
    assert!(checked.values().sum::<usize>() >= 7, "{checked:?}");
}

#[test]
fn a_signed_credential_matches_too() {
    let proof = serde_json::json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2025-01-15T10:00:00Z",
        "verificationMethod": "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG#z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG",
        "proofPurpose": "assertionMethod",
        "proofValue": "z2YwC8z3ap7yx1nZYCg4L3j3ApHsF8kgPdSb5xoS1VR7vPG3F561B52hYnQF9iseabecm3ijx4K1FBTQsCZahKZme"
    });
    let mut credential = read_json(&examples_dir().join("residence-utility.json"));
    credential["proof"] = proof.clone();
    assert_eq!(
        schema::validate("ResidenceAttestation", &credential),
        Ok(())
    );
    credential["proof"] = serde_json::json!([proof.clone(), proof]);
    assert_eq!(
        schema::validate("ResidenceAttestation", &credential),
        Ok(())
    );
    credential["proof"] = serde_json::json!({"type": "DataIntegrityProof"});
    let error = schema::validate("ResidenceAttestation", &credential).unwrap_err();
    assert!(
        error
            .violations()
            .iter()
            .all(|v| v.instance_path == "/proof"),
        "{error}"
    );
}

#[test]
fn every_invalid_example_fails_where_its_name_says() {
    let files: BTreeSet<String> = json_files(&examples_dir().join("invalid"))
        .iter()
        .map(|path| file_name(path).to_owned())
        .collect();
    let listed: BTreeSet<String> = INVALID
        .iter()
        .map(|(file, ..)| (*file).to_owned())
        .collect();
    assert_eq!(
        files, listed,
        "every invalid example needs its expectation in INVALID"
    );

    for (file, pointer, keyword) in INVALID {
        let credential = read_json(&examples_dir().join("invalid").join(file));
        let fact_type =
            fact_type_named_by(file).unwrap_or_else(|| panic!("{file}: no fact prefix"));
        let Err(error) = schema::validate(fact_type, &credential) else {
            panic!("{file} must not match the {fact_type} schema");
        };
        let at_or_under = |path: &str| {
            path == *pointer
                || path
                    .strip_prefix(pointer)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        let violations = error.violations();
        assert!(
            violations
                .iter()
                .any(|v| at_or_under(&v.instance_path) && v.keyword == *keyword),
            "{file}: expected {keyword} at {pointer}, got {error}"
        );
        assert!(
            violations.iter().all(|v| at_or_under(&v.instance_path)),
            "{file}: one defect, yet violations elsewhere: {error}"
        );
        assert!(
            !error.to_string().contains("Marie Dubois"),
            "{file}: {error}"
        );
    }
}

/// Property names under `properties` and strings that a `type` property may take, at any depth.
fn terms_allowed_by(schema: &Value, terms: &mut BTreeSet<String>) {
    match schema {
        Value::Object(fields) => {
            if let Some(Value::Object(properties)) = fields.get("properties") {
                terms.extend(properties.keys().cloned());
                if let Some(type_schema) = properties.get("type") {
                    collect_type_values(type_schema, terms);
                }
            }
            fields.values().for_each(|v| terms_allowed_by(v, terms));
        }
        Value::Array(items) => items.iter().for_each(|v| terms_allowed_by(v, terms)),
        _ => {}
    }
}

fn collect_type_values(schema: &Value, terms: &mut BTreeSet<String>) {
    match schema {
        Value::Object(fields) => {
            for (key, value) in fields {
                match (key.as_str(), value) {
                    ("const", Value::String(s)) => {
                        terms.insert(s.clone());
                    }
                    ("enum", Value::Array(values)) => {
                        terms.extend(values.iter().filter_map(Value::as_str).map(str::to_owned));
                    }
                    _ => collect_type_values(value, terms),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_type_values(v, terms)),
        _ => {}
    }
}

#[test]
fn the_context_defines_every_term_the_schemas_allow_and_no_other() {
    let context: Value = serde_json::from_str(CORROBORATE_V1_CONTEXT).unwrap();
    let definitions = context["@context"].as_object().unwrap();
    let ours: BTreeSet<String> = definitions
        .keys()
        .filter(|key| !key.starts_with('@'))
        .cloned()
        .collect();
    for term in &ours {
        assert!(
            !CREDENTIALS_V2_TERMS.contains(&term.as_str()),
            "{term} is defined (and protected) by the VC 2.0 context"
        );
    }

    let mut allowed = BTreeSet::new();
    for source in FACT_SCHEMAS
        .iter()
        .map(|fact| &fact.schema)
        .chain(SHARED_SCHEMAS)
    {
        terms_allowed_by(&serde_json::from_str(source.text).unwrap(), &mut allowed);
    }
    // Enumerated claim values (roles, relationships, purposes) are plain literals, not terms.
    let plain_values = ["assertionMethod", "revocation", "suspension"];
    let undefined: Vec<&String> = allowed
        .iter()
        .filter(|term| !ours.contains(*term) && !CREDENTIALS_V2_TERMS.contains(&term.as_str()))
        .filter(|term| !plain_values.contains(&term.as_str()))
        .collect();
    assert!(
        undefined.is_empty(),
        "terms without a definition: {undefined:?}"
    );
    let unused: Vec<&String> = ours.difference(&allowed).collect();
    assert!(
        unused.is_empty(),
        "context terms no schema allows: {unused:?}"
    );

    for (term, definition) in definitions {
        let iri = definition.as_str().or_else(|| definition["@id"].as_str());
        if let Some(iri) = iri {
            assert_eq!(
                iri,
                format!("https://w3id.org/corroborate#{term}"),
                "{term}"
            );
        }
    }
}

fn expand(document: &Value) -> Result<(), String> {
    let loader = ContextLoader::empty()
        .with_static_loader()
        .with_context_map_from(HashMap::from([(
            CORROBORATE_V1_CONTEXT_URL.to_owned(),
            CORROBORATE_V1_CONTEXT.to_owned(),
        )]))
        .map_err(|e| e.to_string())?;
    let (value, _) =
        ssi_json_ld::syntax::Value::parse_str(&document.to_string()).map_err(|e| e.to_string())?;
    pollster::block_on(CompactJsonLd(value).expand(&loader))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn every_example_expands_without_an_undefined_term() {
    // ssi's expansion refuses undefined terms, and its copy of the VC 2.0 context has no
    // `@vocab` to catch them: a term missing from our context fails here.
    for path in json_files(&examples_dir()) {
        if fact_type_named_by(file_name(&path)).is_some() {
            let credential = read_json(&path);
            if let Err(error) = expand(&credential) {
                panic!("{}: {error}", path.display());
            }
        }
    }
    let mut undefined = read_json(&examples_dir().join("residence-bank.json"));
    undefined["credentialSubject"]["residence"]["floor"] = "2".into();
    assert!(
        expand(&undefined).is_err(),
        "an undefined term must not expand"
    );
}

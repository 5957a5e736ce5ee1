//! Fact schemas: the JSON Schema (draft 2020-12) of every fact credential, and the JSON-LD context
//! that gives their terms a meaning.
//!
//! The schema files live in `schemas/` at the repository root and are embedded here at build time,
//! so checking a credential needs no file or network access. Each fact schema validates a whole
//! credential (signed or not); schemas shared by several fact types (`address.json`,
//! `credential-parts.json`) are put in an in-memory registry under their `$id`, and every `$ref`
//! resolves there: a reference to anything else fails when the validators are compiled, never at
//! run time. Validators are compiled once, on first use.
//!
//! Adding a fact type is data: a schema file, its terms in the context, and a policy. The only line
//! of Rust is its entry in [`FACT_SCHEMAS`], from which [`FACT_TYPES`] is derived.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::Value;

/// The URL that identifies the Corroborate JSON-LD context in a credential's `@context`.
pub const CORROBORATE_V1_CONTEXT_URL: &str = "https://w3id.org/corroborate/v1";

/// The Corroborate JSON-LD context document, pinned: it is shipped with the code, never fetched.
pub const CORROBORATE_V1_CONTEXT: &str = include_str!("../contexts/corroborate-v1.jsonld");

/// The URL of the W3C Verifiable Credentials 2.0 context, which every fact credential lists first.
pub const CREDENTIALS_V2_CONTEXT_URL: &str = "https://www.w3.org/ns/credentials/v2";

/// Where the schemas' `$id`s live: `<base><file name>`.
pub const SCHEMA_BASE_URL: &str = "https://w3id.org/corroborate/schemas/";

/// A schema document as shipped: its file name under `schemas/` and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaSource {
    /// File name under `schemas/`; the schema's `$id` is [`SCHEMA_BASE_URL`] followed by it.
    pub file: &'static str,
    /// The JSON text of the schema.
    pub text: &'static str,
}

/// A fact type and the schema its credentials must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactSchema {
    /// The credential `type` that names the fact, e.g. `ResidenceAttestation`.
    pub fact_type: &'static str,
    /// Its schema.
    pub schema: SchemaSource,
}

macro_rules! schema_source {
    ($file:literal) => {
        SchemaSource {
            file: $file,
            text: include_str!(concat!("../../schemas/", $file)),
        }
    };
}

/// Every credential type with a schema: the fact types attesters sign, and the status credential
/// a government verifier derives from them. The one place to list a new fact type.
pub const FACT_SCHEMAS: &[FactSchema] = &[
    FactSchema {
        fact_type: "ResidenceAttestation",
        schema: schema_source!("residence-attestation.json"),
    },
    FactSchema {
        fact_type: "BirthAttestation",
        schema: schema_source!("birth-attestation.json"),
    },
    FactSchema {
        fact_type: "ParentageAttestation",
        schema: schema_source!("parentage-attestation.json"),
    },
    FactSchema {
        fact_type: "DerivedStatusCredential",
        schema: schema_source!("derived-status-credential.json"),
    },
];

/// Schemas that fact schemas reference (`$ref`) but that describe no credential of their own.
pub const SHARED_SCHEMAS: &[SchemaSource] = &[
    schema_source!("credential-parts.json"),
    schema_source!("address.json"),
];

const FACT_TYPE_NAMES: [&str; FACT_SCHEMAS.len()] = {
    let mut names = [""; FACT_SCHEMAS.len()];
    let mut i = 0;
    while i < FACT_SCHEMAS.len() {
        names[i] = FACT_SCHEMAS[i].fact_type;
        i += 1;
    }
    names
};

/// The fact types this verifier knows, in the order of [`FACT_SCHEMAS`].
pub const FACT_TYPES: &[&str] = &FACT_TYPE_NAMES;

/// At most this many violations are reported for one credential; the rest are only counted, so
/// that a hostile input cannot make the report grow without bound.
pub const MAX_REPORTED_VIOLATIONS: usize = 100;

/// One way in which a credential does not match its fact schema.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Violation {
    /// JSON pointer (RFC 6901) to the offending value in the credential; empty for the whole
    /// credential. A missing property is reported at the object that should hold it.
    pub instance_path: String,
    /// The schema keyword that failed: `required`, `additionalProperties`, `pattern`, `format`...
    pub keyword: String,
    /// Where the failing keyword is: an absolute URI with a JSON pointer fragment, e.g.
    /// `https://w3id.org/corroborate/schemas/credential-parts.json#/$defs/countryCode/pattern`.
    pub schema_location: String,
    /// What is wrong, in words. The offending value itself is left out (it is personal data); a
    /// property name that is not allowed is named.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.instance_path.is_empty() {
            "(credential)"
        } else {
            &self.instance_path
        };
        write!(f, "{path}: {}", self.message)
    }
}

/// Why a credential could not be shown to match its fact schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The fact type is not one of [`FACT_TYPES`]: there is nothing to check against.
    #[error("unknown fact type {fact_type:?} (known: {})", FACT_TYPES.join(", "))]
    UnknownFactType {
        /// The fact type that was asked for.
        fact_type: String,
    },
    /// The credential was checked and does not match: every violation found, sorted by path.
    #[error(
        "credential does not match the {fact_type} schema ({} violation{}): {}{}",
        violations.len() + omitted,
        if violations.len() + omitted == 1 { "" } else { "s" },
        join(violations),
        if *omitted > 0 { format!("; and {omitted} more") } else { String::new() }
    )]
    Invalid {
        /// The fact type whose schema was applied.
        fact_type: String,
        /// The violations, sorted by instance path; at most [`MAX_REPORTED_VIOLATIONS`].
        violations: Vec<Violation>,
        /// How many further violations were found but not reported.
        omitted: usize,
    },
    /// The embedded schema did not compile, so nothing was checked. A build defect that the
    /// crate's own tests catch; reported rather than panicking, and never read as a pass.
    #[error("the embedded schema of {fact_type} is unusable: {reason}")]
    Unavailable {
        /// The fact type whose schema failed to compile.
        fact_type: String,
        /// The compiler's message.
        reason: String,
    },
}

impl SchemaError {
    /// The violations, when the credential was checked and found not to match; empty otherwise.
    pub fn violations(&self) -> &[Violation] {
        match self {
            SchemaError::Invalid { violations, .. } => violations,
            _ => &[],
        }
    }
}

/// The compiled validator of a fact type, or `None` when the fact type is unknown (or, a build
/// defect, its schema did not compile: [`validate`] tells the two apart).
pub fn schema_for(fact_type: &str) -> Option<&'static Validator> {
    let index = FACT_TYPES.iter().position(|known| *known == fact_type)?;
    catalog().validators.get(index)?.as_ref().ok()
}

/// Checks a whole credential against the schema of `fact_type`, reporting every violation.
pub fn validate(fact_type: &str, credential: &Value) -> Result<(), SchemaError> {
    let Some(index) = FACT_TYPES.iter().position(|known| *known == fact_type) else {
        return Err(SchemaError::UnknownFactType {
            fact_type: fact_type.to_owned(),
        });
    };
    let catalog = catalog();
    let validator = match catalog.validators.get(index) {
        Some(Ok(validator)) => validator,
        Some(Err(reason)) => {
            return Err(SchemaError::Unavailable {
                fact_type: fact_type.to_owned(),
                reason: reason.clone(),
            });
        }
        None => {
            return Err(SchemaError::Unavailable {
                fact_type: fact_type.to_owned(),
                reason: "no validator was compiled".to_owned(),
            });
        }
    };

    let mut violations = Vec::new();
    let mut omitted = 0;
    for error in validator.iter_errors(credential) {
        if violations.len() < MAX_REPORTED_VIOLATIONS {
            violations.push(violation(&error, catalog));
        } else {
            omitted += 1;
        }
    }
    if violations.is_empty() {
        return Ok(());
    }
    violations.sort();
    violations.dedup();
    Err(SchemaError::Invalid {
        fact_type: fact_type.to_owned(),
        violations,
        omitted,
    })
}

/// The fact type a credential claims to be: the one entry of its `type` array that is a known fact
/// type. `None` when it names none, or more than one.
pub fn fact_type_of(credential: &Value) -> Option<&'static str> {
    let types = credential.get("type")?.as_array()?;
    let mut found = types
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|name| FACT_TYPES.iter().copied().find(|known| *known == name));
    let first = found.next()?;
    // A repeated name is not a second fact type; the schema rejects the repetition itself.
    if found.any(|other| other != first) {
        return None;
    }
    Some(first)
}

fn violation(error: &ValidationError<'_>, catalog: &Catalog) -> Violation {
    let schema_location = error.absolute_keyword_location().map_or_else(
        || error.schema_path().as_str().to_owned(),
        |uri| uri.as_str().to_owned(),
    );
    // The library's own text for these leaves out what was expected along with the value.
    let message = match error.kind() {
        ValidationErrorKind::Contains => {
            required_entry(catalog, &schema_location).map(|entry| format!("has no entry {entry}"))
        }
        _ => None,
    };
    Violation {
        instance_path: error.instance_path().as_str().to_owned(),
        keyword: error.kind().keyword().to_owned(),
        message: message.unwrap_or_else(|| error.masked().to_string()),
        schema_location,
    }
}

/// The `const` a failed `contains` keyword asked for, found in the schema document itself.
fn required_entry(catalog: &Catalog, schema_location: &str) -> Option<String> {
    let (id, pointer) = schema_location.split_once('#')?;
    let contains = catalog.documents.get(id)?.pointer(pointer)?;
    Some(contains.get("const")?.to_string())
}

fn join(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(Violation::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The compiled fact schemas and the parsed schema documents, built once.
struct Catalog {
    /// One entry per [`FACT_SCHEMAS`] entry, in the same order.
    validators: Vec<Result<Validator, String>>,
    /// Every schema document by `$id`, to explain a violation from the keyword that raised it.
    documents: HashMap<String, Value>,
}

static CATALOG: OnceLock<Catalog> = OnceLock::new();

fn catalog() -> &'static Catalog {
    CATALOG.get_or_init(compile_all)
}

fn compile_all() -> Catalog {
    let documents: HashMap<String, Value> = FACT_SCHEMAS
        .iter()
        .map(|fact| &fact.schema)
        .chain(SHARED_SCHEMAS)
        .filter_map(|source| Some((schema_id(source), parse(source).ok()?)))
        .collect();
    let validators = match shared_registry() {
        Ok(registry) => FACT_SCHEMAS
            .iter()
            .map(|fact| compile(&fact.schema, &registry))
            .collect(),
        Err(reason) => FACT_SCHEMAS.iter().map(|_| Err(reason.clone())).collect(),
    };
    Catalog {
        validators,
        documents,
    }
}

fn shared_registry() -> Result<Registry<'static>, String> {
    let mut builder = Registry::new().draft(Draft::Draft202012);
    for source in SHARED_SCHEMAS {
        let schema = parse(source)?;
        builder = builder
            .add(schema_id(source), schema)
            .map_err(|error| format!("{}: {error}", source.file))?;
    }
    builder
        .prepare()
        .map_err(|error| format!("shared schemas: {error}"))
}

fn compile(source: &SchemaSource, registry: &Registry<'_>) -> Result<Validator, String> {
    let schema = parse(source)?;
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(registry)
        .offline()
        // `format` is only an annotation in 2020-12 unless asked for; dates must be real dates.
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .build(&schema)
        .map_err(|error| format!("{}: {error}", source.file))
}

fn parse(source: &SchemaSource) -> Result<Value, String> {
    serde_json::from_str(source.text).map_err(|error| format!("{}: {error}", source.file))
}

fn schema_id(source: &SchemaSource) -> String {
    format!("{SCHEMA_BASE_URL}{}", source.file)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fact_types_follow_the_schema_table() {
        assert_eq!(
            FACT_TYPES,
            [
                "ResidenceAttestation",
                "BirthAttestation",
                "ParentageAttestation",
                "DerivedStatusCredential"
            ]
        );
    }

    #[test]
    fn every_fact_schema_compiles() {
        assert_eq!(catalog().validators.len(), FACT_SCHEMAS.len());
        assert_eq!(
            catalog().documents.len(),
            FACT_SCHEMAS.len() + SHARED_SCHEMAS.len()
        );
        for (fact, validator) in FACT_SCHEMAS.iter().zip(&catalog().validators) {
            if let Err(reason) = validator {
                panic!("{}: {reason}", fact.fact_type);
            }
            assert!(schema_for(fact.fact_type).is_some());
        }
    }

    #[test]
    fn every_schema_id_matches_its_file() {
        let all = FACT_SCHEMAS.iter().map(|f| &f.schema).chain(SHARED_SCHEMAS);
        for source in all {
            let schema: Value = serde_json::from_str(source.text).unwrap();
            assert_eq!(schema["$id"], json!(schema_id(source)), "{}", source.file);
            assert_eq!(
                schema["$schema"],
                json!("https://json-schema.org/draft/2020-12/schema"),
                "{}",
                source.file
            );
        }
    }

    #[test]
    fn unknown_fact_type_is_its_own_error() {
        let error = validate("MarriageAttestation", &json!({})).unwrap_err();
        assert_eq!(
            error,
            SchemaError::UnknownFactType {
                fact_type: "MarriageAttestation".into()
            }
        );
        assert!(schema_for("MarriageAttestation").is_none());
        assert!(error.to_string().contains("ResidenceAttestation"));
    }

    #[test]
    fn reports_every_violation_with_its_path() {
        let error = validate(
            "ResidenceAttestation",
            &json!({
                "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/corroborate/v1"],
                "type": ["VerifiableCredential", "ResidenceAttestation"],
                "issuer": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
                "validFrom": "yesterday",
                "credentialSubject": {
                    "id": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
                    "attesterRelation": { "role": "cousin" },
                    "residence": { "since": "2021-09-01" },
                    "nationalRegisterNumber": "85.07.30-033.61"
                }
            }),
        )
        .unwrap_err();
        let found: Vec<(&str, &str)> = error
            .violations()
            .iter()
            .map(|v| (v.instance_path.as_str(), v.keyword.as_str()))
            .collect();
        for expected in [
            ("/validFrom", "pattern"),
            ("/validFrom", "format"),
            ("/credentialSubject", "additionalProperties"),
            ("/credentialSubject/attesterRelation/role", "enum"),
            ("/credentialSubject/residence", "required"),
        ] {
            assert!(found.contains(&expected), "{expected:?} not in {found:?}");
        }
        let text = error.to_string();
        assert!(text.contains("nationalRegisterNumber"), "{text}");
        // The offending values are personal data: messages name the place, not the value.
        assert!(!text.contains("85.07.30"), "{text}");
        assert!(!text.contains("cousin"), "{text}");
    }

    #[test]
    fn a_missing_type_entry_is_named() {
        let error = validate(
            "BirthAttestation",
            &json!({"type": ["VerifiableCredential"], "evidence": [{"type": ["RecordEvidence"]}]}),
        )
        .unwrap_err();
        let messages: Vec<String> = error
            .violations()
            .iter()
            .map(Violation::to_string)
            .collect();
        assert!(
            messages.contains(&r#"/type: has no entry "BirthAttestation""#.to_owned()),
            "{messages:?}"
        );
        assert!(
            messages.contains(&r#"/evidence/0/type: has no entry "Evidence""#.to_owned()),
            "{messages:?}"
        );
    }

    #[test]
    fn fact_type_comes_from_the_type_array() {
        let check = |credential: Value, expected: Option<&str>| {
            assert_eq!(fact_type_of(&credential), expected, "{credential}");
        };
        check(
            json!({"type": ["VerifiableCredential", "BirthAttestation"]}),
            Some("BirthAttestation"),
        );
        check(json!({"type": ["VerifiableCredential"]}), None);
        check(json!({"type": "BirthAttestation"}), None);
        check(
            json!({"type": ["VerifiableCredential", "BirthAttestation", "ParentageAttestation"]}),
            None,
        );
        check(json!({}), None);
    }

    #[test]
    fn context_constants_agree() {
        let context: Value = serde_json::from_str(CORROBORATE_V1_CONTEXT).unwrap();
        assert_eq!(context["@context"]["@protected"], json!(true));
        for fact_type in FACT_TYPES {
            assert_eq!(
                context["@context"][fact_type],
                json!(format!("https://w3id.org/corroborate#{fact_type}")),
                "the context must define {fact_type}"
            );
        }
    }
}

//! The W3C Verifiable Credentials 2.0 data model: one parsed document, checked once.
//!
//! A [`Credential`] keeps the JSON exactly as parsed (the proof check hashes it) and typed views of
//! the fields the policy reads, so both read the same parse. [`Credential::from_value`] enforces the
//! data model's rules, including the ones verifiers commonly skip: every `credentialSchema`,
//! `credentialStatus`, `refreshService`, `evidence` and `termsOfUse` entry has a `type`;
//! `relatedResource` digests are well formed; `validFrom`/`validUntil` are XML Schema
//! `dateTimeStamp`s (a time zone is required).

use crate::context;
use crate::failure::Failure;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The base context every VC 2.0 document names first.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";

/// A credential that passed the data-model checks (not yet its proof).
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    json: Value,
    id: Option<String>,
    types: Vec<String>,
    issuer: String,
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    subjects: Vec<Map<String, Value>>,
    /// SHA-256 of the JCS form of the document without `proof`, computed at most once: the
    /// fingerprint, and the document hash of a single eddsa-jcs-2022 proof.
    content_hash: std::sync::OnceLock<[u8; 32]>,
}

impl Credential {
    /// Checks `json` against the data model and keeps it.
    pub fn from_value(json: Value) -> Result<Self, Failure> {
        let object = json
            .as_object()
            .ok_or_else(|| malformed("a credential must be a JSON object"))?;
        check_contexts(object)?;
        let types = string_set(object.get("type"), "type")?;
        if !types.iter().any(|t| t == "VerifiableCredential") {
            return Err(malformed("`type` must include \"VerifiableCredential\""));
        }
        let id = optional_url(object, "id")?;
        let issuer = match object.get("issuer") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(o)) => match o.get("id") {
                Some(Value::String(s)) => s.clone(),
                _ => return Err(malformed("an `issuer` object must have a string `id`")),
            },
            Some(_) => {
                return Err(malformed(
                    "`issuer` must be a URL or an object with an `id`",
                ));
            }
            None => return Err(malformed("`issuer` is required")),
        };
        if !is_url(&issuer) {
            return Err(malformed(format!("`issuer` {issuer:?} is not a URL")));
        }
        let valid_from = optional_date_time(object, "validFrom")?;
        let valid_until = optional_date_time(object, "validUntil")?;
        if let (Some(from), Some(until)) = (valid_from, valid_until)
            && until < from
        {
            return Err(malformed("`validUntil` is earlier than `validFrom`"));
        }
        let subjects = match object.get("credentialSubject") {
            Some(Value::Object(o)) => vec![o.clone()],
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|item| {
                    item.as_object()
                        .cloned()
                        .ok_or_else(|| malformed("each `credentialSubject` must be an object"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(malformed(
                    "`credentialSubject` must be an object or a non-empty array of objects",
                ));
            }
            None => return Err(malformed("`credentialSubject` is required")),
        };
        for subject in &subjects {
            if subject.is_empty() {
                return Err(malformed(
                    "a `credentialSubject` must make at least one claim",
                ));
            }
            optional_url(subject, "id")?;
        }
        for (field, needs_id) in [
            ("credentialSchema", true),
            ("credentialStatus", false),
            ("refreshService", false),
            ("evidence", false),
            ("termsOfUse", false),
        ] {
            check_typed_entries(object, field, needs_id)?;
        }
        check_related_resources(object)?;
        check_language_values(object, "name")?;
        check_language_values(object, "description")?;
        Ok(Credential {
            id,
            types,
            issuer,
            valid_from,
            valid_until,
            subjects,
            json,
            content_hash: std::sync::OnceLock::new(),
        })
    }

    /// The document exactly as parsed, proofs included.
    pub fn json(&self) -> &Value {
        &self.json
    }

    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub fn types(&self) -> &[String] {
        &self.types
    }

    /// The credential's specific type: the first `type` that is not `VerifiableCredential`.
    pub fn fact_type(&self) -> Option<&str> {
        self.types
            .iter()
            .map(String::as_str)
            .find(|t| *t != "VerifiableCredential")
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn valid_from(&self) -> Option<DateTime<Utc>> {
        self.valid_from
    }

    pub fn valid_until(&self) -> Option<DateTime<Utc>> {
        self.valid_until
    }

    pub fn subjects(&self) -> &[Map<String, Value>] {
        &self.subjects
    }

    /// The single subject's `id`, when the credential has exactly one subject with an `id`.
    pub fn subject_id(&self) -> Option<&str> {
        match self.subjects.as_slice() {
            [only] => only.get("id").and_then(Value::as_str),
            _ => None,
        }
    }

    /// Hex SHA-256 of the RFC 8785 canonical form of the document without its proofs: the
    /// identity under which a decision records and de-duplicates this input. The proofs are left
    /// out so that the same statement signed again (or with another proof added) is the same
    /// input; that also makes it the document hash an eddsa-jcs-2022 proof signs, computed once.
    pub fn fingerprint(&self) -> String {
        hex::encode(self.content_hash())
    }

    /// SHA-256 of the JCS form of the document without `proof` (see [`Credential::fingerprint`]).
    pub fn content_hash(&self) -> [u8; 32] {
        *self.content_hash.get_or_init(|| {
            let mut unsecured = self.json.clone();
            if let Some(object) = unsecured.as_object_mut() {
                object.remove("proof");
            }
            // Serializing a serde_json::Value cannot fail: its keys are strings, its numbers finite.
            let canonical = serde_json_canonicalizer::to_vec(&unsecured).unwrap_or_default();
            Sha256::digest(canonical).into()
        })
    }

    /// Checks the validity period against `at`.
    pub fn check_validity_period(&self, at: DateTime<Utc>) -> Result<(), Failure> {
        if let Some(from) = self.valid_from
            && at < from
        {
            return Err(Failure::NotYetValid {
                valid_from: rfc3339(from),
            });
        }
        if let Some(until) = self.valid_until
            && at > until
        {
            return Err(Failure::Expired {
                valid_until: rfc3339(until),
            });
        }
        Ok(())
    }
}

/// Formats a time the way credentials write it.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn malformed(detail: impl Into<String>) -> Failure {
    Failure::Malformed {
        detail: detail.into(),
    }
}

/// `@context` must list the VC 2.0 context first, and only contexts we ship.
pub(crate) fn check_contexts(object: &Map<String, Value>) -> Result<(), Failure> {
    let contexts = match object.get("@context") {
        Some(Value::Array(items)) => items.as_slice(),
        Some(single @ Value::String(_)) => std::slice::from_ref(single),
        Some(_) => return Err(malformed("`@context` must be an array of URLs")),
        None => return Err(malformed("`@context` is required")),
    };
    match contexts.first() {
        Some(Value::String(first)) if first == VC_V2_CONTEXT => {}
        _ => {
            return Err(malformed(format!(
                "the first `@context` must be {VC_V2_CONTEXT:?}"
            )));
        }
    }
    for entry in contexts {
        match entry {
            Value::String(url) if context::is_shipped(url) => {}
            Value::String(url) => return Err(Failure::UnknownContext { url: url.clone() }),
            // The data model allows inline context objects after the first entry. They need no
            // fetch; the shipped-only loader still refuses any `@import` or remote URL in them, and
            // the protected VC 2.0 terms cannot be redefined.
            Value::Object(_) => {}
            _ => {
                return Err(malformed(
                    "each `@context` entry must be a URL or a context object",
                ));
            }
        }
    }
    Ok(())
}

/// A string or an array of strings, as a list.
pub(crate) fn string_set(value: Option<&Value>, field: &str) -> Result<Vec<String>, Failure> {
    match value {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| malformed(format!("every `{field}` entry must be a string")))
            })
            .collect(),
        Some(_) => Err(malformed(format!(
            "`{field}` must be a string or a non-empty array of strings"
        ))),
        None => Err(malformed(format!("`{field}` is required"))),
    }
}

/// An absolute URL in the sense the data model uses: a scheme, a colon, and something after it.
pub(crate) fn is_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn optional_url(object: &Map<String, Value>, field: &str) -> Result<Option<String>, Failure> {
    match object.get(field) {
        None => Ok(None),
        Some(Value::String(s)) if is_url(s) => Ok(Some(s.clone())),
        Some(other) => Err(malformed(format!("`{field}` must be a URL, found {other}"))),
    }
}

/// Parses an XML Schema `dateTimeStamp`: `YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)`, the time zone
/// required (as for a proof's `created` and `expires`).
pub fn parse_date_time(text: &str) -> Option<DateTime<Utc>> {
    // chrono also accepts a space, lower-case `t`/`z`, leap second 60 and any offset, which XML
    // Schema does not.
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() >= 20
        && bytes.get(10) == Some(&b'T')
        && bytes.get(17..19).is_some_and(|s| s < b"60".as_slice())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | 'T' | 'Z' | '.' | '+'));
    if !shape_ok {
        return None;
    }
    let parsed = DateTime::parse_from_rfc3339(text).ok()?;
    (parsed.offset().local_minus_utc().abs() <= 14 * 3600).then(|| parsed.with_timezone(&Utc))
}

/// Parses `validFrom`/`validUntil`: an XML Schema `dateTime`. The data model says a value
/// "incorrectly serialized without an offset MUST be interpreted as UTC", so one is accepted and
/// read as UTC.
pub fn parse_validity_date_time(text: &str) -> Option<DateTime<Utc>> {
    parse_date_time(text).or_else(|| {
        // Whatever follows the seconds: `None` when the text is shorter or not on a character
        // boundary there, which no date-time is.
        let tail = text.get(19..)?;
        if text.ends_with('Z') || tail.contains(['+', '-']) {
            return None;
        }
        parse_date_time(&format!("{text}Z"))
    })
}

fn optional_date_time(
    object: &Map<String, Value>,
    field: &str,
) -> Result<Option<DateTime<Utc>>, Failure> {
    match object.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => parse_validity_date_time(s).map(Some).ok_or_else(|| {
            malformed(format!(
                "`{field}` {s:?} is not a date-time (e.g. 2025-01-31T12:00:00Z)"
            ))
        }),
        Some(other) => Err(malformed(format!(
            "`{field}` must be a date-time string, found {other}"
        ))),
    }
}

/// Entries of `field` (an object or array of objects) must each have a `type`, and an `id` when
/// `needs_id` (the data model requires both for `credentialSchema`).
fn check_typed_entries(
    object: &Map<String, Value>,
    field: &str,
    needs_id: bool,
) -> Result<(), Failure> {
    let entries = match object.get(field) {
        None => return Ok(()),
        Some(Value::Array(items)) => items.as_slice(),
        Some(single @ Value::Object(_)) => std::slice::from_ref(single),
        Some(_) => {
            return Err(malformed(format!(
                "`{field}` must be an object or an array of objects"
            )));
        }
    };
    for (position, entry) in entries.iter().enumerate() {
        let Some(entry) = entry.as_object() else {
            return Err(malformed(format!(
                "`{field}` entry {position} must be an object"
            )));
        };
        string_set(entry.get("type"), &format!("{field}[{position}].type"))?;
        if needs_id {
            match entry.get("id") {
                Some(Value::String(id)) if is_url(id) => {}
                _ => {
                    return Err(malformed(format!(
                        "`{field}` entry {position} must have a URL `id`"
                    )));
                }
            }
        } else {
            optional_url(entry, "id")?;
        }
    }
    Ok(())
}

/// `relatedResource` entries: a URL `id`, and at least one well-formed digest.
fn check_related_resources(object: &Map<String, Value>) -> Result<(), Failure> {
    let entries = match object.get("relatedResource") {
        None => return Ok(()),
        Some(Value::Array(items)) => items.as_slice(),
        Some(single @ Value::Object(_)) => std::slice::from_ref(single),
        Some(_) => {
            return Err(malformed(
                "`relatedResource` must be an object or an array of objects",
            ));
        }
    };
    let mut seen = std::collections::BTreeSet::new();
    for (position, entry) in entries.iter().enumerate() {
        let Some(entry) = entry.as_object() else {
            return Err(malformed(format!(
                "`relatedResource` entry {position} must be an object"
            )));
        };
        let Some(id) = entry
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| is_url(id))
        else {
            return Err(malformed(format!(
                "`relatedResource` entry {position} must have a URL `id`"
            )));
        };
        if !seen.insert(id) {
            return Err(malformed(format!("`relatedResource` lists {id:?} twice")));
        }
        let sri = entry.get("digestSRI");
        let multibase = entry.get("digestMultibase");
        if sri.is_none() && multibase.is_none() {
            return Err(malformed(format!(
                "`relatedResource` entry {position} needs `digestSRI` or `digestMultibase`"
            )));
        }
        if let Some(sri) = sri
            && !sri.as_str().is_some_and(is_sri_digest)
        {
            return Err(malformed(format!(
                "`relatedResource` entry {position}: `digestSRI` must be sha256-, sha384- or sha512- followed by the base64 digest"
            )));
        }
        if let Some(multibase) = multibase
            && !multibase.as_str().is_some_and(is_multibase_digest)
        {
            return Err(malformed(format!(
                "`relatedResource` entry {position}: `digestMultibase` must be a multibase-encoded multihash"
            )));
        }
    }
    Ok(())
}

/// Subresource Integrity metadata: space-separated `alg-base64[?options]` tokens; acceptable when
/// at least one token is a well-formed SHA-2 digest.
fn is_sri_digest(text: &str) -> bool {
    text.split_ascii_whitespace().any(|token| {
        let token = token.split_once('?').map_or(token, |(hash, _options)| hash);
        let Some((algorithm, digest)) = token.split_once('-') else {
            return false;
        };
        let expected = match algorithm {
            "sha256" => 32,
            "sha384" => 48,
            "sha512" => 64,
            _ => return false,
        };
        base64::engine::general_purpose::STANDARD
            .decode(digest)
            .is_ok_and(|bytes| bytes.len() == expected)
    })
}

/// A multibase-encoded multihash: a code, a length, and a digest of that length. The common
/// encodings are decoded (base58btc `z`, base64url `u`, base64 `m`, hex `f`/`F`); a hash code we do
/// not know is accepted when the structure holds.
fn is_multibase_digest(text: &str) -> bool {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let bytes = match text.split_at_checked(1) {
        Some(("z", rest)) => bs58::decode(rest).into_vec().ok(),
        Some(("u", rest)) => URL_SAFE_NO_PAD.decode(rest).ok(),
        Some(("m", rest)) => STANDARD_NO_PAD.decode(rest).ok(),
        Some(("f" | "F", rest)) => hex::decode(rest).ok(),
        _ => None,
    };
    let Some(bytes) = bytes else { return false };
    // Both the code and the length are unsigned varints; digests here are short, so the length
    // fits one byte, and codes in use fit two.
    let (code_len, length) = match bytes.as_slice() {
        [code, length, ..] if code & 0x80 == 0 => (1, *length),
        [low, high, length, ..] if low & 0x80 != 0 && high & 0x80 == 0 => (2, *length),
        _ => return false,
    };
    length & 0x80 == 0 && length > 0 && bytes.len() == code_len + 1 + usize::from(length)
}

/// `name`/`description`: a string, a language value object, or an array of those.
fn check_language_values(object: &Map<String, Value>, field: &str) -> Result<(), Failure> {
    fn one(value: &Value) -> bool {
        match value {
            Value::String(_) => true,
            Value::Object(o) => {
                o.get("@value").is_some_and(Value::is_string)
                    && o.keys()
                        .all(|k| matches!(k.as_str(), "@value" | "@language" | "@direction"))
                    && o.get("@language").is_none_or(Value::is_string)
                    && o.get("@direction")
                        .is_none_or(|d| matches!(d.as_str(), Some("ltr" | "rtl")))
            }
            _ => false,
        }
    }
    match object.get(field) {
        None => Ok(()),
        Some(Value::Array(items)) if items.iter().all(one) => Ok(()),
        Some(value) if one(value) => Ok(()),
        Some(_) => Err(malformed(format!(
            "`{field}` must be a string or language value objects"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "@context": [VC_V2_CONTEXT],
            "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer",
            "validFrom": "2024-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:subject", "x": 1}
        })
    }

    fn with(field: &str, value: Value) -> Value {
        let mut doc = base();
        doc[field] = value;
        doc
    }

    fn without(field: &str) -> Value {
        let mut doc = base();
        doc.as_object_mut().map(|o| o.remove(field));
        doc
    }

    /// `expected`: None = accepted; Some(text) = refused with a message containing text.
    fn check(doc: Value, expected: Option<&str>) {
        let got = Credential::from_value(doc.clone())
            .err()
            .map(|f| f.to_string());
        match (expected, got) {
            (None, None) => {}
            (Some(want), Some(got)) if got.contains(want) => {}
            (want, got) => panic!("{doc}\nexpected {want:?}, got {got:?}"),
        }
    }

    #[test]
    fn data_model_rules() {
        check(base(), None);
        check(without("@context"), Some("`@context` is required"));
        check(
            with(
                "@context",
                json!(["https://www.w3.org/2018/credentials/v1"]),
            ),
            Some("first `@context`"),
        );
        check(
            with(
                "@context",
                json!([VC_V2_CONTEXT, "https://evil.example/ctx"]),
            ),
            Some("unknown JSON-LD context"),
        );
        check(
            with(
                "@context",
                json!([VC_V2_CONTEXT, {"x": "https://x.example/x"}]),
            ),
            None,
        );
        check(
            with("@context", json!([VC_V2_CONTEXT, 7])),
            Some("a URL or a context object"),
        );
        check(with("type", json!(["Foo"])), Some("VerifiableCredential"));
        check(with("type", json!([])), Some("non-empty array"));
        check(without("issuer"), Some("`issuer` is required"));
        check(with("issuer", json!("not a url")), Some("is not a URL"));
        check(
            with("issuer", json!({"id": "did:example:i", "name": "I"})),
            None,
        );
        check(
            with("validFrom", json!("2024-01-01")),
            Some("is not a date-time"),
        );
        // Without an offset the data model says to read it as UTC.
        check(with("validFrom", json!("2024-01-01T00:00:00")), None);
        check(
            with("validFrom", json!("2024-01-01 00:00:00Z")),
            Some("is not a date-time"),
        );
        check(
            with("validFrom", json!("2024-01-01T00:00:60Z")),
            Some("is not a date-time"),
        );
        check(
            with("validFrom", json!("2024-01-01T00:00:00+15:00")),
            Some("is not a date-time"),
        );
        check(
            with("validUntil", json!("2023-01-01T00:00:00Z")),
            Some("earlier than"),
        );
        check(with("validUntil", json!("2025-01-01T00:00:00+02:00")), None);
        check(
            without("credentialSubject"),
            Some("`credentialSubject` is required"),
        );
        check(
            with("credentialSubject", json!({})),
            Some("at least one claim"),
        );
        check(
            with("credentialSubject", json!([])),
            Some("non-empty array"),
        );
        check(
            with(
                "credentialSchema",
                json!({"id": "https://x.example/s.json"}),
            ),
            Some("credentialSchema[0].type"),
        );
        check(
            with("credentialSchema", json!({"type": "JsonSchema"})),
            Some("URL `id`"),
        );
        check(
            with(
                "credentialSchema",
                json!({"id": "https://x.example/s.json", "type": "JsonSchema"}),
            ),
            None,
        );
        check(
            with("credentialStatus", json!({"id": "https://x.example/s#1"})),
            Some("credentialStatus[0].type"),
        );
        check(
            with("refreshService", json!([{"url": "https://x.example"}])),
            Some("refreshService[0].type"),
        );
        check(
            with(
                "evidence",
                json!([{"type": ["Evidence"]}, {"id": "urn:x:1"}]),
            ),
            Some("evidence[1].type"),
        );
        check(
            with("termsOfUse", json!("x")),
            Some("`termsOfUse` must be an object"),
        );
        check(
            with("relatedResource", json!([{"id": "https://x.example/a"}])),
            Some("needs `digestSRI`"),
        );
        check(
            with(
                "relatedResource",
                json!([{"id": "https://x.example/a", "digestSRI": "sha256-abc"}]),
            ),
            Some("digestSRI"),
        );
        check(
            with(
                "relatedResource",
                json!([{"id": "https://x.example/a", "digestSRI": "sha384-dOTZf16X8p34q2/kYyEFm0jh89uTjikhnzjeLeF0FHsEaYKb1A1cv+Lyv4Hk8vHd"}]),
            ),
            None,
        );
        check(
            with(
                "relatedResource",
                json!([{"id": "https://x.example/a", "digestMultibase": "zQm"}]),
            ),
            Some("digestMultibase"),
        );
        // Several SRI hashes with options: one good token suffices.
        check(
            with(
                "relatedResource",
                json!([{"id": "https://x.example/a", "digestSRI": "sha999-x sha384-dOTZf16X8p34q2/kYyEFm0jh89uTjikhnzjeLeF0FHsEaYKb1A1cv+Lyv4Hk8vHd?ct=application/json"}]),
            ),
            None,
        );
        // A hex multihash with a hash code we do not know, but a sound structure.
        check(
            with(
                "relatedResource",
                json!([{"id": "https://x.example/a", "digestMultibase": format!("f{}", hex::encode([&[0x1bu8, 4][..], &[1u8; 4]].concat()))}]),
            ),
            None,
        );
        check(
            with(
                "relatedResource",
                json!([{"id": "https://x.example/a", "digestMultibase": format!("u{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([&[0x12u8, 32][..], &[7u8; 32]].concat()))}]),
            ),
            None,
        );
        check(
            with("name", json!({"@value": "Naam", "@language": "nl"})),
            None,
        );
        check(with("name", json!(42)), Some("`name` must be a string"));
        check(with("id", json!("not a url")), Some("`id` must be a URL"));
    }

    #[test]
    fn validity_period_against_injected_time() {
        let credential =
            Credential::from_value(with("validUntil", json!("2025-01-01T00:00:00Z"))).unwrap();
        let at = |s: &str| parse_date_time(s).unwrap();
        assert!(
            credential
                .check_validity_period(at("2024-06-01T00:00:00Z"))
                .is_ok()
        );
        assert!(matches!(
            credential.check_validity_period(at("2023-12-31T23:59:59Z")),
            Err(Failure::NotYetValid { .. })
        ));
        assert!(matches!(
            credential.check_validity_period(at("2025-01-01T00:00:01Z")),
            Err(Failure::Expired { .. })
        ));
    }

    #[test]
    fn fact_type_and_subject() {
        let credential = Credential::from_value(with(
            "type",
            json!(["VerifiableCredential", "ResidenceAttestation"]),
        ))
        .unwrap();
        assert_eq!(credential.fact_type(), Some("ResidenceAttestation"));
        assert_eq!(credential.subject_id(), Some("did:example:subject"));
        assert_eq!(credential.fingerprint().len(), 64);
    }
}

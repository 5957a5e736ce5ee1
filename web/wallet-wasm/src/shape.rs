//! The shapes the pages see: the core's records and the service's answers with their member
//! names in camelCase, as JavaScript expects, except inside documents whose member names are
//! data (a credential, the claims asked for, a decision, a receipt), which pass unchanged.
//! Also what the pages hand in: options objects, suites, relations. Pure functions, tested
//! natively.

use corroborate_verifier::proof::Cryptosuite;
use serde_json::{Map, Value, json};

/// Members whose value is a document in its own format, never renamed inside.
const OPAQUE: &[&str] = &[
    "credential",
    "claims",
    "decision",
    "explanation",
    "receipt",
    "trust",
    "value",
    "relation",
    "credentialSubject",
    "statusCredential",
];

/// `fact_type` → `factType`; names without underscores are left as they are.
pub fn camel_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for (i, c) in name.chars().enumerate() {
        if c == '_' && i > 0 {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `value` with every member name in camelCase, down to the opaque documents.
pub fn camel(value: Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .map(|(name, value)| {
                    let name = camel_name(&name);
                    let value = if OPAQUE.contains(&name.as_str()) {
                        value
                    } else {
                        camel(value)
                    };
                    (name, value)
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel).collect()),
        other => other,
    }
}

/// A proof suite as the pages name it: `rdfc` or `jcs` (or the suite's full name); the
/// default is eddsa-rdfc-2022, as in the CLI.
pub fn suite(name: Option<&str>) -> Result<Cryptosuite, String> {
    match name.unwrap_or("rdfc") {
        "rdfc" | "eddsa-rdfc-2022" => Ok(Cryptosuite::EddsaRdfc2022),
        "jcs" | "eddsa-jcs-2022" => Ok(Cryptosuite::EddsaJcs2022),
        other => Err(format!(
            "unknown proof suite {other:?}: use \"rdfc\" or \"jcs\""
        )),
    }
}

/// The attester's relation to the fact, as the credential states it (as the CLI builds it).
pub fn relation(role: &str, since: Option<&str>, description: Option<&str>) -> Value {
    let mut relation = json!({ "role": role });
    if let Some(since) = since.filter(|s| !s.is_empty()) {
        relation["since"] = json!(since);
    }
    if let Some(description) = description.filter(|s| !s.is_empty()) {
        relation["description"] = json!(description);
    }
    relation
}

/// What the core compares before signing, taken from the review a page showed (camelCase):
/// the request's id, subject, fact type and claims.
pub fn reviewed(shown: &Value) -> Value {
    let part = |name: &str| shown.get(name).cloned().unwrap_or(Value::Null);
    json!({
        "id": part("id"),
        "subject": part("subject"),
        "fact_type": part("factType"),
        "claims": part("claims"),
    })
}

/// The URLs of the status lists a credential names.
pub fn status_lists(credential: &Value) -> Vec<String> {
    let entries = match credential.get("credentialStatus") {
        Some(Value::Array(entries)) => entries.iter().collect(),
        Some(entry) => vec![entry],
        None => Vec::new(),
    };
    entries
        .into_iter()
        .filter_map(|e| e.get("statusListCredential").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_become_camel_case() {
        let check = |name: &str, expected: &str| assert_eq!(camel_name(name), expected);
        check("fact_type", "factType");
        check("addressed_to", "addressedTo");
        check("policy_version", "policyVersion");
        check("id", "id");
        check("validFrom", "validFrom");
        check("_private", "_private");
        check("a_b_c", "aBC");
    }

    #[test]
    fn documents_inside_records_keep_their_member_names() {
        let record = json!({
            "fact_type": "ResidenceAttestation",
            "addressed_to": ["did:key:z1"],
            "claims": {"address": {"postal_code": "1000"}},
            "credential": {"credentialSubject": {"some_member": 1}},
            "progress": [{"open_link": "x", "relation": {"since_when": 1}}],
            "decision": {"policy_version": "1"},
        });
        assert_eq!(
            camel(record),
            json!({
                "factType": "ResidenceAttestation",
                "addressedTo": ["did:key:z1"],
                "claims": {"address": {"postal_code": "1000"}},
                "credential": {"credentialSubject": {"some_member": 1}},
                "progress": [{"openLink": "x", "relation": {"since_when": 1}}],
                "decision": {"policy_version": "1"},
            })
        );
    }

    #[test]
    fn suites_by_short_or_full_name() {
        assert_eq!(suite(None), Ok(Cryptosuite::EddsaRdfc2022));
        assert_eq!(suite(Some("jcs")), Ok(Cryptosuite::EddsaJcs2022));
        assert_eq!(
            suite(Some("eddsa-rdfc-2022")),
            Ok(Cryptosuite::EddsaRdfc2022)
        );
        assert!(suite(Some("rsa")).unwrap_err().contains("rsa"));
    }

    #[test]
    fn a_relation_leaves_out_what_is_not_given() {
        assert_eq!(
            relation("neighbour", Some("2019-04-01"), None),
            json!({"role": "neighbour", "since": "2019-04-01"})
        );
        assert_eq!(
            relation("physician", Some(""), Some("family doctor")),
            json!({"role": "physician", "description": "family doctor"})
        );
    }

    #[test]
    fn the_reviewed_request_is_compared_in_the_services_names() {
        let shown = json!({"id": "r1", "subject": "did:key:z", "factType": "BirthAttestation",
                           "claims": {"a": 1}, "expires": "2030-01-01T00:00:00Z"});
        assert_eq!(
            reviewed(&shown),
            json!({"id": "r1", "subject": "did:key:z", "fact_type": "BirthAttestation",
                   "claims": {"a": 1}})
        );
    }

    #[test]
    fn status_lists_of_one_entry_or_several() {
        let one = json!({"credentialStatus": {"statusListCredential": "https://s/1"}});
        let two = json!({"credentialStatus": [{"statusListCredential": "https://s/1"},
                                              {"statusListCredential": "https://s/2"}]});
        assert_eq!(status_lists(&one), vec!["https://s/1"]);
        assert_eq!(status_lists(&two), vec!["https://s/1", "https://s/2"]);
        assert!(status_lists(&json!({})).is_empty());
    }
}

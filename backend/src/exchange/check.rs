//! What the exchange checks: the claims a citizen asks for (against the fact schema, before
//! anyone sees them) and the credential an attester sends back (against the request, then the
//! verifier's full verification). Every refusal names what differs, never with the values.
//!
//! Order of the checks on an answer: the data model, then what needs no I/O (fact type, issuer,
//! subject, claims), and only then the verification, which may resolve a `did:web` or fetch a
//! status list: an answer that cannot be taken costs no outbound fetch.
//!
//! Status: an attester's status list may not be reachable yet when they answer (a person
//! attester's wallet publishes its list itself, possibly after signing). A credential whose only
//! unsettled check is its status is therefore accepted, and its receipt says the status was not
//! checked; a revoked or suspended one, or one with a malformed entry, is refused. This is no
//! positive verdict: whoever later relies on the credential verifies it again, status included,
//! and the verifier stays fail-closed there.

use crate::error::{ApiError, ApiResult, Code};
use crate::fetch::{Resolver, StatusLists};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use corroborate_verifier::credential::{Credential, VC_V2_CONTEXT, rfc3339};
pub use corroborate_verifier::fact::claim_differences;
use corroborate_verifier::schema::{self, CORROBORATE_V1_CONTEXT_URL, SchemaError};
use corroborate_verifier::verification::{
    Check, CheckOutcome, CredentialReport, Verdict, VerifyOptions, verify_credential,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The largest claims object a request may carry (its JSON text), in bytes.
pub const MAX_CLAIMS_BYTES: usize = 16 * 1024;

/// Subject members that are not the citizen's to ask for: the subject is always the citizen,
/// and the attester states their own relation to the fact.
const RESERVED_SUBJECT_MEMBERS: [&str; 2] = ["id", "attesterRelation"];

/// Checks the claims of a new request for `fact_type` about `citizen`: a non-empty object,
/// bounded, without reserved members, and of the shape the fact schema requires of a
/// `credentialSubject` (so that an attester can sign exactly what is asked).
pub fn check_requested_claims(
    fact_type: &str,
    claims: &Value,
    citizen: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let invalid = |detail: String| ApiError::new(Code::InvalidCredential, detail);
    let Some(members) = claims.as_object().filter(|m| !m.is_empty()) else {
        return Err(invalid(
            "`claims` must be a non-empty object of what the attester should state, e.g. \
             {\"residence\": {\"address\": {…}, \"since\": \"2021-09-01\"}}"
                .to_owned(),
        ));
    };
    let size = claims.to_string().len();
    if size > MAX_CLAIMS_BYTES {
        return Err(invalid(format!(
            "`claims` is {size} bytes of JSON; at most {MAX_CLAIMS_BYTES} are accepted"
        )));
    }
    for reserved in RESERVED_SUBJECT_MEMBERS {
        if members.contains_key(reserved) {
            return Err(invalid(match reserved {
                "id" => "`claims` must not set `id`: the subject is always the requesting citizen"
                    .to_owned(),
                _ => format!(
                    "`claims` must not set `{reserved}`: the attester states their own relation \
                     to the fact"
                ),
            }));
        }
    }
    // The schema describes a whole credential: wrap the claims in one whose other parts are
    // ours, and report only what the schema says about the claims.
    let mut subject = Map::new();
    subject.insert("id".to_owned(), Value::from(citizen));
    subject.insert("attesterRelation".to_owned(), json!({"role": "other"}));
    subject.extend(members.iter().map(|(k, v)| (k.clone(), v.clone())));
    let skeleton = json!({
        "@context": [VC_V2_CONTEXT, CORROBORATE_V1_CONTEXT_URL],
        "type": ["VerifiableCredential", fact_type],
        "issuer": citizen,
        "validFrom": rfc3339(now),
        "credentialSubject": subject,
    });
    match schema::validate(fact_type, &skeleton) {
        Ok(()) => Ok(()),
        Err(SchemaError::Invalid { violations, .. }) => {
            let about_claims: Vec<String> = violations
                .iter()
                .filter_map(|v| {
                    let rest = v.instance_path.strip_prefix("/credentialSubject")?;
                    let first = rest.split('/').nth(1).unwrap_or("");
                    if RESERVED_SUBJECT_MEMBERS.contains(&first) {
                        return None;
                    }
                    Some(format!("claims{rest}: {}", v.message))
                })
                .collect();
            if about_claims.is_empty() {
                Ok(())
            } else {
                Err(invalid(format!(
                    "`claims` do not have the shape a {fact_type} states: {}",
                    about_claims.join("; ")
                )))
            }
        }
        Err(SchemaError::UnknownFactType { fact_type }) => Err(ApiError::bad_body(format!(
            "unknown fact type {fact_type:?} (known: {})",
            schema::FACT_TYPES.join(", ")
        ))),
        Err(unavailable @ SchemaError::Unavailable { .. }) => Err(ApiError::internal(unavailable)),
    }
}

/// What an accepted credential's status check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFinding {
    /// Every status entry was checked: neither revoked nor suspended.
    Checked,
    /// The credential has no `credentialStatus`.
    NotApplicable,
    /// A status list could not be read yet; whoever relies on the credential checks it later.
    NotYetCheckable,
}

/// What the request expects of an answer.
pub struct Expected<'a> {
    pub fact_type: &'a str,
    /// The caller, who must be the issuer: attesters sign with the key they authenticated with.
    pub issuer: &'a str,
    /// The citizen, who must be the subject.
    pub subject: &'a str,
    pub claims: &'a Map<String, Value>,
}

/// Checks an attester's credential against the request, then verifies it in full (see the module
/// documentation). Returns what its status check found.
pub async fn accept_credential(
    state: &AppState,
    expected: &Expected<'_>,
    value: Value,
    now: DateTime<Utc>,
) -> ApiResult<StatusFinding> {
    let credential = Credential::from_value(value.clone()).map_err(|failure| {
        ApiError::new(
            Code::InvalidCredential,
            format!("the credential does not follow the VC 2.0 data model: {failure}"),
        )
    })?;
    let differs = |what: &str, detail: String| {
        ApiError::new(Code::VerificationFailed, detail).with_extra(json!({"differs": [what]}))
    };
    match credential.fact_type() {
        Some(found) if found == expected.fact_type => {}
        found => {
            return Err(differs(
                "type",
                format!(
                    "the credential is a {}, but the request asks for a {}",
                    found.unwrap_or("credential of no specific type"),
                    expected.fact_type
                ),
            ));
        }
    }
    if credential.issuer() != expected.issuer {
        return Err(differs(
            "issuer",
            format!(
                "the credential's issuer is {}, but you authenticated as {}: sign it with the key \
                 you authenticated with",
                credential.issuer(),
                expected.issuer
            ),
        ));
    }
    let subject = match credential.subjects() {
        [only] => only,
        _ => {
            return Err(differs(
                "credentialSubject",
                "the credential must have exactly one subject, the requesting citizen".to_owned(),
            ));
        }
    };
    match subject.get("id").and_then(Value::as_str) {
        Some(id) if id == expected.subject => {}
        found => {
            return Err(differs(
                "credentialSubject.id",
                format!(
                    "the credential is about {}, but the request is about {}",
                    found.unwrap_or("no one (no credentialSubject.id)"),
                    expected.subject
                ),
            ));
        }
    }
    let differences = claim_differences(expected.claims, subject);
    if !differences.is_empty() {
        return Err(ApiError::new(
            Code::VerificationFailed,
            format!(
                "the credential does not state what the request asks at {} (compared after \
                 Unicode NFC and white-space folding)",
                differences.join(", ")
            ),
        )
        .with_extra(json!({"differs": differences})));
    }

    let resolver = Resolver::new(state);
    let options = VerifyOptions {
        require_schema: true,
        ..VerifyOptions::at(now)
    }
    .with_status(StatusLists::new(state));
    let report = verify_credential(value, &options, &resolver).await;
    judge(&report)
}

/// The verdict, with one exception to "valid only": a status that could not be checked yet.
fn judge(report: &CredentialReport) -> ApiResult<StatusFinding> {
    let outcome_of = |check: Check| {
        report
            .checks
            .iter()
            .find(|c| c.check == check)
            .map(|c| &c.outcome)
    };
    let status = match outcome_of(Check::Status) {
        Some(CheckOutcome::Passed) => StatusFinding::Checked,
        Some(CheckOutcome::NotApplicable) => StatusFinding::NotApplicable,
        _ => StatusFinding::NotYetCheckable,
    };
    let failures: Vec<String> = report
        .failures()
        .iter()
        .map(ToString::to_string)
        .chain(
            report
                .proofs
                .iter()
                .filter_map(|p| p.failure.as_ref().map(ToString::to_string)),
        )
        .collect();
    let extra = || json!({"report": report});
    match report.verdict {
        Verdict::Valid => Ok(status),
        Verdict::Invalid => {
            let shape = [Check::DataModel, Check::Schema]
                .into_iter()
                .any(|check| matches!(outcome_of(check), Some(CheckOutcome::Failed { .. })));
            let code = if shape {
                Code::InvalidCredential
            } else {
                Code::VerificationFailed
            };
            Err(ApiError::new(
                code,
                format!("the credential does not verify: {}", failures.join("; ")),
            )
            .with_extra(extra()))
        }
        Verdict::Indeterminate => {
            let only_status = report.checks.iter().all(|c| match c.outcome {
                CheckOutcome::NotChecked { .. } => c.check == Check::Status,
                _ => true,
            });
            // Every other check must have passed outright (the schema check too: a fact
            // credential always has a schema here).
            let others_passed = [
                Check::DataModel,
                Check::Proof,
                Check::ValidityPeriod,
                Check::Schema,
            ]
            .into_iter()
            .all(|check| outcome_of(check) == Some(&CheckOutcome::Passed));
            if only_status && others_passed {
                Ok(StatusFinding::NotYetCheckable)
            } else {
                Err(ApiError::new(
                    Code::VerificationFailed,
                    format!(
                        "the credential could not be fully verified: {}",
                        failures.join("; ")
                    ),
                )
                .with_extra(extra()))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn claims_are_compared_per_requested_path_after_normalization() {
        fn check(requested: Value, stated: Value, expected: &[&str]) {
            assert_eq!(
                claim_differences(&object(requested.clone()), &object(stated.clone())),
                expected,
                "requested {requested}, stated {stated}"
            );
        }
        let asked = json!({"residence": {"address": {"street": {"nl": "Wetstraat"},
            "municipality": "Li\u{E8}ge", "houseNumber": "16"}, "since": "2021-09-01"}});
        // The same text, written otherwise: NFD, padded, other white space.
        check(
            asked.clone(),
            json!({"id": "did:key:z", "attesterRelation": {"role": "neighbour"},
                "residence": {"address": {"street": {"nl": " Wetstraat\u{A0}", "fr": "Rue de la Loi"},
                "municipality": "Lie\u{300}ge", "houseNumber": "16", "box": "2"}, "since": "2021-09-01"}}),
            &[],
        );
        // A differing leaf, a missing one, and a string where an object was asked.
        check(
            asked.clone(),
            json!({"residence": {"address": {"street": "Wetstraat", "municipality": "LIEGE"},
                "since": "2021-10-01"}}),
            &[
                "/residence/address/houseNumber",
                "/residence/address/municipality",
                "/residence/address/street",
                "/residence/since",
            ],
        );
        check(asked, json!({}), &["/residence"]);
        // Arrays are compared whole; numbers as numbers; pointer escaping.
        check(json!({"a/b": [" x ", 1]}), json!({"a/b": ["x", 1]}), &[]);
        check(json!({"a~b": [1, 2]}), json!({"a~b": [2, 1]}), &["/a~0b"]);
        check(json!({"n": 1}), json!({"n": "1"}), &["/n"]);
    }

    #[test]
    fn requested_claims_follow_the_fact_schema() {
        let now = Utc::now();
        let citizen = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
        let address = json!({"street": {"nl": "Brouwerijstraat"}, "houseNumber": "27",
            "postalCode": "1050", "municipality": {"nl": "Elsene"}, "country": "BE"});
        let good = json!({"residence": {"address": address, "since": "2021-09-01"}});
        check_requested_claims("ResidenceAttestation", &good, citizen, now).unwrap();

        let refused = |claims: Value, needle: &str| {
            let error =
                check_requested_claims("ResidenceAttestation", &claims, citizen, now).unwrap_err();
            assert_eq!(error.code, Code::InvalidCredential, "{claims}");
            assert!(
                error.detail.contains(needle),
                "{needle:?} not in {}",
                error.detail
            );
        };
        refused(json!({}), "non-empty object");
        refused(json!([good]), "non-empty object");
        refused(
            json!({"residence": {"address": address}}),
            "claims/residence",
        );
        refused(
            json!({"residence": {"address": address, "since": "1 Sept"}}),
            "claims/residence/since",
        );
        refused(
            json!({"residence": {"address": address, "since": "2021-09-01"}, "shoeSize": 44}),
            "shoeSize",
        );
        refused(json!({"id": "did:key:other"}), "`id`");
        refused(
            json!({"attesterRelation": {"role": "neighbour"}}),
            "attesterRelation",
        );
        refused(
            json!({"residence": {"address": address, "since": "2021-09-01",
                "until": "x".repeat(MAX_CLAIMS_BYTES)}}),
            "bytes",
        );
    }
}

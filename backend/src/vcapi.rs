//! The W3C CCG Verifiable Credentials API's verification endpoints, for anyone (rate limited):
//! `POST /credentials/verify` and `POST /presentations/verify`.
//!
//! Every check is the verifier library's (`verification::verify_credential`,
//! `presentation::verify_presentation`), with this service's DID resolver and status lists
//! ([`crate::fetch`]): data model, Data Integrity proofs, validity period, revocation status, and
//! the fact schema when the credential's type has one (a credential of a type we have no schema
//! for still verifies: the schema is not required here, unlike in a decision). Nothing is stored.
//!
//! Answers follow the VC API's `VerificationResult`: `verified`, `problemDetails` (RFC 9457
//! objects with the VC Data Model, Data Integrity and Bitstring Status List problem types where
//! one fits, `https://w3id.org/corroborate/failures#<code>` otherwise; each also carries the
//! verifier's `failure`, with its stable `code`, and the `check` it came from) and `results`
//! (per-check detail). Invariants:
//! - `verified` is the verifier's fail-closed verdict: `true` only when every required check ran
//!   and passed. A check that could not run (a status list that cannot be fetched) is an error,
//!   never a warning, so an indeterminate credential is never reported as verified; hence
//!   `verified` is `true` exactly when `problemDetails` is empty.
//! - A credential that does not verify is answered `400` with its result, as the VC API verifier
//!   test suite expects; a presentation is answered `200` whatever its result, as the VC API
//!   specifies for `/presentations/verify` (the body says whether it verified).
//! - A request the service cannot process at all (not JSON, unknown member or option, option
//!   value not understood) is a `400 invalid_body` problem; one over the size limit a `413`.
//!   Unknown options are refused because the VC API requires it.

use crate::error::{ApiError, ApiResult};
use crate::extract::StrictJson;
use crate::fetch::{Resolver, StatusLists};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use corroborate_verifier::did::ProofPurpose;
use corroborate_verifier::failure::Failure;
use corroborate_verifier::json;
use corroborate_verifier::presentation::{Binding, PresentationReport, verify_presentation};
use corroborate_verifier::proof::ProofResult;
use corroborate_verifier::verification::{
    Check, CheckOutcome, CredentialReport, ProofChecks, VerifyOptions, verify_credential,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Problem types of our own, for failures no specification names (`#<failure code>`).
pub const FAILURE_BASE: &str = "https://w3id.org/corroborate/failures#";

/// Names of the VC API `checks` option we accept. Every check always runs (a subset would let
/// `verified` mean less than it says), so these only confirm what the caller expects.
const KNOWN_CHECKS: &[&str] = &[
    "proof",
    "status",
    "credentialStatus",
    "validityPeriod",
    "validFrom",
    "validUntil",
    "expiration",
    "schema",
    "credentialSchema",
    "dataModel",
];

/// `options` of `POST /credentials/verify`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VerifyCredentialOptions {
    /// Every proof must carry this challenge.
    pub challenge: Option<String>,
    /// Every proof must name this domain.
    pub domain: Option<String>,
    /// The proof purpose every proof must have: `assertionMethod` (the default) or
    /// `authentication`.
    pub expected_proof_purpose: Option<String>,
    /// The checks the caller expects (`proof`, `status`, `validityPeriod`, `schema`…). All of
    /// them always run; an unknown name is refused.
    pub checks: Option<Vec<String>>,
    /// Return the credential in the result (`credential`).
    pub return_credential: Option<bool>,
}

/// The body of `POST /credentials/verify`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VerifyCredentialRequest {
    /// A Verifiable Credential secured with Data Integrity (`eddsa-rdfc-2022` or
    /// `eddsa-jcs-2022`).
    #[schema(value_type = Object)]
    pub verifiable_credential: Value,
    #[serde(default)]
    pub options: VerifyCredentialOptions,
}

/// `options` of `POST /presentations/verify`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VerifyPresentationOptions {
    /// The challenge the presentation's proofs must carry (the verifier's nonce).
    pub challenge: Option<String>,
    /// The domain (audience) the presentation's proofs must name.
    pub domain: Option<String>,
    /// The checks the caller expects; as for credentials, all of them always run.
    pub checks: Option<Vec<String>>,
    /// Return the presentation in the result (`verifiablePresentation`).
    pub return_presentation: Option<bool>,
}

/// The body of `POST /presentations/verify`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VerifyPresentationRequest {
    /// A Verifiable Presentation with an `authentication` proof by its holder.
    #[schema(value_type = Object)]
    pub verifiable_presentation: Value,
    #[serde(default)]
    pub options: VerifyPresentationOptions,
}

/// One problem found (RFC 9457 members, as the VC API reports them).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProblemDetails {
    /// The problem type: a VC Data Model, Data Integrity or Bitstring Status List type when one
    /// fits, else `https://w3id.org/corroborate/failures#<failure code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The specification's integer code of the type; absent for our own types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// The type's name (e.g. `PROOF_VERIFICATION_ERROR`).
    pub title: String,
    /// What went wrong, in English.
    pub detail: String,
    /// The check that found it (`data_model`, `proof`, `validity_period`, `schema`, `status`);
    /// absent for a presentation's own problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub check: Option<Check>,
    /// The verifier's failure: `{code, …fields}`, its `code` stable.
    #[schema(value_type = Object)]
    pub failure: Failure,
    /// For a presentation: the position of the credential the problem is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_index: Option<usize>,
}

/// The result of verifying a credential.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialVerification {
    /// Whether every required check ran and passed.
    pub verified: bool,
    /// The credential, when `options.returnCredential` asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub credential: Option<Value>,
    /// Every problem found; empty exactly when `verified`.
    pub problem_details: Vec<ProblemDetails>,
    /// The verifier's report: `verdict` (`valid`, `invalid`, `indeterminate`), each check with
    /// its result (and `as_of` for status lists read from a cache), each proof.
    #[schema(value_type = Object)]
    pub results: Value,
}

/// Whether a presentation's proofs carry the expected challenge or domain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BindingResult {
    pub valid: bool,
    /// The expected value (from `options`).
    pub input: String,
}

/// Whether the holder's key made the presentation's proofs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HolderResult {
    pub valid: bool,
    pub input: String,
}

/// One proof of the presentation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProofCheckResult {
    pub valid: bool,
    /// The proof object.
    #[schema(value_type = Object)]
    pub input: Value,
    /// Why it did not verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub failure: Option<Failure>,
}

/// Per-property results of a presentation (the VC API's `results`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PresentationResults {
    /// Present when `options.challenge` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<BindingResult>,
    /// Present when `options.domain` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<BindingResult>,
    /// Present when the presentation names a holder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderResult>,
    pub proof: Vec<ProofCheckResult>,
}

/// The result of verifying a presentation and every credential in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PresentationVerification {
    /// The presentation's proofs verified with the holder's key, bound as `options` asked, and
    /// every credential in it verified.
    pub verified: bool,
    /// The presentation, when `options.returnPresentation` asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub verifiable_presentation: Option<Value>,
    /// The presentation's problems, then each credential's (with `credentialIndex`).
    pub problem_details: Vec<ProblemDetails>,
    pub results: PresentationResults,
    /// One result per presented credential, in order.
    pub credential_results: Vec<CredentialVerification>,
}

/// Verifies a Verifiable Credential (VC API).
#[utoipa::path(post, path = "/credentials/verify", tag = "verification",
    request_body = VerifyCredentialRequest,
    responses(
        (status = 200, description = "Verified", body = CredentialVerification),
        (status = 400, description = "Not verified (the result says why), or a request that could not be processed (problem+json)", body = CredentialVerification),
        (status = 413, body = crate::error::Problem),
        (status = 429, body = crate::error::Problem)))]
pub async fn verify_credential_endpoint(
    state: web::Data<AppState>,
    StrictJson(body): StrictJson<VerifyCredentialRequest>,
) -> ApiResult<HttpResponse> {
    let VerifyCredentialRequest {
        verifiable_credential,
        options,
    } = body;
    check_names(options.checks.as_deref())?;
    let purpose = match options.expected_proof_purpose.as_deref() {
        None => ProofPurpose::AssertionMethod,
        Some(name) => name
            .parse()
            .map_err(|e| ApiError::bad_body(format!("`options.expectedProofPurpose`: {e}")))?,
    };
    let mut verify = verify_options(&state).with_status(StatusLists::new(&state));
    verify.proof = ProofChecks {
        purpose,
        challenge: options.challenge,
        domain: options.domain,
    };
    let returned = options
        .return_credential
        .unwrap_or(false)
        .then(|| verifiable_credential.clone());
    let resolver = Resolver::new(&state);
    let report = verify_credential(verifiable_credential, &verify, &resolver).await;
    let result = credential_verification(&report, returned, None)?;
    let status = if result.verified {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(HttpResponse::build(status).json(result))
}

/// Verifies a Verifiable Presentation and every credential in it (VC API).
#[utoipa::path(post, path = "/presentations/verify", tag = "verification",
    request_body = VerifyPresentationRequest,
    responses(
        (status = 200, description = "Verification ran; `verified` says whether the presentation and its credentials verified", body = PresentationVerification),
        (status = 400, body = crate::error::Problem),
        (status = 413, body = crate::error::Problem),
        (status = 429, body = crate::error::Problem)))]
pub async fn verify_presentation_endpoint(
    state: web::Data<AppState>,
    StrictJson(body): StrictJson<VerifyPresentationRequest>,
) -> ApiResult<HttpResponse> {
    let VerifyPresentationRequest {
        verifiable_presentation,
        options,
    } = body;
    check_names(options.checks.as_deref())?;
    let binding = Binding {
        challenge: options.challenge.clone(),
        domain: options.domain.clone(),
        // Whose facts the credentials state is for the caller's business rules, not this check.
        holder_must_be_subject: false,
    };
    let verify = verify_options(&state).with_status(StatusLists::new(&state));
    let proofs = proof_objects(&verifiable_presentation);
    let returned = options
        .return_presentation
        .unwrap_or(false)
        .then(|| verifiable_presentation.clone());
    let resolver = Resolver::new(&state);
    let report = verify_presentation(verifiable_presentation, &binding, &verify, &resolver).await;
    let result = presentation_verification(&report, &options, &proofs, returned)?;
    Ok(HttpResponse::Ok().json(result))
}

fn verify_options(state: &AppState) -> VerifyOptions {
    let mut options = VerifyOptions::at(state.now());
    options.limits = json::Limits {
        max_bytes: state.settings.limits.body_bytes,
        max_depth: state.settings.limits.json_depth,
        ..json::Limits::default()
    };
    options
}

fn check_names(checks: Option<&[String]>) -> ApiResult<()> {
    match checks
        .unwrap_or_default()
        .iter()
        .find(|name| !KNOWN_CHECKS.contains(&name.as_str()))
    {
        None => Ok(()),
        Some(unknown) => Err(ApiError::bad_body(format!(
            "`options.checks`: unknown check {unknown:?}; known checks are {} (all of them always run)",
            KNOWN_CHECKS.join(", ")
        ))),
    }
}

/// The VC API result of one credential's report. `index` places it in a presentation.
pub fn credential_verification(
    report: &CredentialReport,
    credential: Option<Value>,
    index: Option<usize>,
) -> ApiResult<CredentialVerification> {
    let problem_details: Vec<ProblemDetails> = report
        .checks
        .iter()
        .filter_map(|check| match &check.outcome {
            CheckOutcome::Failed { failure } | CheckOutcome::NotChecked { reason: failure } => {
                Some(problem(Some(check.check), failure, index))
            }
            CheckOutcome::Passed | CheckOutcome::NotApplicable => None,
        })
        .collect();
    let verified = report.is_valid();
    // The verdict and the problems come from the same checks; if they ever disagreed, saying
    // "not verified" is the only safe answer.
    let verified = verified && problem_details.is_empty();
    Ok(CredentialVerification {
        verified,
        credential,
        problem_details,
        results: serde_json::to_value(report).map_err(ApiError::internal)?,
    })
}

fn presentation_verification(
    report: &PresentationReport,
    options: &VerifyPresentationOptions,
    proofs: &[Value],
    returned: Option<Value>,
) -> ApiResult<PresentationVerification> {
    let mut problem_details: Vec<ProblemDetails> = report
        .failures
        .iter()
        .map(|failure| problem(None, failure, None))
        .collect();
    let mut credential_results = Vec::with_capacity(report.credentials.len());
    for (index, credential) in report.credentials.iter().enumerate() {
        let result = credential_verification(credential, None, Some(index))?;
        problem_details.extend(result.problem_details.iter().cloned());
        credential_results.push(result);
    }
    let verified = report.is_valid()
        && credential_results.iter().all(|c| c.verified)
        && problem_details.is_empty();
    let bound = |member: &str, expected: &Option<String>| {
        expected.as_ref().map(|input| BindingResult {
            valid: !proofs.is_empty() && proofs.iter().all(|proof| names(proof.get(member), input)),
            input: input.clone(),
        })
    };
    let holder = report.holder.as_ref().map(|holder| HolderResult {
        valid: corroborate_verifier::proof::all_passed(&report.proofs),
        input: holder.clone(),
    });
    Ok(PresentationVerification {
        verified,
        verifiable_presentation: returned,
        problem_details,
        results: PresentationResults {
            challenge: bound("challenge", &options.challenge),
            domain: bound("domain", &options.domain),
            holder,
            proof: report
                .proofs
                .iter()
                .map(|result| proof_check(result, proofs))
                .collect(),
        },
        credential_results,
    })
}

/// Whether a proof's `challenge`/`domain` member names `expected` (a domain may be a list).
fn names(found: Option<&Value>, expected: &str) -> bool {
    match found {
        Some(Value::String(value)) => value == expected,
        Some(Value::Array(values)) => values.iter().any(|v| v.as_str() == Some(expected)),
        _ => false,
    }
}

fn proof_objects(document: &Value) -> Vec<Value> {
    match document.get("proof") {
        Some(Value::Array(proofs)) => proofs.clone(),
        Some(proof @ Value::Object(_)) => vec![proof.clone()],
        _ => Vec::new(),
    }
}

fn proof_check(result: &ProofResult, proofs: &[Value]) -> ProofCheckResult {
    ProofCheckResult {
        valid: result.failure.is_none(),
        input: proofs.get(result.index).cloned().unwrap_or(Value::Null),
        failure: result.failure.clone(),
    }
}

/// Problem types the specifications define: (type URL, title, code).
mod types {
    const VCDM: &str = "https://www.w3.org/TR/vc-data-model#";
    const SECURITY: &str = "https://w3id.org/security#";
    const STATUS: &str = "https://www.w3.org/ns/credentials/status-list#";

    pub type Known = (&'static str, &'static str, i32);

    pub const PARSING_ERROR: Known = (VCDM, "PARSING_ERROR", -64);
    pub const MALFORMED_VALUE_ERROR: Known = (VCDM, "MALFORMED_VALUE_ERROR", -66);
    pub const PROOF_VERIFICATION_ERROR: Known = (SECURITY, "PROOF_VERIFICATION_ERROR", -17);
    pub const PROOF_TRANSFORMATION_ERROR: Known = (SECURITY, "PROOF_TRANSFORMATION_ERROR", -18);
    pub const INVALID_DOMAIN_ERROR: Known = (SECURITY, "INVALID_DOMAIN_ERROR", -19);
    pub const INVALID_CHALLENGE_ERROR: Known = (SECURITY, "INVALID_CHALLENGE_ERROR", -20);
    pub const STATUS_RETRIEVAL_ERROR: Known = (STATUS, "STATUS_RETRIEVAL_ERROR", -128);
    pub const STATUS_VERIFICATION_ERROR: Known = (STATUS, "STATUS_VERIFICATION_ERROR", -129);
}

/// The specified problem type of a failure found by `check`, when one fits.
fn known_type(check: Option<Check>, failure: &Failure) -> Option<types::Known> {
    use types::*;
    Some(match (check, failure) {
        (_, Failure::ChallengeMismatch) => INVALID_CHALLENGE_ERROR,
        (_, Failure::DomainMismatch { .. }) => INVALID_DOMAIN_ERROR,
        (_, Failure::StatusNotChecked { .. }) => STATUS_RETRIEVAL_ERROR,
        (Some(Check::Status), Failure::Malformed { .. } | Failure::Limit { .. }) => {
            STATUS_VERIFICATION_ERROR
        }
        // Canonicalization of a document whose proof is being checked.
        (
            Some(Check::Proof),
            Failure::JsonLd { .. } | Failure::UnknownContext { .. } | Failure::Malformed { .. },
        ) => PROOF_TRANSFORMATION_ERROR,
        (_, Failure::JsonLd { .. } | Failure::Limit { .. }) => PARSING_ERROR,
        (
            _,
            Failure::Malformed { .. } | Failure::UnknownContext { .. } | Failure::Schema { .. },
        ) => MALFORMED_VALUE_ERROR,
        (
            _,
            Failure::NoProof
            | Failure::UnsupportedProofType { .. }
            | Failure::UnsupportedCryptosuite { .. }
            | Failure::MalformedProof { .. }
            | Failure::MalformedProofValue { .. }
            | Failure::WrongProofPurpose { .. }
            | Failure::BadSignature
            | Failure::KeyNotControlledBy { .. }
            | Failure::UnknownDidMethod { .. }
            | Failure::DidResolution { .. }
            | Failure::MalformedKey { .. }
            | Failure::ProofCreatedInFuture { .. }
            | Failure::ProofExpired { .. }
            | Failure::MissingPreviousProof { .. },
        ) => PROOF_VERIFICATION_ERROR,
        // Validity period, revocation, holder binding, missing schema: no specified type.
        (
            _,
            Failure::NotYetValid { .. }
            | Failure::Expired { .. }
            | Failure::Revoked { .. }
            | Failure::HolderNotSubject { .. }
            | Failure::NoSchema { .. },
        ) => return None,
    })
}

/// The failure's stable code (its serde tag).
fn failure_code(failure: &Failure) -> String {
    serde_json::to_value(failure)
        .ok()
        .and_then(|value| value.get("code").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn problem(check: Option<Check>, failure: &Failure, index: Option<usize>) -> ProblemDetails {
    let (kind, title, code) = match known_type(check, failure) {
        Some((base, name, code)) => (format!("{base}{name}"), name.to_owned(), Some(code)),
        None => {
            let code = failure_code(failure);
            (
                format!("{FAILURE_BASE}{code}"),
                code.to_ascii_uppercase(),
                None,
            )
        }
    };
    ProblemDetails {
        kind,
        code,
        title,
        detail: match index {
            Some(index) => format!("credential {index}: {failure}"),
            None => failure.to_string(),
        },
        check,
        failure: failure.clone(),
        credential_index: index,
    }
}

pub fn routes(cfg: &mut web::ServiceConfig, limiter: &crate::app::Limiter) {
    limiter.resource(
        cfg,
        "/credentials/verify",
        vec![web::post().to(verify_credential_endpoint)],
    );
    limiter.resource(
        cfg,
        "/presentations/verify",
        vec![web::post().to(verify_presentation_endpoint)],
    );
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(verify_credential_endpoint, verify_presentation_endpoint),
    components(schemas(
        VerifyCredentialRequest,
        VerifyCredentialOptions,
        VerifyPresentationRequest,
        VerifyPresentationOptions,
        CredentialVerification,
        PresentationVerification,
        PresentationResults,
        BindingResult,
        HolderResult,
        ProofCheckResult,
        ProblemDetails
    ))
)]
pub struct Api;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_get_the_specified_problem_types() {
        let cases: Vec<(Option<Check>, Failure, &str, Option<i32>)> = vec![
            (
                Some(Check::Proof),
                Failure::BadSignature,
                "https://w3id.org/security#PROOF_VERIFICATION_ERROR",
                Some(-17),
            ),
            (
                Some(Check::Proof),
                Failure::ChallengeMismatch,
                "https://w3id.org/security#INVALID_CHALLENGE_ERROR",
                Some(-20),
            ),
            (
                None,
                Failure::DomainMismatch {
                    expected: "a".into(),
                    found: "b".into(),
                },
                "https://w3id.org/security#INVALID_DOMAIN_ERROR",
                Some(-19),
            ),
            (
                Some(Check::DataModel),
                Failure::Malformed { detail: "x".into() },
                "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR",
                Some(-66),
            ),
            (
                Some(Check::Proof),
                Failure::JsonLd { detail: "x".into() },
                "https://w3id.org/security#PROOF_TRANSFORMATION_ERROR",
                Some(-18),
            ),
            (
                Some(Check::Status),
                Failure::StatusNotChecked { detail: "x".into() },
                "https://www.w3.org/ns/credentials/status-list#STATUS_RETRIEVAL_ERROR",
                Some(-128),
            ),
            (
                Some(Check::Status),
                Failure::Malformed { detail: "x".into() },
                "https://www.w3.org/ns/credentials/status-list#STATUS_VERIFICATION_ERROR",
                Some(-129),
            ),
            (
                Some(Check::Status),
                Failure::Revoked {
                    purpose: "revocation".into(),
                },
                "https://w3id.org/corroborate/failures#revoked",
                None,
            ),
            (
                Some(Check::ValidityPeriod),
                Failure::Expired {
                    valid_until: "2020-01-01T00:00:00Z".into(),
                },
                "https://w3id.org/corroborate/failures#expired",
                None,
            ),
        ];
        for (check, failure, kind, code) in cases {
            let found = problem(check, &failure, None);
            assert_eq!(found.kind, kind, "{failure:?}");
            assert_eq!(found.code, code, "{failure:?}");
            assert_eq!(found.detail, failure.to_string());
            assert!(
                kind.to_ascii_uppercase()
                    .ends_with(&format!("#{}", found.title)),
                "{kind}"
            );
        }
    }

    #[test]
    fn unknown_check_names_are_refused() {
        assert!(check_names(None).is_ok());
        assert!(check_names(Some(&["proof".to_owned(), "status".to_owned()])).is_ok());
        let refused = check_names(Some(&["telepathy".to_owned()])).unwrap_err();
        assert!(refused.detail.contains("telepathy"), "{}", refused.detail);
    }
}

//! Verifying one credential: every check, each with its own result, and a fail-closed verdict.
//!
//! A [`CredentialReport`] lists the checks that apply (data model, proof, validity period, fact
//! schema, revocation status) with what each found. The verdict is `valid` only when every required
//! check ran and passed; a check that could not run (no usable status list, no schema for the type
//! when one is required) makes it `indeterminate`, never `valid` (DESIGN.md, invariant 5). Status
//! lists come from the [`StatusListSource`] in [`VerifyOptions::status`]: none by default, so a
//! credential with a `credentialStatus` stays indeterminate unless the caller supplies its lists.

use crate::credential::Credential;
use crate::did::{DidResolver, ProofPurpose};
use crate::failure::Failure;
use crate::json::{self, Limits};
use crate::proof::{self, Expectation, ProofResult};
use crate::schema;
use crate::status::{self, NoStatusLists, StatusListSource};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// What a verification is asked to do, and where its status lists come from.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyOptions<S = NoStatusLists> {
    /// The verification time (never read from a clock here).
    pub at: DateTime<Utc>,
    pub limits: Limits,
    /// Require the issuer to control the signing key. Off only to check the specification's
    /// vectors proof-only.
    pub require_issuer_key: bool,
    /// Require a fact schema for the credential's type (a decision always does).
    pub require_schema: bool,
    /// What the credential's proofs must say: purpose (normally `assertionMethod`), and the
    /// challenge and domain when the caller expects them (VC API `options`).
    pub proof: ProofChecks,
    /// How far in the future a proof's `created` may lie, for clocks that differ a little.
    pub clock_skew: chrono::Duration,
    /// The status lists to check `credentialStatus` entries against. [`NoStatusLists`] by
    /// default: every status entry is then "not checked".
    pub status: S,
}

impl VerifyOptions {
    /// Options for a verification at `at`, with no status lists.
    pub fn at(at: DateTime<Utc>) -> Self {
        VerifyOptions {
            at,
            limits: Limits::default(),
            require_issuer_key: true,
            require_schema: false,
            proof: ProofChecks::default(),
            clock_skew: DEFAULT_CLOCK_SKEW,
            status: NoStatusLists,
        }
    }
}

impl<S> VerifyOptions<S> {
    /// The same options, checking status entries against `status` (e.g. `&StaticStatusLists`).
    pub fn with_status<T: StatusListSource>(self, status: T) -> VerifyOptions<T> {
        VerifyOptions {
            at: self.at,
            limits: self.limits,
            require_issuer_key: self.require_issuer_key,
            require_schema: self.require_schema,
            proof: self.proof,
            clock_skew: self.clock_skew,
            status,
        }
    }
}

/// Tolerance for a proof `created` slightly ahead of the verifier's clock.
pub const DEFAULT_CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// What a credential's proofs must state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofChecks {
    pub purpose: ProofPurpose,
    pub challenge: Option<String>,
    pub domain: Option<String>,
}

impl Default for ProofChecks {
    fn default() -> Self {
        ProofChecks {
            purpose: ProofPurpose::AssertionMethod,
            challenge: None,
            domain: None,
        }
    }
}

/// The checks a credential goes through, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Parses as strict JSON and follows the VC 2.0 data model.
    DataModel,
    /// Every Data Integrity proof verifies with a key the issuer controls.
    Proof,
    /// `validFrom` ≤ verification time ≤ `validUntil`.
    ValidityPeriod,
    /// The claims match the fact type's JSON Schema.
    Schema,
    /// Not revoked or suspended.
    Status,
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CheckOutcome {
    Passed,
    Failed {
        failure: Failure,
    },
    /// The check could not run; the reason says why.
    NotChecked {
        reason: Failure,
    },
    /// The check does not apply to this credential (e.g. no `credentialStatus`).
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub check: Check,
    #[serde(flatten)]
    pub outcome: CheckOutcome,
    /// For the status check: when the status lists it read were fetched (the oldest, when there
    /// were several), so the result holds "as of" then. `None` when no list was read or a source
    /// did not say when it fetched one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<DateTime<Utc>>,
}

/// The overall verdict of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Valid,
    Invalid,
    Indeterminate,
}

/// Everything verification found about one credential.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CredentialReport {
    pub verdict: Verdict,
    pub checks: Vec<CheckResult>,
    pub proofs: Vec<ProofResult>,
    #[serde(skip)]
    pub credential: Option<Credential>,
}

impl CredentialReport {
    /// Every failure found (failed checks and checks that could not run).
    pub fn failures(&self) -> Vec<Failure> {
        self.checks
            .iter()
            .filter_map(|c| match &c.outcome {
                CheckOutcome::Failed { failure } => Some(failure.clone()),
                CheckOutcome::NotChecked { reason } => Some(reason.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn is_valid(&self) -> bool {
        self.verdict == Verdict::Valid
    }

    fn new(
        checks: Vec<CheckResult>,
        proofs: Vec<ProofResult>,
        credential: Option<Credential>,
    ) -> Self {
        let verdict = verdict(&checks);
        CredentialReport {
            verdict,
            checks,
            proofs,
            credential,
        }
    }
}

/// Checks that must have passed for `valid`. Any other outcome of these is not a pass.
const REQUIRED: [Check; 4] = [
    Check::DataModel,
    Check::Proof,
    Check::ValidityPeriod,
    Check::Status,
];

fn verdict(checks: &[CheckResult]) -> Verdict {
    let any = |f: fn(&CheckOutcome) -> bool| checks.iter().any(|c| f(&c.outcome));
    if any(|o| matches!(o, CheckOutcome::Failed { .. })) {
        return Verdict::Invalid;
    }
    // Every required check passed; only status may instead not apply (no `credentialStatus`).
    let settled = |required: Check| {
        checks.iter().any(|c| {
            c.check == required
                && (c.outcome == CheckOutcome::Passed
                    || (required == Check::Status && c.outcome == CheckOutcome::NotApplicable))
        })
    };
    if REQUIRED.into_iter().all(settled) && !any(|o| matches!(o, CheckOutcome::NotChecked { .. })) {
        Verdict::Valid
    } else {
        Verdict::Indeterminate
    }
}

fn passed(check: Check) -> CheckResult {
    CheckResult {
        check,
        outcome: CheckOutcome::Passed,
        as_of: None,
    }
}

fn failed(check: Check, failure: Failure) -> CheckResult {
    CheckResult {
        check,
        outcome: CheckOutcome::Failed { failure },
        as_of: None,
    }
}

/// Verifies a credential given as bytes: strict JSON parse, then [`verify_credential`].
pub async fn verify_credential_bytes(
    bytes: &[u8],
    options: &VerifyOptions<impl StatusListSource>,
    resolver: &impl DidResolver,
) -> CredentialReport {
    match json::parse(bytes, &options.limits) {
        Ok(value) => verify_credential(value, options, resolver).await,
        Err(error) => CredentialReport::new(
            vec![failed(
                Check::DataModel,
                Failure::Malformed {
                    detail: error.to_string(),
                },
            )],
            Vec::new(),
            None,
        ),
    }
}

/// Verifies one parsed credential.
pub async fn verify_credential(
    value: Value,
    options: &VerifyOptions<impl StatusListSource>,
    resolver: &impl DidResolver,
) -> CredentialReport {
    let credential = match Credential::from_value(value) {
        Ok(credential) => credential,
        Err(failure) => {
            return CredentialReport::new(
                vec![failed(Check::DataModel, failure)],
                Vec::new(),
                None,
            );
        }
    };
    let expect = Expectation {
        purpose: options.proof.purpose,
        controller: options
            .require_issuer_key
            .then(|| credential.issuer().to_owned()),
        at: options.at,
        clock_skew: options.clock_skew,
        challenge: options.proof.challenge.clone(),
        domain: options.proof.domain.clone(),
        max_proofs: options.limits.max_proofs,
    };
    let (mut checks, proofs) =
        integrity_checks(&credential, &expect, options.require_schema, resolver).await;
    let proof_passed = checks
        .iter()
        .any(|c| c.check == Check::Proof && c.outcome == CheckOutcome::Passed);
    checks.push(if proof_passed {
        let found = status::check_status(
            &credential,
            options.at,
            &options.limits,
            &options.status,
            resolver,
        )
        .await;
        CheckResult {
            check: Check::Status,
            outcome: found.outcome,
            as_of: found.as_of,
        }
    } else {
        not_checked_after_bad_proof(&credential)
    });
    CredentialReport::new(checks, proofs, Some(credential))
}

/// Verifies a status list credential (for [`crate::status`]): data model, proof by a key its issuer
/// controls, validity period, as for any credential. Its own status is deliberately not followed:
/// that would check a list against a list, recursively. A list that carries a `credentialStatus`
/// gets a status check that did not run, so it is never `valid` (and [`crate::status`] refuses such
/// lists before calling this).
pub(crate) async fn verify_status_list_credential(
    credential: Credential,
    at: DateTime<Utc>,
    limits: &Limits,
    resolver: &impl DidResolver,
) -> CredentialReport {
    let expect = Expectation {
        purpose: ProofPurpose::AssertionMethod,
        controller: Some(credential.issuer().to_owned()),
        at,
        clock_skew: DEFAULT_CLOCK_SKEW,
        challenge: None,
        domain: None,
        max_proofs: limits.max_proofs,
    };
    let (mut checks, proofs) = integrity_checks(&credential, &expect, false, resolver).await;
    checks.push(CheckResult {
        check: Check::Status,
        outcome: match credential.json().get("credentialStatus") {
            None => CheckOutcome::NotApplicable,
            Some(_) => CheckOutcome::NotChecked {
                reason: Failure::StatusNotChecked {
                    detail: "the status of a status list credential is not followed".to_owned(),
                },
            },
        },
        as_of: None,
    });
    CredentialReport::new(checks, proofs, Some(credential))
}

/// Every check but status, on a credential that passed the data model: data model, proof,
/// validity period, schema.
async fn integrity_checks(
    credential: &Credential,
    expect: &Expectation,
    require_schema: bool,
    resolver: &impl DidResolver,
) -> (Vec<CheckResult>, Vec<ProofResult>) {
    let at = expect.at;
    let mut checks = vec![passed(Check::DataModel)];
    let proofs = match proof::verify_credential_proofs(credential, expect, resolver).await {
        Ok(results) => {
            match results.iter().find_map(|r| r.failure.clone()) {
                None if proof::all_passed(&results) => checks.push(passed(Check::Proof)),
                None => checks.push(failed(Check::Proof, Failure::NoProof)),
                Some(failure) => checks.push(failed(Check::Proof, failure)),
            }
            results
        }
        Err(failure) => {
            checks.push(failed(Check::Proof, failure));
            Vec::new()
        }
    };
    checks.push(match credential.check_validity_period(at) {
        Ok(()) => passed(Check::ValidityPeriod),
        Err(failure) => failed(Check::ValidityPeriod, failure),
    });
    checks.push(schema_check(credential, require_schema));
    (checks, proofs)
}

/// Status lists are consulted only for a credential whose proof verified: the lists an unsigned
/// or forged credential names are not worth fetching (the backend's source does I/O), and the
/// credential is invalid whatever they say.
fn not_checked_after_bad_proof(credential: &Credential) -> CheckResult {
    CheckResult {
        check: Check::Status,
        outcome: match credential.json().get("credentialStatus") {
            None => CheckOutcome::NotApplicable,
            Some(_) => CheckOutcome::NotChecked {
                reason: Failure::StatusNotChecked {
                    detail: "status lists are consulted only for credentials whose proof verifies"
                        .to_owned(),
                },
            },
        },
        as_of: None,
    }
}

fn schema_check(credential: &Credential, required: bool) -> CheckResult {
    let fact_type = credential.fact_type().unwrap_or("VerifiableCredential");
    if schema::schema_for(fact_type).is_none() {
        let reason = Failure::NoSchema {
            fact_type: fact_type.to_owned(),
        };
        return CheckResult {
            check: Check::Schema,
            outcome: if required {
                CheckOutcome::Failed { failure: reason }
            } else {
                CheckOutcome::NotApplicable
            },
            as_of: None,
        };
    }
    match schema::validate(fact_type, credential.json()) {
        Ok(()) => passed(Check::Schema),
        Err(error) => failed(
            Check::Schema,
            Failure::Schema {
                schema: fact_type.to_owned(),
                detail: error.to_string(),
            },
        ),
    }
}

//! What the wallet checks before it keeps a credential: that it is one (data model), that it
//! verifies (proofs with a key its issuer controls, validity period, fact schema, status), that it
//! is about the identity it was asked for, from the issuer expected, and that it states what was
//! asked. A credential that fails any of these is refused with the reason, and nothing is stored.

use chrono::{DateTime, Utc};
use corroborate_verifier::credential::Credential;
use corroborate_verifier::did::DidResolver;
use corroborate_verifier::fact::claim_differences;
use corroborate_verifier::status::StatusListSource;
use corroborate_verifier::verification::{
    Check, CheckOutcome, CredentialReport, Verdict, VerifyOptions, verify_credential,
};
use serde_json::{Map, Value};

/// What a received credential must be.
#[derive(Debug, Clone, Copy)]
pub struct Expectation<'a> {
    /// My identity it must be about.
    pub subject: &'a str,
    pub fact_type: Option<&'a str>,
    pub issuer: Option<&'a str>,
    /// The claims asked for (members of the credential subject), compared after normalization.
    pub claims: Option<&'a Map<String, Value>>,
}

/// Why a credential was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("it is not a verifiable credential: {0}")]
    Malformed(String),
    #[error("it is about {found}, not about {expected}")]
    NotAboutMe { expected: String, found: String },
    #[error("it is a {found}, not the {expected} asked for")]
    WrongType { expected: String, found: String },
    #[error("it is issued by {found}, not by {expected}")]
    WrongIssuer { expected: String, found: String },
    #[error("it does not state what was asked, at {}", .0.join(", "))]
    ClaimsDiffer(Vec<String>),
    #[error("it does not verify: {}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error("it could not be checked: {}", .0.join("; "))]
    Unchecked(Vec<String>),
    #[error("another credential with the id {0} is already in this wallet; it was not replaced")]
    DuplicateId(String),
}

/// A credential that passed every check.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub credential: Credential,
    pub report: CredentialReport,
}

impl Accepted {
    /// When the status lists read were fetched, when any were.
    pub fn status_as_of(&self) -> Option<DateTime<Utc>> {
        self.report.checks.iter().find_map(|check| check.as_of)
    }
}

/// Checks `value` against `expected`, then verifies it at `now`.
pub async fn check_received<R: DidResolver, L: StatusListSource>(
    value: &Value,
    expected: &Expectation<'_>,
    resolver: &R,
    lists: L,
    now: DateTime<Utc>,
) -> Result<Accepted, Refusal> {
    let credential =
        Credential::from_value(value.clone()).map_err(|e| Refusal::Malformed(e.to_string()))?;
    if let Some(wanted) = expected.fact_type {
        let found = credential.fact_type().unwrap_or("(no fact type)");
        if found != wanted {
            return Err(Refusal::WrongType {
                expected: wanted.to_owned(),
                found: found.to_owned(),
            });
        }
    }
    let subjects = credential.subjects();
    let subject = match subjects {
        [one] => one,
        _ => {
            return Err(Refusal::NotAboutMe {
                expected: expected.subject.to_owned(),
                found: format!("{} subjects", subjects.len()),
            });
        }
    };
    let found = subject
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("(nobody)");
    if found != expected.subject {
        return Err(Refusal::NotAboutMe {
            expected: expected.subject.to_owned(),
            found: found.to_owned(),
        });
    }
    if let Some(wanted) = expected.issuer
        && credential.issuer() != wanted
    {
        return Err(Refusal::WrongIssuer {
            expected: wanted.to_owned(),
            found: credential.issuer().to_owned(),
        });
    }
    if let Some(claims) = expected.claims {
        let differences = claim_differences(claims, subject);
        if !differences.is_empty() {
            return Err(Refusal::ClaimsDiffer(differences));
        }
    }
    let mut options = VerifyOptions::at(now).with_status(lists);
    options.require_schema = true;
    let report = verify_credential(value.clone(), &options, resolver).await;
    match report.verdict {
        Verdict::Valid => Ok(Accepted { credential, report }),
        Verdict::Invalid => Err(Refusal::Invalid(failures(&report))),
        Verdict::Indeterminate => Err(Refusal::Unchecked(failures(&report))),
    }
}

fn failures(report: &CredentialReport) -> Vec<String> {
    report
        .checks
        .iter()
        .filter_map(|check| match &check.outcome {
            CheckOutcome::Failed { failure } | CheckOutcome::NotChecked { reason: failure } => {
                Some(format!("{}: {failure}", check_name(check.check)))
            }
            _ => None,
        })
        .collect()
}

fn check_name(check: Check) -> &'static str {
    match check {
        Check::DataModel => "data model",
        Check::Proof => "proof",
        Check::ValidityPeriod => "validity period",
        Check::Schema => "schema",
        Check::Status => "status",
    }
}

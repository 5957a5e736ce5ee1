//! Verifiable presentations: a holder presents several credentials, bound to a verifier's
//! challenge and domain with an `authentication` proof.
//!
//! A presentation is refused as a whole when its own proof fails, when it is not bound to the
//! expected challenge and domain (a replayed or re-targeted presentation), or — when the verifier
//! decides a fact about the holder, as Corroborate's government flow does — when a credential in it
//! is about someone other than the holder. Each credential is then verified on its own; a bad
//! credential only fails itself.

use crate::credential::{VC_V2_CONTEXT, check_contexts, is_url, string_set};
use crate::did::{DidResolver, ProofPurpose};
use crate::failure::Failure;
use crate::json;
use crate::key::SecretKey;
use crate::proof::{self, Cryptosuite, Expectation, ProofOptions, ProofResult, SignError};
use crate::status::StatusListSource;
use crate::verification::{CredentialReport, VerifyOptions, verify_credential};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// What the verifier requires of a presentation: the binding it asked for, and whose facts it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Binding {
    /// The one-time challenge the verifier issued; when set, the proof must carry it.
    pub challenge: Option<String>,
    /// The verifier's domain (audience); when set, the proof must name it.
    pub domain: Option<String>,
    /// Every presented credential must be about the holder. The data model does not require it;
    /// deciding a fact about the person presenting does.
    pub holder_must_be_subject: bool,
}

impl Binding {
    /// A verifier deciding a fact about the holder: challenge and domain required, and every
    /// credential about the holder.
    pub fn for_decision(challenge: &str, domain: &str) -> Self {
        Binding {
            challenge: Some(challenge.to_owned()),
            domain: Some(domain.to_owned()),
            holder_must_be_subject: true,
        }
    }
}

/// Builds and signs a presentation of `credentials` by `holder`.
pub async fn sign_presentation(
    holder: &str,
    credentials: Vec<Value>,
    key: &SecretKey,
    verification_method: &str,
    cryptosuite: Cryptosuite,
    binding: &Binding,
    created: DateTime<Utc>,
) -> Result<Value, SignError> {
    let mut contexts = vec![Value::from(VC_V2_CONTEXT)];
    for credential in &credentials {
        if let Some(Value::Array(items)) = credential.get("@context") {
            for item in items {
                if !contexts.contains(item) {
                    contexts.push(item.clone());
                }
            }
        }
    }
    let presentation = json!({
        "@context": contexts,
        "type": ["VerifiablePresentation"],
        "holder": holder,
        "verifiableCredential": credentials,
    });
    let options = ProofOptions {
        cryptosuite,
        verification_method: verification_method.to_owned(),
        proof_purpose: ProofPurpose::Authentication,
        created: Some(created),
        expires: None,
        challenge: binding.challenge.clone(),
        domain: binding.domain.clone(),
        id: None,
        previous_proof: Vec::new(),
    };
    proof::add_proof(&presentation, key, &options).await
}

/// Everything verification found about a presentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PresentationReport {
    pub holder: Option<String>,
    /// Failures of the presentation itself; non-empty means the presentation is refused.
    pub failures: Vec<Failure>,
    pub proofs: Vec<ProofResult>,
    /// One report per presented credential, in order.
    pub credentials: Vec<CredentialReport>,
}

impl PresentationReport {
    pub fn is_valid(&self) -> bool {
        self.failures.is_empty() && proof::all_passed(&self.proofs)
    }
}

/// Verifies a presentation given as bytes (strict JSON parse first).
pub async fn verify_presentation_bytes(
    bytes: &[u8],
    binding: &Binding,
    options: &VerifyOptions<impl StatusListSource>,
    resolver: &impl DidResolver,
) -> PresentationReport {
    match json::parse(bytes, &options.limits) {
        Ok(value) => verify_presentation(value, binding, options, resolver).await,
        Err(error) => refused(
            None,
            Failure::Malformed {
                detail: error.to_string(),
            },
        ),
    }
}

fn refused(holder: Option<String>, failure: Failure) -> PresentationReport {
    PresentationReport {
        holder,
        failures: vec![failure],
        proofs: Vec::new(),
        credentials: Vec::new(),
    }
}

/// Verifies a parsed presentation against the verifier's `binding`.
pub async fn verify_presentation(
    value: Value,
    binding: &Binding,
    options: &VerifyOptions<impl StatusListSource>,
    resolver: &impl DidResolver,
) -> PresentationReport {
    let (holder, credentials) = match parse(&value, options) {
        Ok(parts) => parts,
        Err(failure) => {
            let holder = value
                .get("holder")
                .and_then(Value::as_str)
                .map(str::to_owned);
            return refused(holder, failure);
        }
    };
    let mut failures = Vec::new();
    if holder.is_none() && binding.holder_must_be_subject {
        failures.push(Failure::Malformed {
            detail: "`holder` is required: the credentials must be about the holder".to_owned(),
        });
    }
    let expect = Expectation {
        purpose: ProofPurpose::Authentication,
        controller: holder.clone(),
        at: options.at,
        clock_skew: options.clock_skew,
        challenge: binding.challenge.clone(),
        domain: binding.domain.clone(),
        max_proofs: options.limits.max_proofs,
    };
    let proofs = match proof::verify_proofs(&value, &expect, resolver).await {
        Ok(results) => {
            failures.extend(results.iter().filter_map(|r| r.failure.clone()));
            results
        }
        Err(failure) => {
            failures.push(failure);
            Vec::new()
        }
    };
    let mut reports = Vec::with_capacity(credentials.len());
    for (index, credential) in credentials.into_iter().enumerate() {
        if binding.holder_must_be_subject
            && let Some(holder) = &holder
        {
            let subjects = match credential.get("credentialSubject") {
                Some(Value::Array(items)) => items.iter().collect(),
                Some(one) => vec![one],
                None => Vec::new(),
            };
            let stranger = subjects
                .iter()
                .map(|s| s.get("id").and_then(Value::as_str))
                .find(|id| *id != Some(holder.as_str()));
            if subjects.is_empty() || stranger.is_some() {
                failures.push(Failure::HolderNotSubject {
                    index,
                    subject: stranger.flatten().unwrap_or("(no subject id)").to_owned(),
                    holder: holder.clone(),
                });
            }
        }
        reports.push(verify_credential(credential, options, resolver).await);
    }
    PresentationReport {
        holder,
        failures,
        proofs,
        credentials: reports,
    }
}

/// The presentation data model: contexts, type, holder, credentials.
fn parse<S>(
    value: &Value,
    options: &VerifyOptions<S>,
) -> Result<(Option<String>, Vec<Value>), Failure> {
    let malformed = |detail: &str| Failure::Malformed {
        detail: detail.to_owned(),
    };
    let object: &Map<String, Value> = value
        .as_object()
        .ok_or_else(|| malformed("a presentation must be a JSON object"))?;
    check_contexts(object)?;
    let types = string_set(object.get("type"), "type")?;
    if !types.iter().any(|t| t == "VerifiablePresentation") {
        return Err(malformed("`type` must include \"VerifiablePresentation\""));
    }
    let holder = match object.get("holder") {
        None => None,
        Some(h) => Some(
            h.as_str()
                .or_else(|| h.get("id").and_then(Value::as_str))
                .filter(|h| is_url(h))
                .ok_or_else(|| malformed("`holder` must be a URL or an object with a URL `id`"))?
                .to_owned(),
        ),
    };
    let credentials = match object.get("verifiableCredential") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        Some(_) => {
            return Err(malformed(
                "`verifiableCredential` must be an array of credentials",
            ));
        }
        None => Vec::new(),
    };
    if credentials.len() > options.limits.max_credentials {
        return Err(Failure::Limit {
            detail: format!(
                "{} credentials, more than the limit of {}",
                credentials.len(),
                options.limits.max_credentials
            ),
        });
    }
    if credentials.iter().any(|c| {
        c.get("type").is_some_and(|t| {
            t == "EnvelopedVerifiableCredential"
                || t.as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "EnvelopedVerifiableCredential"))
        })
    }) {
        return Err(malformed(
            "enveloped credentials are not supported; present Data Integrity credentials",
        ));
    }
    Ok((holder, credentials))
}

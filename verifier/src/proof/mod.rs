//! W3C Data Integrity proofs with the EdDSA cryptosuites `eddsa-rdfc-2022` and `eddsa-jcs-2022`.
//!
//! Both suites hash the proof configuration and the document separately (SHA-256 each, the proof
//! configuration's hash first) and sign the 64 concatenated bytes with Ed25519; they differ only in
//! how they canonicalize: RDFC-1.0 over the JSON-LD meaning ([`rdfc`]) or RFC 8785 over the JSON
//! text (`serde_json_canonicalizer`). Proof sets and chains (`previousProof`) follow the Data
//! Integrity specification: each proof of a chain covers the document together with the proofs it
//! names. Verification reports one result per proof; the document's proofs pass only if there is at
//! least one and every one passed (fail closed).

pub mod rdfc;

use crate::credential::Credential;
use crate::credential::{check_contexts, is_url, parse_date_time, rfc3339};
use crate::did::{self, DidResolver, ProofPurpose};
use crate::failure::Failure;
use crate::key::SecretKey;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The cryptosuites we sign and verify with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Cryptosuite {
    #[serde(rename = "eddsa-rdfc-2022")]
    EddsaRdfc2022,
    #[serde(rename = "eddsa-jcs-2022")]
    EddsaJcs2022,
}

impl Cryptosuite {
    pub fn as_str(self) -> &'static str {
        match self {
            Cryptosuite::EddsaRdfc2022 => "eddsa-rdfc-2022",
            Cryptosuite::EddsaJcs2022 => "eddsa-jcs-2022",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "eddsa-rdfc-2022" => Some(Cryptosuite::EddsaRdfc2022),
            "eddsa-jcs-2022" => Some(Cryptosuite::EddsaJcs2022),
            _ => None,
        }
    }

    /// The canonical form of `document` under this suite.
    pub async fn canonicalize(self, document: &Value) -> Result<Vec<u8>, Failure> {
        match self {
            Cryptosuite::EddsaRdfc2022 => {
                // Before `rdfc`, which keeps to exactly what ssi's own pipeline accepts and refuses
                // (its differential test compares the two): this guard refuses more.
                crate::context::check_percent_encoding(document)?;
                rdfc::canonicalize(document).await.map(String::into_bytes)
            }
            Cryptosuite::EddsaJcs2022 => jcs(document),
        }
    }

    /// The 64 bytes that are signed: SHA-256 of the canonical proof configuration, then SHA-256
    /// of the canonical document.
    pub async fn hash_data(
        self,
        proof_config: &Value,
        document: &Value,
    ) -> Result<[u8; 64], Failure> {
        let config_hash = Sha256::digest(self.canonicalize(proof_config).await?);
        let document_hash = Sha256::digest(self.canonicalize(document).await?);
        Ok(combine(&config_hash.into(), &document_hash.into()))
    }
}

impl std::fmt::Display for Cryptosuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signed bytes: the proof configuration's hash, then the document's.
fn combine(config_hash: &[u8; 32], document_hash: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(config_hash);
    out[32..].copy_from_slice(document_hash);
    out
}

/// RFC 8785 canonical JSON.
pub fn jcs(value: &Value) -> Result<Vec<u8>, Failure> {
    serde_json_canonicalizer::to_vec(value).map_err(|error| Failure::Malformed {
        detail: format!("cannot canonicalize as JSON: {error}"),
    })
}

/// What a new proof says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ProofOptions {
    pub cryptosuite: Cryptosuite,
    /// A DID URL naming the signing key, e.g. `did:key:z6Mk…#z6Mk…`.
    pub verification_method: String,
    pub proof_purpose: ProofPurpose,
    pub created: Option<DateTime<Utc>>,
    pub expires: Option<DateTime<Utc>>,
    pub challenge: Option<String>,
    pub domain: Option<String>,
    /// Needed for a proof that a later proof of a chain names.
    pub id: Option<String>,
    /// Ids of existing proofs this proof chains to.
    pub previous_proof: Vec<String>,
}

impl ProofOptions {
    /// Options for an issuer's `assertionMethod` proof, created at `created`.
    pub fn assertion(
        cryptosuite: Cryptosuite,
        verification_method: String,
        created: DateTime<Utc>,
    ) -> Self {
        ProofOptions {
            cryptosuite,
            verification_method,
            proof_purpose: ProofPurpose::AssertionMethod,
            created: Some(created),
            expires: None,
            challenge: None,
            domain: None,
            id: None,
            previous_proof: Vec::new(),
        }
    }

    fn to_config(&self) -> Map<String, Value> {
        let mut config = Map::new();
        let mut put = |k: &str, v: Value| {
            config.insert(k.to_owned(), v);
        };
        put("type", Value::from(DATA_INTEGRITY_PROOF));
        put("cryptosuite", Value::from(self.cryptosuite.as_str()));
        if let Some(id) = &self.id {
            put("id", Value::from(id.clone()));
        }
        if let Some(created) = self.created {
            put("created", Value::from(rfc3339(created)));
        }
        if let Some(expires) = self.expires {
            put("expires", Value::from(rfc3339(expires)));
        }
        put(
            "verificationMethod",
            Value::from(self.verification_method.clone()),
        );
        put("proofPurpose", Value::from(self.proof_purpose.as_str()));
        if let Some(challenge) = &self.challenge {
            put("challenge", Value::from(challenge.clone()));
        }
        if let Some(domain) = &self.domain {
            put("domain", Value::from(domain.clone()));
        }
        match self.previous_proof.as_slice() {
            [] => {}
            [one] => put("previousProof", Value::from(one.clone())),
            many => put("previousProof", Value::from(many.to_vec())),
        }
        config
    }
}

const DATA_INTEGRITY_PROOF: &str = "DataIntegrityProof";

/// Why a proof could not be added.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the document must be a JSON object")]
    NotAnObject,
    #[error("the document's `proof` must be an object or an array of objects")]
    BadExistingProof,
    #[error("previous proof {0:?} is not on the document")]
    MissingPreviousProof(String),
    #[error("the document cannot be secured: {0}")]
    Document(Failure),
    #[error("a proof id must be a URL, found {0:?}")]
    BadProofId(String),
    #[error("the verification method {0:?} is not a DID URL with a fragment")]
    BadVerificationMethod(String),
}

/// Adds a proof to `document` (keeping any proofs it already has: a proof set, or a chain when
/// `options.previous_proof` names some of them). Returns the secured document.
pub async fn add_proof(
    document: &Value,
    key: &SecretKey,
    options: &ProofOptions,
) -> Result<Value, SignError> {
    let Value::Object(object) = document else {
        return Err(SignError::NotAnObject);
    };
    if let Some(id) = options.id.as_deref().filter(|id| !is_url(id)) {
        return Err(SignError::BadProofId(id.to_owned()));
    }
    if !options.verification_method.contains('#')
        || !options.verification_method.starts_with("did:")
    {
        return Err(SignError::BadVerificationMethod(
            options.verification_method.clone(),
        ));
    }
    let mut unsecured = object.clone();
    let existing = match unsecured.remove("proof") {
        None => Vec::new(),
        Some(Value::Object(proof)) => vec![Value::Object(proof)],
        Some(Value::Array(proofs)) if proofs.iter().all(Value::is_object) => proofs,
        Some(_) => return Err(SignError::BadExistingProof),
    };
    let mut input = unsecured.clone();
    if !options.previous_proof.is_empty() {
        let mut matching = Vec::new();
        for id in &options.previous_proof {
            let found = existing
                .iter()
                .find(|p| p.get("id").and_then(Value::as_str) == Some(id.as_str()))
                .ok_or_else(|| SignError::MissingPreviousProof(id.clone()))?;
            matching.push(found.clone());
        }
        input.insert("proof".to_owned(), Value::Array(matching));
    }
    let mut config = options.to_config();
    if let Some(context) = unsecured.get("@context") {
        config.insert("@context".to_owned(), context.clone());
    }
    let hash = options
        .cryptosuite
        .hash_data(&Value::Object(config.clone()), &Value::Object(input))
        .await
        .map_err(SignError::Document)?;
    let signature = key.sign(&hash);
    let mut proof = config;
    proof.insert(
        "proofValue".to_owned(),
        Value::from(format!("z{}", bs58::encode(signature).into_string())),
    );
    // eddsa-rdfc-2022 proofs do not carry the context they were made with; eddsa-jcs-2022 proofs do.
    if options.cryptosuite == Cryptosuite::EddsaRdfc2022 {
        proof.remove("@context");
    }
    let proof = Value::Object(proof);
    let proofs = if existing.is_empty() {
        proof
    } else {
        let mut all = existing;
        all.push(proof);
        Value::Array(all)
    };
    let mut secured = unsecured;
    secured.insert("proof".to_owned(), proofs);
    Ok(Value::Object(secured))
}

/// What a verifier requires of every proof on a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub purpose: ProofPurpose,
    /// The DID that must control each proof's verification method (the issuer or the holder).
    /// `None` checks the proofs only, as for the specification's vectors, whose issuer does not
    /// control the signing key.
    pub controller: Option<String>,
    /// The verification time.
    pub at: DateTime<Utc>,
    /// How far in the future a proof's `created` may lie (clocks differ a little).
    pub clock_skew: chrono::Duration,
    /// For presentations: the challenge the verifier issued.
    pub challenge: Option<String>,
    /// For presentations: the verifier's domain.
    pub domain: Option<String>,
    pub max_proofs: usize,
}

/// The result of one proof on a document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProofResult {
    /// Position in the document's `proof` list.
    pub index: usize,
    pub id: Option<String>,
    pub cryptosuite: Option<String>,
    pub verification_method: Option<String>,
    /// `None` when the proof verified.
    pub failure: Option<Failure>,
}

/// Verifies every proof on `document` (a set, a chain, or one). The document passes only when the
/// returned list is non-empty and no entry has a failure; see [`all_passed`].
pub async fn verify_proofs(
    document: &Value,
    expect: &Expectation,
    resolver: &impl DidResolver,
) -> Result<Vec<ProofResult>, Failure> {
    verify_proofs_with(document, expect, resolver, None).await
}

/// [`verify_proofs`] on a parsed credential, reusing its content hash (computed at most once, and
/// also its fingerprint) as the document hash of an eddsa-jcs-2022 proof.
pub async fn verify_credential_proofs(
    credential: &Credential,
    expect: &Expectation,
    resolver: &impl DidResolver,
) -> Result<Vec<ProofResult>, Failure> {
    let content_hash = || credential.content_hash();
    verify_proofs_with(credential.json(), expect, resolver, Some(&content_hash)).await
}

async fn verify_proofs_with(
    document: &Value,
    expect: &Expectation,
    resolver: &impl DidResolver,
    content_hash: Option<&dyn Fn() -> [u8; 32]>,
) -> Result<Vec<ProofResult>, Failure> {
    let Value::Object(object) = document else {
        return Err(Failure::Malformed {
            detail: "a secured document must be a JSON object".to_owned(),
        });
    };
    let mut unsecured = object.clone();
    let proofs = match unsecured.remove("proof") {
        None => return Err(Failure::NoProof),
        Some(Value::Object(proof)) => vec![Value::Object(proof)],
        Some(Value::Array(proofs)) if !proofs.is_empty() => proofs,
        Some(_) => {
            return Err(Failure::MalformedProof {
                detail: "`proof` must be an object or a non-empty array of objects".to_owned(),
            });
        }
    };
    if proofs.len() > expect.max_proofs {
        return Err(Failure::Limit {
            detail: format!(
                "{} proofs, more than the limit of {}",
                proofs.len(),
                expect.max_proofs
            ),
        });
    }
    let mut results = Vec::with_capacity(proofs.len());
    for (index, proof) in proofs.iter().enumerate() {
        let failure = verify_one(&unsecured, &proofs, proof, expect, resolver, content_hash)
            .await
            .err();
        results.push(ProofResult {
            index,
            id: proof.get("id").and_then(Value::as_str).map(str::to_owned),
            cryptosuite: proof
                .get("cryptosuite")
                .and_then(Value::as_str)
                .map(str::to_owned),
            verification_method: proof
                .get("verificationMethod")
                .and_then(Value::as_str)
                .map(str::to_owned),
            failure,
        });
    }
    Ok(results)
}

/// Whether a proof report is a pass: at least one proof, none failed.
pub fn all_passed(results: &[ProofResult]) -> bool {
    !results.is_empty() && results.iter().all(|r| r.failure.is_none())
}

async fn verify_one(
    unsecured: &Map<String, Value>,
    all_proofs: &[Value],
    proof: &Value,
    expect: &Expectation,
    resolver: &impl DidResolver,
    content_hash: Option<&dyn Fn() -> [u8; 32]>,
) -> Result<(), Failure> {
    let malformed = |detail: &str| Failure::MalformedProof {
        detail: detail.to_owned(),
    };
    let Value::Object(proof) = proof else {
        return Err(malformed("each proof must be an object"));
    };
    let proof_type = proof
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("`type` is required"))?;
    if proof_type != DATA_INTEGRITY_PROOF {
        return Err(Failure::UnsupportedProofType {
            found: proof_type.to_owned(),
        });
    }
    let suite_name = proof
        .get("cryptosuite")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("`cryptosuite` is required"))?;
    let suite =
        Cryptosuite::from_name(suite_name).ok_or_else(|| Failure::UnsupportedCryptosuite {
            found: suite_name.to_owned(),
        })?;
    let purpose = proof
        .get("proofPurpose")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("`proofPurpose` is required"))?;
    if purpose != expect.purpose.as_str() {
        return Err(Failure::WrongProofPurpose {
            expected: expect.purpose.as_str().to_owned(),
            found: purpose.to_owned(),
        });
    }
    let method = proof
        .get("verificationMethod")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("`verificationMethod` must be a string"))?;
    let proof_value = proof
        .get("proofValue")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("`proofValue` must be a string"))?;
    let signature = decode_proof_value(proof_value)?;
    if let Some(id) = proof.get("id")
        && !id.as_str().is_some_and(is_url)
    {
        return Err(malformed("a proof's `id` must be a URL"));
    }
    for field in ["created", "expires"] {
        if let Some(value) = proof.get(field)
            && value.as_str().and_then(parse_date_time).is_none()
        {
            return Err(malformed(&format!(
                "`{field}` must be a date-time with a time zone"
            )));
        }
    }
    if let Some(created) = proof
        .get("created")
        .and_then(Value::as_str)
        .and_then(parse_date_time)
        && created > expect.at + expect.clock_skew
    {
        return Err(Failure::ProofCreatedInFuture {
            created: rfc3339(created),
        });
    }
    if let Some(expires) = proof
        .get("expires")
        .and_then(Value::as_str)
        .and_then(parse_date_time)
        && expires < expect.at
    {
        return Err(Failure::ProofExpired {
            expires: rfc3339(expires),
        });
    }
    if let Some(expected) = &expect.challenge
        && proof.get("challenge").and_then(Value::as_str) != Some(expected.as_str())
    {
        return Err(Failure::ChallengeMismatch);
    }
    if let Some(expected) = &expect.domain {
        let found = proof.get("domain");
        let matches = match found {
            Some(Value::String(d)) => d == expected,
            Some(Value::Array(ds)) => ds.iter().any(|d| d.as_str() == Some(expected.as_str())),
            _ => false,
        };
        if !matches {
            return Err(Failure::DomainMismatch {
                expected: expected.clone(),
                found: found.map_or_else(|| "nothing".to_owned(), Value::to_string),
            });
        }
    }
    if let Some(controller) = &expect.controller
        && did::did_of(method) != controller
    {
        return Err(Failure::KeyNotControlledBy {
            verification_method: method.to_owned(),
            expected_controller: controller.clone(),
        });
    }

    // Data Integrity, Verify Proof: the proof's own @context must be a prefix of the document's,
    // and is then the context the document is hashed with.
    // The document is copied only when this proof hashes something other than `unsecured`.
    let mut document = std::borrow::Cow::Borrowed(unsecured);
    let mut config = proof.clone();
    config.remove("proofValue");
    if let Some(proof_context) = config.get("@context")
        && document.get("@context") != Some(proof_context)
    {
        let as_list = |v: &Value| match v {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        let wanted = as_list(proof_context);
        let have = document.get("@context").map(as_list).unwrap_or_default();
        if !have.starts_with(&wanted) {
            return Err(malformed(
                "the proof's `@context` is not a prefix of the document's",
            ));
        }
        document
            .to_mut()
            .insert("@context".to_owned(), proof_context.clone());
    } else if config.get("@context").is_none()
        && suite == Cryptosuite::EddsaRdfc2022
        && let Some(context) = document.get("@context")
    {
        // Only eddsa-rdfc-2022's proof configuration takes the document's context; an
        // eddsa-jcs-2022 proof without `@context` was configured (and signed) without one.
        config.insert("@context".to_owned(), context.clone());
    }
    check_contexts(&document)?;
    // A chained proof covers the proofs it names.
    if let Some(previous) = proof.get("previousProof") {
        let ids: Vec<&str> = match previous {
            Value::String(id) => vec![id.as_str()],
            Value::Array(ids) => ids
                .iter()
                .map(|id| {
                    id.as_str()
                        .ok_or_else(|| malformed("`previousProof` entries must be strings"))
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(malformed(
                    "`previousProof` must be a string or an array of strings",
                ));
            }
        };
        let mut matching = Vec::with_capacity(ids.len());
        for id in ids {
            let found = all_proofs
                .iter()
                .find(|p| p.get("id").and_then(Value::as_str) == Some(id))
                .ok_or_else(|| Failure::MissingPreviousProof { id: id.to_owned() })?;
            matching.push(found.clone());
        }
        document
            .to_mut()
            .insert("proof".to_owned(), Value::Array(matching));
    }

    let method = did::resolve_verification_method(resolver, method, expect.purpose)
        .await
        .map_err(Failure::from)?;
    let config = Value::Object(config);
    let hash = match (&document, suite, content_hash) {
        // The credential's own content hash is this proof's document hash: JCS of the document
        // without its proofs, unchanged by context or chain.
        (std::borrow::Cow::Borrowed(_), Cryptosuite::EddsaJcs2022, Some(content_hash)) => {
            combine(&Sha256::digest(jcs(&config)?).into(), &content_hash())
        }
        _ => {
            suite
                .hash_data(&config, &Value::Object(document.into_owned()))
                .await?
        }
    };
    method
        .key
        .verify(&hash, &signature)
        .map_err(|_| Failure::BadSignature)
}

/// `proofValue`: base58btc multibase (`z…`) of exactly 64 signature bytes.
fn decode_proof_value(text: &str) -> Result<Vec<u8>, Failure> {
    let fail = |detail: String| Failure::MalformedProofValue { detail };
    let Some(encoded) = text.strip_prefix('z') else {
        return Err(fail(format!(
            "expected base58btc multibase (prefix 'z'), found prefix {:?}",
            text.chars().next().unwrap_or(' ')
        )));
    };
    let bytes = bs58::decode(encoded)
        .into_vec()
        .map_err(|error| fail(format!("invalid base58btc: {error}")))?;
    if bytes.len() != 64 {
        return Err(fail(format!(
            "an Ed25519 signature is 64 bytes, found {}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

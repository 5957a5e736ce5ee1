//! Why a credential or presentation did not pass a check.
//!
//! A [`Failure`] is data, not an error: it is part of a verification report and of a decision's
//! explanation. Each variant has a stable `code` (its serde tag) that front ends translate; the
//! English text of [`std::fmt::Display`] is for logs and the command line.

use serde::{Deserialize, Serialize};

/// One reason a check did not pass. The serialized form is `{"code": "...", ...fields}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Failure {
    /// The JSON is not a credential or presentation of the data model (wrong type, missing field).
    #[error("malformed document: {detail}")]
    Malformed { detail: String },
    /// An `@context` entry that we do not ship. Contexts are never fetched.
    #[error("unknown JSON-LD context {url:?}: only contexts shipped with Corroborate are accepted")]
    UnknownContext { url: String },
    /// JSON-LD expansion failed, or a term is not defined by the contexts (safe mode).
    #[error("JSON-LD processing failed: {detail}")]
    JsonLd { detail: String },
    /// The claims do not match the fact type's JSON Schema.
    #[error("does not match schema {schema}: {detail}")]
    Schema { schema: String, detail: String },
    /// The document carries no proof.
    #[error("no proof")]
    NoProof,
    /// A proof whose `type` we do not support.
    #[error("unsupported proof type {found:?}")]
    UnsupportedProofType { found: String },
    /// A `DataIntegrityProof` whose cryptosuite we do not support.
    #[error("unsupported cryptosuite {found:?}")]
    UnsupportedCryptosuite { found: String },
    /// The proof is not well formed (missing or ill-typed field).
    #[error("malformed proof: {detail}")]
    MalformedProof { detail: String },
    /// `proofValue` is not a base58btc multibase string of a 64-byte signature.
    #[error("malformed proof value: {detail}")]
    MalformedProofValue { detail: String },
    /// The proof's purpose is not the one this use requires.
    #[error("wrong proof purpose: expected {expected}, found {found}")]
    WrongProofPurpose { expected: String, found: String },
    /// The signature does not verify: the content or the proof was changed, or another key signed.
    #[error("signature does not verify (tampered content or proof, or wrong key)")]
    BadSignature,
    /// The verification method belongs to a DID other than the issuer (or holder).
    #[error("verification method {verification_method} is not controlled by {expected_controller}")]
    KeyNotControlledBy {
        verification_method: String,
        expected_controller: String,
    },
    /// The verification method's DID uses a method we cannot resolve.
    #[error("unknown DID method {method:?}")]
    UnknownDidMethod { method: String },
    /// The DID could not be resolved, or the method is not in the document for this purpose.
    #[error("could not resolve {did}: {detail}")]
    DidResolution { did: String, detail: String },
    /// The key material is malformed (multibase, multicodec, length, small order, non-canonical).
    #[error("malformed key: {detail}")]
    MalformedKey { detail: String },
    /// `validFrom` is later than the verification time.
    #[error("not valid before {valid_from}")]
    NotYetValid { valid_from: String },
    /// `validUntil` is earlier than the verification time.
    #[error("expired at {valid_until}")]
    Expired { valid_until: String },
    /// The proof's `created` is later than the verification time.
    #[error("proof created in the future ({created})")]
    ProofCreatedInFuture { created: String },
    /// The proof's `expires` is earlier than the verification time.
    #[error("proof expired at {expires}")]
    ProofExpired { expires: String },
    /// A presentation proof's challenge is not the one the verifier issued.
    #[error("challenge does not match")]
    ChallengeMismatch,
    /// A presentation proof's domain is not the verifier's.
    #[error("domain does not match: expected {expected}, found {found}")]
    DomainMismatch { expected: String, found: String },
    /// A presented credential is not about the presentation's holder.
    #[error("credential {index} is about {subject}, not the holder {holder}")]
    HolderNotSubject {
        index: usize,
        subject: String,
        holder: String,
    },
    /// A proof in a chain names a `previousProof` that is not in the document.
    #[error("previous proof {id} is missing")]
    MissingPreviousProof { id: String },
    /// The credential has a `credentialStatus` and no status list was available to check it.
    #[error("revocation status could not be checked: {detail}")]
    StatusNotChecked { detail: String },
    /// The credential is revoked or suspended according to its status list.
    #[error("revoked or suspended ({purpose})")]
    Revoked { purpose: String },
    /// No fact schema is known for this credential type.
    #[error("no schema for credential type {fact_type:?}")]
    NoSchema { fact_type: String },
    /// A size or count limit was exceeded.
    #[error("limit exceeded: {detail}")]
    Limit { detail: String },
}

impl From<crate::did::DidError> for Failure {
    fn from(error: crate::did::DidError) -> Self {
        use crate::did::DidError;
        match error {
            DidError::UnknownMethod { method } => Failure::UnknownDidMethod { method },
            DidError::Key(key) => Failure::MalformedKey {
                detail: key.to_string(),
            },
            DidError::NotAuthorizedForPurpose { id, purpose } => Failure::DidResolution {
                did: crate::did::did_of(&id).to_owned(),
                detail: format!("verification method {id} is not authorized for {purpose}"),
            },
            other => {
                let detail = other.to_string();
                let did = match &other {
                    DidError::MalformedDid { did, .. }
                    | DidError::NotFound { did }
                    | DidError::ResolutionFailed { did, .. }
                    | DidError::DocumentIdMismatch { did, .. } => did.clone(),
                    DidError::VerificationMethodNotFound { id }
                    | DidError::UnsupportedVerificationMethod { id, .. }
                    | DidError::ControllerMismatch { id, .. } => crate::did::did_of(id).to_owned(),
                    _ => String::new(),
                };
                Failure::DidResolution { did, detail }
            }
        }
    }
}

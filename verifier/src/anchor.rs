//! Anchoring receipts: what a citizen keeps to prove, without us, that a status credential was
//! anchored. A receipt is self-contained JSON: the salt and the fingerprint, the inclusion proof
//! of the fingerprint in its batch's RFC 9162 tree, the batch root's ledger reference, and, for
//! the transparency log, the log's inclusion proof and a cosigned checkpoint. Roots re-anchored
//! on another ledger add a link each: the old root's inclusion in a batch of the new ledger.
//!
//! Offline verification ([`verify_receipt`]) checks everything that does not need the ledger:
//! the fingerprint against the credential (when given), every Merkle proof, and the log's
//! checkpoint against the keys the verifier trusts (the log's key and a quorum of witnesses).
//! What only a ledger can confirm (an Ethereum transaction) is reported as such, never as
//! verified.
//!
//! Fingerprint = `SHA-256(salt ‖ JCS(record))`, JCS being RFC 8785. The salt makes the anchored
//! value useless to anyone who has the record but not the salt, and erasing the salt we hold
//! leaves only the citizen able to link the two.

use crate::merkle::{self, Hash, ProofError};
use crate::note::{NoteError, NoteVerifier, verify_checkpoint};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The receipt format's `type`.
pub const RECEIPT_TYPE: &str = "AnchorReceipt";

/// The salted fingerprint of a record's canonical bytes.
pub fn fingerprint(salt: &[u8], canonical: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(canonical);
    hasher.finalize().into()
}

/// The fingerprint of a JSON record: its RFC 8785 canonical form, salted.
pub fn fingerprint_json(salt: &[u8], record: &Value) -> Result<Hash, ReceiptError> {
    let canonical = serde_json_canonicalizer::to_vec(record)
        .map_err(|e| ReceiptError::Canonical(e.to_string()))?;
    Ok(fingerprint(salt, &canonical))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Receipt {
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    pub record: RecordRef,
    /// Hex; absent when the salt was erased (a receipt from the service after erasure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    pub fingerprint: String,
    pub batch: BatchProof,
    pub anchor: Anchor,
    /// The batch root anchored again on later ledgers, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reanchored: Vec<Reanchor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordRef {
    /// `status_credential` or `decision`.
    pub kind: String,
    pub id: String,
}

/// A leaf's place in a batch tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchProof {
    pub id: String,
    pub leaf_index: u64,
    pub size: u64,
    pub proof: Vec<String>,
    pub root: String,
}

/// Where a batch root is anchored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Anchor {
    /// `log`, `ethereum`, …
    pub connector: String,
    /// The state when the receipt was made: `pending`, `submitted`, `included`, `final`.
    pub state: String,
    /// The connector's reference; absent before inclusion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reanchor {
    /// The old root's place among the new batch's leaves.
    pub batch: BatchProof,
    pub anchor: Anchor,
}

/// The transparency log's part of a reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogReference {
    pub origin: String,
    pub leaf_index: u64,
    pub tree_size: u64,
    pub inclusion_proof: Vec<String>,
    /// The signed note: the log's signature and the witnesses' cosignatures.
    pub checkpoint: String,
}

/// The keys a verifier trusts for the transparency log.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Log keys (the origin is the key's name).
    pub logs: Vec<NoteVerifier>,
    pub witnesses: Vec<NoteVerifier>,
    /// Cosignatures a checkpoint needs from distinct trusted witnesses.
    pub quorum: usize,
}

/// What a receipt was found to prove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptReport {
    /// Whether the fingerprint was recomputed from the record and the salt.
    pub record: RecordCheck,
    pub fingerprint: String,
    /// Each anchor, the original first, with what was verified offline.
    pub anchors: Vec<AnchorReport>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordCheck {
    /// SHA-256(salt ‖ JCS(record)) equals the fingerprint.
    Matched,
    /// No record given: the receipt proves the fingerprint's anchoring, not whose it is.
    NotGiven,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnchorReport {
    pub connector: String,
    pub root: String,
    pub state: String,
    pub ledger: LedgerReport,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum LedgerReport {
    /// In the transparency log, under a checkpoint signed by the trusted log key and cosigned by
    /// at least the quorum of trusted witnesses.
    LogVerified {
        origin: String,
        tree_size: u64,
        cosigners: Vec<String>,
    },
    /// Only the ledger can confirm this reference (`corroborate receipt verify --rpc`).
    NeedsLedger { reference: Value },
    /// Not anchored yet when the receipt was made.
    NotYetAnchored,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("this is not an anchoring receipt (type {0:?}, version {1})")]
    NotAReceipt(String, u32),
    #[error("{field} is not a 32-byte hex value")]
    BadHash { field: String },
    #[error("the receipt carries no salt (it was erased), so the record cannot be matched")]
    NoSalt,
    #[error("the record does not match the receipt's fingerprint (a different record or salt)")]
    RecordMismatch,
    #[error("the record could not be canonicalized: {0}")]
    Canonical(String),
    #[error("{what}: {source}")]
    Proof {
        what: String,
        #[source]
        source: ProofError,
    },
    #[error("the log reference is malformed: {0}")]
    BadLogReference(String),
    #[error("no trusted key for the log {0:?}")]
    UntrustedLog(String),
    #[error("the checkpoint is for tree size {found}, the reference says {expected}")]
    CheckpointSize { expected: u64, found: u64 },
    #[error("the log's checkpoint does not verify: {0}")]
    Checkpoint(#[from] NoteError),
    #[error("the anchor says {state:?} but carries no ledger reference")]
    MissingReference { state: String },
}

fn hash(field: &str, text: &str) -> Result<Hash, ReceiptError> {
    let bad = || ReceiptError::BadHash {
        field: field.to_owned(),
    };
    let bytes = hex::decode(text).map_err(|_| bad())?;
    bytes.try_into().map_err(|_| bad())
}

fn hashes(field: &str, texts: &[String]) -> Result<Vec<Hash>, ReceiptError> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| hash(&format!("{field}[{i}]"), t))
        .collect()
}

/// Checks a batch proof: `leaf_data` is at its place under its root; returns the root.
fn check_batch(what: &str, proof: &BatchProof, leaf_data: &Hash) -> Result<Hash, ReceiptError> {
    let root = hash(&format!("{what}.root"), &proof.root)?;
    let path = hashes(&format!("{what}.proof"), &proof.proof)?;
    merkle::verify_inclusion(
        &merkle::leaf_hash(leaf_data),
        proof.leaf_index,
        proof.size,
        &path,
        &root,
    )
    .map_err(|source| ReceiptError::Proof {
        what: format!("{what}: the leaf is not under the batch root"),
        source,
    })?;
    Ok(root)
}

fn check_anchor(
    anchor: &Anchor,
    root: &Hash,
    trust: &Trust,
    now: u64,
) -> Result<AnchorReport, ReceiptError> {
    let ledger = match (&anchor.reference, anchor.connector.as_str()) {
        (None, _) if matches!(anchor.state.as_str(), "pending" | "submitted") => {
            LedgerReport::NotYetAnchored
        }
        (None, _) => {
            return Err(ReceiptError::MissingReference {
                state: anchor.state.clone(),
            });
        }
        (Some(reference), "log") => check_log(reference, root, trust, now)?,
        (Some(reference), _) => LedgerReport::NeedsLedger {
            reference: reference.clone(),
        },
    };
    Ok(AnchorReport {
        connector: anchor.connector.clone(),
        root: hex::encode(root),
        state: anchor.state.clone(),
        ledger,
    })
}

fn check_log(
    reference: &Value,
    root: &Hash,
    trust: &Trust,
    now: u64,
) -> Result<LedgerReport, ReceiptError> {
    let reference: LogReference = serde_json::from_value(reference.clone())
        .map_err(|e| ReceiptError::BadLogReference(e.to_string()))?;
    let log = trust
        .logs
        .iter()
        .find(|key| key.name() == reference.origin)
        .ok_or_else(|| ReceiptError::UntrustedLog(reference.origin.clone()))?;
    let verified = verify_checkpoint(
        &reference.checkpoint,
        log,
        &trust.witnesses,
        trust.quorum,
        now,
    )?;
    if verified.checkpoint.size != reference.tree_size {
        return Err(ReceiptError::CheckpointSize {
            expected: reference.tree_size,
            found: verified.checkpoint.size,
        });
    }
    if verified.checkpoint.origin != reference.origin {
        return Err(ReceiptError::UntrustedLog(verified.checkpoint.origin));
    }
    let path = hashes(
        "anchor.reference.inclusionProof",
        &reference.inclusion_proof,
    )?;
    merkle::verify_inclusion(
        &merkle::leaf_hash(root),
        reference.leaf_index,
        reference.tree_size,
        &path,
        &verified.checkpoint.root,
    )
    .map_err(|source| ReceiptError::Proof {
        what: "the batch root is not in the log under the checkpoint".into(),
        source,
    })?;
    Ok(LedgerReport::LogVerified {
        origin: reference.origin,
        tree_size: reference.tree_size,
        cosigners: verified
            .cosigners
            .into_iter()
            .map(|(name, _)| name)
            .collect(),
    })
}

/// Verifies a receipt offline. `record` is the anchored document (the status credential as
/// issued); without it the report says the record was not matched. `now` is POSIX seconds.
pub fn verify_receipt(
    receipt: &Receipt,
    record: Option<&Value>,
    trust: &Trust,
    now: u64,
) -> Result<ReceiptReport, ReceiptError> {
    if receipt.kind != RECEIPT_TYPE || receipt.version != 1 {
        return Err(ReceiptError::NotAReceipt(
            receipt.kind.clone(),
            receipt.version,
        ));
    }
    let fingerprint = hash("fingerprint", &receipt.fingerprint)?;
    let record_check = match record {
        None => RecordCheck::NotGiven,
        Some(record) => {
            let salt = receipt.salt.as_deref().ok_or(ReceiptError::NoSalt)?;
            let salt = hex::decode(salt).map_err(|_| ReceiptError::BadHash {
                field: "salt".into(),
            })?;
            if fingerprint_json(&salt, record)? != fingerprint {
                return Err(ReceiptError::RecordMismatch);
            }
            RecordCheck::Matched
        }
    };
    let root = check_batch("batch", &receipt.batch, &fingerprint)?;
    let mut anchors = vec![check_anchor(&receipt.anchor, &root, trust, now)?];
    for (i, link) in receipt.reanchored.iter().enumerate() {
        let new_root = check_batch(&format!("reanchored[{i}].batch"), &link.batch, &root)?;
        anchors.push(check_anchor(&link.anchor, &new_root, trust, now)?);
    }
    Ok(ReceiptReport {
        record: record_check,
        fingerprint: receipt.fingerprint.clone(),
        anchors,
    })
}

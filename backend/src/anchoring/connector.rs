//! The one interface between anchoring and a ledger. Callers (the batcher, receipts, the
//! re-anchoring command) hold a `dyn Connector` and never name a ledger; a connector is chosen
//! by configuration (`anchoring.connector`).
//!
//! The contract every connector keeps:
//! - `prepare` is called once per batch and its result is stored (in the batch's row) *before*
//!   `send` is called; after a crash the batcher calls `send` again with the stored `Prepared`.
//!   Sending the same `Prepared` twice must never anchor the root twice (the log connector keys
//!   its leaf by batch id; the Ethereum connector re-broadcasts the same signed transaction,
//!   whose nonce makes a second inclusion impossible).
//! - `state` only reports facts observed on the ledger; the batcher makes states only move
//!   forward (pending → submitted → included → final).
//! - Errors say whether retrying may help (`ConnectorError::Unavailable`) or not (`Refused`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A 32-byte SHA-256 hash (a batch root, a fingerprint).
pub type Hash = [u8; 32];

/// What the batcher asks a connector to anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Unique, stable across restarts (a UUID).
    pub id: String,
    /// The RFC 9162 root over the batch's fingerprints.
    pub root: Hash,
    /// How many fingerprints the root covers.
    pub size: u64,
}

/// What `prepare` produced; stored with the batch before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prepared {
    /// The connector's reference known before sending (e.g. `{"chainId":…,"tx":"0x…","nonce":…}`),
    /// JSON so that any connector can say what it needs.
    pub reference: Value,
    /// Bytes to send again after a crash (a signed raw transaction), if the connector needs any.
    #[serde(default, with = "opt_hex")]
    pub payload: Option<Vec<u8>>,
}

/// Where an anchored root stands on its ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LedgerState {
    /// Sent, not yet seen in the ledger.
    Submitted,
    /// In the ledger (a block, a log leaf) but not yet final. `reference` is the full ledger
    /// reference that receipts carry (block number and hash, leaf index, checkpoint…).
    Included { reference: Value, at: DateTime<Utc> },
    /// Final by the connector's rule (confirmations, a k-of-n cosigned checkpoint).
    Final { reference: Value, at: DateTime<Utc> },
}

/// The outcome of checking a receipt's ledger reference on the ledger itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum LedgerCheck {
    /// The ledger holds this root at this reference, final by the connector's rule.
    Confirmed { detail: String },
    /// The ledger holds it, not yet final.
    Pending { detail: String },
    /// The ledger does not hold this root at this reference.
    Mismatch { detail: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The ledger could not be reached or answered with a transient error: retry later.
    #[error("the ledger is unavailable: {0}")]
    Unavailable(String),
    /// The ledger refused for a reason a retry does not fix (bad configuration, no funds).
    #[error("the ledger refused: {0}")]
    Refused(String),
}

#[async_trait]
pub trait Connector: Send + Sync {
    /// The configured name, e.g. `log` or `ethereum`; written on every batch it anchors.
    fn name(&self) -> &'static str;
    /// Builds what will be sent for this batch (no side effect on the ledger).
    async fn prepare(&self, batch: &Batch) -> Result<Prepared, ConnectorError>;
    /// Sends it; idempotent for the same `Prepared` (see the module's contract).
    async fn send(&self, batch: &Batch, prepared: &Prepared) -> Result<(), ConnectorError>;
    /// Where the batch stands on the ledger.
    async fn state(
        &self,
        batch: &Batch,
        prepared: &Prepared,
    ) -> Result<LedgerState, ConnectorError>;
    /// Checks, on the ledger, that `root` is anchored at `reference` (a receipt's ledger part).
    async fn check(&self, root: &Hash, reference: &Value) -> Result<LedgerCheck, ConnectorError>;
}

mod opt_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => s.serialize_some(&hex::encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| hex::decode(t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

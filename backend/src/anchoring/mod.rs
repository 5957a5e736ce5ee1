//! Ledger anchoring. A record that must be anchored (a status credential; decision records when
//! configured) gets, in the transaction that creates it, an outbox row with a fresh random salt
//! and its fingerprint `SHA-256(salt ‖ JCS(record))` ([`outbox`]). The [`batcher`] groups
//! pending fingerprints under an RFC 9162 Merkle root when a size or time trigger fires, stores
//! each record's inclusion proof with the batch, and has the configured [`Connector`] anchor the
//! root; a batch's state only moves forward (pending → submitted → included → final). Receipts
//! and the log's tree heads are served by [`http`].
//!
//! Connectors: [`log`] (the default), an append-only transparency log in our own database whose
//! checkpoints independent witnesses cosign; [`ethereum`], any EVM JSON-RPC ledger. Only
//! fingerprints and roots leave the database; salts stay here until erasure, and in the
//! citizen's receipt.

pub mod batcher;
pub mod commands;
pub mod connector;
pub mod ethereum;
pub mod http;
pub mod log;
pub mod outbox;
pub mod reanchor;
pub mod receipts;

pub use connector::*;

use serde::Deserialize;

/// Which ledger anchors roots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    Log,
    Ethereum,
}

impl ConnectorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorKind::Log => "log",
            ConnectorKind::Ethereum => "ethereum",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnchoringSettings {
    /// Whether issued statuses are anchored at all (their outbox rows are written either way,
    /// so turning it on later anchors what was issued meanwhile).
    pub enabled: bool,
    pub connector: ConnectorKind,
    /// Also anchor every decision record (any outcome), not only status credentials.
    pub decision_records: bool,
    /// A batch is cut as soon as this many fingerprints wait…
    pub batch_size: usize,
    /// …or when the oldest has waited this long.
    pub batch_max_wait_secs: u64,
    /// The most fingerprints in one batch.
    pub max_batch: usize,
    /// How often the batcher looks for work, in milliseconds.
    pub poll_interval_ms: u64,
    /// Retry back-off after a ledger error: doubles from `retry_base_ms` up to `retry_max_ms`.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    pub log: LogSettings,
    pub ethereum: ethereum::EthereumSettings,
    /// Fault testing only: wait this long between storing a prepared submission and sending it,
    /// so that a test can kill the process in the middle of a batch.
    pub pause_before_send_ms: u64,
}

impl Default for AnchoringSettings {
    fn default() -> Self {
        AnchoringSettings {
            enabled: true,
            connector: ConnectorKind::Log,
            decision_records: false,
            batch_size: 1000,
            batch_max_wait_secs: 60,
            max_batch: 100_000,
            poll_interval_ms: 1000,
            retry_base_ms: 1000,
            retry_max_ms: 300_000,
            log: LogSettings::default(),
            ethereum: ethereum::EthereumSettings::default(),
            pause_before_send_ms: 0,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// The log's origin line (a schema-less URL naming it). Empty: the public URL's host and
    /// `/log`, fixed when the log is first created.
    pub origin: String,
    /// The witnesses asked to cosign each checkpoint.
    pub witnesses: Vec<WitnessSettings>,
    /// Cosignatures from distinct witnesses that make a checkpoint final (k of n). 0 makes the
    /// log's own signature final: fine for a demonstration, not for production.
    pub quorum: usize,
    /// Per witness request, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            origin: String::new(),
            witnesses: Vec::new(),
            quorum: 0,
            timeout_ms: 5000,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WitnessSettings {
    /// The witness's cosigning key as a note verifier key (`name+keyid+base64`).
    pub key: String,
    /// Where its `add-checkpoint` endpoint lives (the URL prefix).
    pub url: String,
}

/// A batch's state: only ever moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BatchState {
    Pending,
    Submitted,
    Included,
    Final,
}

impl BatchState {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Pending => "pending",
            BatchState::Submitted => "submitted",
            BatchState::Included => "included",
            BatchState::Final => "final",
        }
    }

    pub fn parse(text: &str) -> Option<BatchState> {
        Some(match text {
            "pending" => BatchState::Pending,
            "submitted" => BatchState::Submitted,
            "included" => BatchState::Included,
            "final" => BatchState::Final,
            _ => return None,
        })
    }

    /// The states a batch may be in before moving to `self`.
    pub fn earlier(self) -> Vec<&'static str> {
        [
            BatchState::Pending,
            BatchState::Submitted,
            BatchState::Included,
            BatchState::Final,
        ]
        .into_iter()
        .filter(|s| *s < self)
        .map(BatchState::as_str)
        .collect()
    }
}

use crate::db::Db;
use crate::keys::Sealer;
use batcher::{Batcher, ConnectorSlot};
use std::sync::Arc;

/// The anchoring parts the service holds: the configured connector and the transparency log
/// (always open, so that its receipts stay verifiable after a move to another ledger).
pub struct Anchoring {
    pub settings: AnchoringSettings,
    pub slot: Arc<ConnectorSlot>,
    pub log: Arc<log::LogConnector>,
}

impl Anchoring {
    pub fn build(
        settings: &AnchoringSettings,
        db: &Db,
        sealer: &Sealer,
        public_url: &str,
    ) -> anyhow::Result<Anchoring> {
        let log = Arc::new(log::LogConnector::open(
            db.clone(),
            sealer,
            &settings.log,
            public_url,
        )?);
        let slot = match settings.connector {
            ConnectorKind::Log => ConnectorSlot::ready(log.clone()),
            ConnectorKind::Ethereum => {
                let ethereum = settings.ethereum.clone();
                ConnectorSlot::lazy(
                    "ethereum",
                    Box::new(move || {
                        let ethereum = ethereum.clone();
                        Box::pin(async move {
                            let connector = ethereum::EthereumConnector::connect(&ethereum).await?;
                            Ok(Arc::new(connector) as Arc<dyn Connector>)
                        })
                    }),
                )
            }
        };
        Ok(Anchoring {
            settings: settings.clone(),
            slot: Arc::new(slot),
            log,
        })
    }

    pub fn batcher(&self, db: &Db) -> Batcher {
        Batcher::new(db.clone(), self.slot.clone(), self.settings.clone())
    }
}

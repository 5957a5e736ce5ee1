//! The batcher drains the outbox. Each round it
//! 1. cuts batches: when `batch_size` fingerprints wait or the oldest has waited
//!    `batch_max_wait_secs`, one transaction builds the RFC 9162 tree over up to `max_batch` of
//!    them, writes the batch (state `pending`) and stores each record's leaf index and inclusion
//!    proof;
//! 2. submits pending batches, oldest first: the connector's `prepare` is stored with the batch
//!    before `send`, and after a crash the stored one is sent again (never a second one), so a
//!    root is anchored exactly once;
//! 3. follows submitted and included batches to `final`.
//!
//! Ledger errors never lose anything: the batch keeps its state, counts the attempt and is
//! retried after an exponential back-off (`retry_base_ms` doubling up to `retry_max_ms`). States
//! only move forward: every update names the states it may move from.

use super::connector::{Batch, Connector, ConnectorError, LedgerState, Prepared};
use super::{AnchoringSettings, BatchState};
use crate::db::schema::{anchor_batches, anchor_records};
use crate::db::{AnyConnection, Db, StoreError, millis};
use chrono::{DateTime, Utc};
use corroborate_verifier::merkle::{self, Hash, Tree};
use diesel::prelude::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

type Connect = Box<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<Arc<dyn Connector>, ConnectorError>> + Send>>
        + Send
        + Sync,
>;

/// Holds the connector, connecting on first use: a ledger that is down when the service starts
/// delays anchoring, never the service.
pub struct ConnectorSlot {
    name: &'static str,
    connect: Connect,
    current: tokio::sync::Mutex<Option<Arc<dyn Connector>>>,
}

impl ConnectorSlot {
    pub fn ready(connector: Arc<dyn Connector>) -> ConnectorSlot {
        let name = connector.name();
        let kept = connector.clone();
        ConnectorSlot {
            name,
            connect: Box::new(move || {
                let kept = kept.clone();
                Box::pin(async move { Ok(kept) })
            }),
            current: tokio::sync::Mutex::new(Some(connector)),
        }
    }

    pub fn lazy(name: &'static str, connect: Connect) -> ConnectorSlot {
        ConnectorSlot {
            name,
            connect,
            current: tokio::sync::Mutex::new(None),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub async fn get(&self) -> Result<Arc<dyn Connector>, ConnectorError> {
        let mut current = self.current.lock().await;
        if let Some(connector) = current.as_ref() {
            return Ok(connector.clone());
        }
        let connector = (self.connect)().await?;
        *current = Some(connector.clone());
        Ok(connector)
    }
}

pub struct Batcher {
    db: Db,
    slot: Arc<ConnectorSlot>,
    settings: AnchoringSettings,
}

/// What one round did (for logs and tests).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub cut: usize,
    pub sent: usize,
    pub advanced: usize,
    pub failed: usize,
}

/// A batch row's columns as read: id, root, size, state, prepared, attempts, next attempt.
type BatchColumns = (String, String, i64, String, Option<String>, i32, i64);

/// A batch row as the batcher reads it.
#[derive(Debug, Clone)]
struct BatchRow {
    id: String,
    root: String,
    size: i64,
    state: String,
    prepared: Option<String>,
    attempts: i32,
    next_attempt_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("the stored batch {0} is damaged: {1}")]
    Damaged(String, String),
}

impl Batcher {
    pub fn new(db: Db, slot: Arc<ConnectorSlot>, settings: AnchoringSettings) -> Batcher {
        Batcher { db, slot, settings }
    }

    /// Runs rounds until the process ends.
    pub async fn run(self) {
        let interval = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        loop {
            match self.round(Utc::now()).await {
                Ok(round) if round != Round::default() => {
                    tracing::debug!(?round, "anchoring round")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "anchoring round failed; retrying"),
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// One round: cut what is due, submit pending batches, follow submitted ones.
    pub async fn round(&self, now: DateTime<Utc>) -> Result<Round, BatchError> {
        let mut round = Round::default();
        loop {
            let settings = self.settings.clone();
            let connector = self.slot.name();
            let cut = self
                .db
                .write::<_, BatchError, _>(move |conn| {
                    cut_batch_in(conn, &settings, connector, now, false)
                })
                .await?;
            if cut.is_none() {
                break;
            }
            round.cut += 1;
        }
        // Batches cut for another ledger and never sent there follow a change of connector.
        let connector = self.slot.name();
        self.db
            .write::<_, BatchError, _>(move |conn| {
                diesel::update(
                    anchor_batches::table
                        .filter(anchor_batches::state.eq(BatchState::Pending.as_str()))
                        .filter(anchor_batches::prepared.is_null())
                        .filter(anchor_batches::connector.ne(connector)),
                )
                .set(anchor_batches::connector.eq(connector))
                .execute(conn)?;
                Ok(())
            })
            .await?;
        // Submissions go out strictly in order (an account's nonces, the log's leaves): once a
        // pending batch waits for its retry, no later one is prepared or sent.
        let mut blocked = false;
        for batch in self.open().await? {
            let pending = batch.state == BatchState::Pending.as_str();
            if pending && blocked {
                continue;
            }
            if batch.next_attempt_at > millis(now) {
                blocked |= pending;
                continue;
            }
            match self.advance(&batch, now).await {
                Ok(Advance::Sent) => round.sent += 1,
                Ok(Advance::Moved) => round.advanced += 1,
                Ok(Advance::Unchanged) => {}
                Err(error) => {
                    round.failed += 1;
                    tracing::warn!(batch = batch.id, attempts = batch.attempts + 1, %error, "anchoring a batch failed; it will be retried");
                    self.postpone(&batch, now, &error.to_string()).await?;
                    blocked |= pending;
                }
            }
        }
        Ok(round)
    }

    /// Cuts every pending fingerprint into batches now, whatever the triggers say (tests, the
    /// `anchors flush` command).
    pub async fn flush(&self) -> Result<usize, BatchError> {
        let mut cut = 0;
        loop {
            let settings = self.settings.clone();
            let connector = self.slot.name();
            let now = Utc::now();
            let done = self
                .db
                .write::<_, BatchError, _>(move |conn| {
                    cut_batch_in(conn, &settings, connector, now, true)
                })
                .await?;
            if done.is_none() {
                return Ok(cut);
            }
            cut += 1;
        }
    }

    /// Every batch of this connector not yet final, oldest first.
    async fn open(&self) -> Result<Vec<BatchRow>, BatchError> {
        let connector = self.slot.name();
        Ok(self
            .db
            .read(move |conn| {
                let rows: Vec<BatchColumns> = anchor_batches::table
                    .filter(anchor_batches::connector.eq(connector))
                    .filter(anchor_batches::state.ne(BatchState::Final.as_str()))
                    .order((anchor_batches::created_at.asc(), anchor_batches::id.asc()))
                    .select((
                        anchor_batches::id,
                        anchor_batches::root,
                        anchor_batches::size,
                        anchor_batches::state,
                        anchor_batches::prepared,
                        anchor_batches::attempts,
                        anchor_batches::next_attempt_at,
                    ))
                    .load(conn)?;
                Ok(rows
                    .into_iter()
                    .map(
                        |(id, root, size, state, prepared, attempts, next_attempt_at)| BatchRow {
                            id,
                            root,
                            size,
                            state,
                            prepared,
                            attempts,
                            next_attempt_at,
                        },
                    )
                    .collect())
            })
            .await?)
    }

    async fn advance(&self, row: &BatchRow, now: DateTime<Utc>) -> Result<Advance, AdvanceError> {
        let root: Hash = hex::decode(&row.root)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| AdvanceError::Damaged(format!("batch {} has no valid root", row.id)))?;
        let batch = Batch {
            id: row.id.clone(),
            root,
            size: row.size as u64,
        };
        let connector = self.slot.get().await?;
        let state = BatchState::parse(&row.state).ok_or_else(|| {
            AdvanceError::Damaged(format!("batch {} is in state {:?}", row.id, row.state))
        })?;
        let stored: Option<Prepared> = row
            .prepared
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| {
                AdvanceError::Damaged(format!("batch {}'s prepared submission: {e}", row.id))
            })?;
        if state == BatchState::Pending {
            let prepared = match stored {
                Some(prepared) => prepared,
                None => {
                    let prepared = connector.prepare(&batch).await?;
                    let text = serde_json::to_string(&prepared)
                        .map_err(|e| AdvanceError::Damaged(e.to_string()))?;
                    let id = row.id.clone();
                    // Stored before anything is sent; if another round stored one first, use it.
                    let kept = self
                        .db
                        .write::<_, BatchError, _>(move |conn| {
                            diesel::update(
                                anchor_batches::table
                                    .filter(anchor_batches::id.eq(&id))
                                    .filter(anchor_batches::prepared.is_null()),
                            )
                            .set(anchor_batches::prepared.eq(&text))
                            .execute(conn)?;
                            let stored: Option<String> = anchor_batches::table
                                .filter(anchor_batches::id.eq(&id))
                                .select(anchor_batches::prepared)
                                .first(conn)?;
                            Ok(stored)
                        })
                        .await?;
                    match kept {
                        Some(text) => serde_json::from_str(&text)
                            .map_err(|e| AdvanceError::Damaged(e.to_string()))?,
                        None => prepared,
                    }
                }
            };
            if self.settings.pause_before_send_ms > 0 {
                tokio::time::sleep(Duration::from_millis(self.settings.pause_before_send_ms)).await;
            }
            if let Err(error) = connector.send(&batch, &prepared).await {
                if matches!(error, ConnectorError::Refused(_)) {
                    // The ledger will never take this submission (its nonce went to another
                    // transaction, say), so it was never anchored: prepare afresh next time.
                    let id = row.id.clone();
                    self.db
                        .write::<_, BatchError, _>(move |conn| {
                            diesel::update(
                                anchor_batches::table
                                    .filter(anchor_batches::id.eq(&id))
                                    .filter(anchor_batches::state.eq(BatchState::Pending.as_str())),
                            )
                            .set(anchor_batches::prepared.eq(None::<String>))
                            .execute(conn)?;
                            Ok(())
                        })
                        .await?;
                }
                return Err(error.into());
            }
            self.move_to(&row.id, BatchState::Submitted, None, now)
                .await?;
            tracing::info!(
                batch = row.id,
                size = row.size,
                connector = connector.name(),
                "batch root submitted"
            );
            return Ok(Advance::Sent);
        }
        let prepared = stored.ok_or_else(|| {
            AdvanceError::Damaged(format!(
                "batch {} was submitted without a prepared submission",
                row.id
            ))
        })?;
        let moved = match connector.state(&batch, &prepared).await? {
            LedgerState::Submitted => false,
            LedgerState::Included { reference, at } => {
                state < BatchState::Included
                    && self
                        .move_to(&row.id, BatchState::Included, Some(reference), at)
                        .await?
            }
            LedgerState::Final { reference, at } => {
                let moved = self
                    .move_to(&row.id, BatchState::Final, Some(reference), at)
                    .await?;
                if moved {
                    tracing::info!(batch = row.id, size = row.size, "batch root final");
                }
                moved
            }
        };
        Ok(if moved {
            Advance::Moved
        } else {
            Advance::Unchanged
        })
    }

    /// Moves a batch forward (only from an earlier state); returns whether it moved.
    async fn move_to(
        &self,
        id: &str,
        to: BatchState,
        reference: Option<serde_json::Value>,
        at: DateTime<Utc>,
    ) -> Result<bool, BatchError> {
        let id = id.to_owned();
        let reference = reference.map(|r| r.to_string());
        self.db
            .write::<_, BatchError, _>(move |conn| {
                let target = anchor_batches::table
                    .filter(anchor_batches::id.eq(&id))
                    .filter(anchor_batches::state.eq_any(to.earlier()));
                let at = millis(at);
                let moved = match to {
                    BatchState::Pending => 0,
                    BatchState::Submitted => diesel::update(target)
                        .set((
                            anchor_batches::state.eq(to.as_str()),
                            anchor_batches::submitted_at.eq(Some(at)),
                            anchor_batches::attempts.eq(0),
                            anchor_batches::last_error.eq(None::<String>),
                        ))
                        .execute(conn)?,
                    BatchState::Included => diesel::update(target)
                        .set((
                            anchor_batches::state.eq(to.as_str()),
                            anchor_batches::included_at.eq(Some(at)),
                            anchor_batches::reference.eq(&reference),
                            anchor_batches::last_error.eq(None::<String>),
                        ))
                        .execute(conn)?,
                    BatchState::Final => diesel::update(target)
                        .set((
                            anchor_batches::state.eq(to.as_str()),
                            anchor_batches::final_at.eq(Some(at)),
                            anchor_batches::reference.eq(&reference),
                            anchor_batches::last_error.eq(None::<String>),
                        ))
                        .execute(conn)?,
                };
                // A batch final before anyone saw it included gets its inclusion time too.
                if to == BatchState::Final && moved == 1 {
                    diesel::update(
                        anchor_batches::table
                            .filter(anchor_batches::id.eq(&id))
                            .filter(anchor_batches::included_at.is_null()),
                    )
                    .set(anchor_batches::included_at.eq(Some(at)))
                    .execute(conn)?;
                }
                Ok(moved == 1)
            })
            .await
    }

    async fn postpone(
        &self,
        row: &BatchRow,
        now: DateTime<Utc>,
        error: &str,
    ) -> Result<(), BatchError> {
        let attempts = row.attempts.saturating_add(1);
        let delay = backoff(&self.settings, attempts as u32);
        let next = now + chrono::Duration::milliseconds(delay as i64);
        let id = row.id.clone();
        let error = error.to_owned();
        self.db
            .write::<_, BatchError, _>(move |conn| {
                diesel::update(anchor_batches::table.filter(anchor_batches::id.eq(&id)))
                    .set((
                        anchor_batches::attempts.eq(attempts),
                        anchor_batches::next_attempt_at.eq(millis(next)),
                        anchor_batches::last_error.eq(Some(error)),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }
}

enum Advance {
    Sent,
    Moved,
    Unchanged,
}

#[derive(Debug, thiserror::Error)]
enum AdvanceError {
    #[error(transparent)]
    Ledger(#[from] ConnectorError),
    #[error(transparent)]
    Store(#[from] BatchError),
    #[error("{0}")]
    Damaged(String),
}

/// The wait before attempt `attempts + 1`: `base · 2^(attempts−1)`, at most `max`.
pub fn backoff(settings: &AnchoringSettings, attempts: u32) -> u64 {
    let factor = 1u64
        .checked_shl(attempts.saturating_sub(1).min(40))
        .unwrap_or(u64::MAX);
    settings
        .retry_base_ms
        .saturating_mul(factor)
        .min(settings.retry_max_ms)
}

/// Cuts one batch if a trigger fired (or `force`), inside the caller's transaction. Returns the
/// new batch's id.
pub fn cut_batch_in(
    conn: &mut AnyConnection,
    settings: &AnchoringSettings,
    connector: &str,
    now: DateTime<Utc>,
    force: bool,
) -> Result<Option<String>, BatchError> {
    let waiting: Vec<(String, String, i64)> = anchor_records::table
        .filter(anchor_records::batch_id.is_null())
        .order((anchor_records::created_at.asc(), anchor_records::id.asc()))
        .limit(settings.max_batch.max(1) as i64)
        .select((
            anchor_records::id,
            anchor_records::fingerprint,
            anchor_records::created_at,
        ))
        .load(conn)?;
    let Some((_, _, oldest)) = waiting.first() else {
        return Ok(None);
    };
    let waited = millis(now) - oldest;
    let due = force
        || waiting.len() >= settings.batch_size.max(1)
        || waited >= (settings.batch_max_wait_secs as i64).saturating_mul(1000);
    if !due {
        return Ok(None);
    }
    let mut leaves = Vec::with_capacity(waiting.len());
    for (id, fingerprint, _) in &waiting {
        let bytes: Hash = hex::decode(fingerprint)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| BatchError::Damaged(id.clone(), "fingerprint is not 32 bytes".into()))?;
        leaves.push(merkle::leaf_hash(&bytes));
    }
    let tree = Tree::new(leaves);
    let batch_id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(anchor_batches::table)
        .values((
            anchor_batches::id.eq(&batch_id),
            anchor_batches::purpose.eq("records"),
            anchor_batches::connector.eq(connector),
            anchor_batches::root.eq(hex::encode(tree.root())),
            anchor_batches::size.eq(tree.size() as i64),
            anchor_batches::state.eq(BatchState::Pending.as_str()),
            anchor_batches::created_at.eq(millis(now)),
            anchor_batches::attempts.eq(0),
            anchor_batches::next_attempt_at.eq(millis(now)),
        ))
        .execute(conn)?;
    for (index, (id, _, _)) in waiting.iter().enumerate() {
        let proof = tree.inclusion_proof(index as u64).ok_or_else(|| {
            BatchError::Damaged(batch_id.clone(), format!("no proof for leaf {index}"))
        })?;
        let proof: Vec<String> = proof.iter().map(hex::encode).collect();
        let updated = diesel::update(
            anchor_records::table
                .filter(anchor_records::id.eq(id))
                .filter(anchor_records::batch_id.is_null()),
        )
        .set((
            anchor_records::batch_id.eq(Some(&batch_id)),
            anchor_records::leaf_index.eq(Some(index as i64)),
            anchor_records::proof.eq(Some(serde_json::Value::from(proof).to_string())),
        ))
        .execute(conn)?;
        if updated != 1 {
            // Another batcher took it meanwhile: roll the whole cut back.
            return Err(BatchError::Damaged(
                batch_id,
                format!("record {id} was batched concurrently"),
            ));
        }
    }
    Ok(Some(batch_id))
}

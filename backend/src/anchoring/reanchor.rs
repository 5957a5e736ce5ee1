//! Moving to another ledger. Switching `anchoring.connector` is all it takes for new batches;
//! old receipts stay verifiable, since each names its own ledger (and the transparency log stays
//! served). `corroborate-backend anchors reanchor` then anchors the old roots on the new ledger
//! too: one batch whose leaves are the roots of every final batch of other connectors not yet
//! carried over, with a link (the old root's leaf index and inclusion proof) that receipts
//! include, so that a receipt reaches the new ledger from its original root.

use super::BatchState;
use crate::db::schema::{anchor_batches, anchor_links};
use crate::db::{AnyConnection, millis};
use chrono::{DateTime, Utc};
use corroborate_verifier::merkle::{self, Hash, Tree};
use diesel::prelude::*;

#[derive(Debug, thiserror::Error)]
pub enum ReanchorError {
    #[error(transparent)]
    Store(#[from] crate::db::StoreError),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("the stored root of batch {0} is not a 32-byte hash")]
    Damaged(String),
}

/// What a re-anchoring did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reanchored {
    pub batch_id: String,
    pub roots: usize,
}

/// Cuts the re-anchoring batch for `connector` (in the caller's transaction); `None` when every
/// final root of other ledgers is carried over already.
pub fn reanchor_in(
    conn: &mut AnyConnection,
    connector: &str,
    max: usize,
    now: DateTime<Utc>,
) -> Result<Option<Reanchored>, ReanchorError> {
    // Old batches already carried over to this connector: a subquery, not a list of ids (which
    // would outgrow SQLite's bind-variable limit as history grows).
    let new_batches = diesel::alias!(anchor_batches as new_batches);
    let carried = anchor_links::table
        .inner_join(
            new_batches.on(new_batches
                .field(anchor_batches::id)
                .eq(anchor_links::new_batch_id)),
        )
        .filter(new_batches.field(anchor_batches::connector).eq(connector))
        .select(anchor_links::old_batch_id);
    let old: Vec<(String, String)> = anchor_batches::table
        .filter(anchor_batches::connector.ne(connector))
        .filter(anchor_batches::state.eq(BatchState::Final.as_str()))
        .filter(anchor_batches::id.ne_all(carried))
        .order((anchor_batches::created_at.asc(), anchor_batches::id.asc()))
        .limit(max.max(1) as i64)
        .select((anchor_batches::id, anchor_batches::root))
        .load(conn)?;
    if old.is_empty() {
        return Ok(None);
    }
    let mut leaves = Vec::with_capacity(old.len());
    for (id, root) in &old {
        let root: Hash = hex::decode(root)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| ReanchorError::Damaged(id.clone()))?;
        leaves.push(merkle::leaf_hash(&root));
    }
    let tree = Tree::new(leaves);
    let batch_id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(anchor_batches::table)
        .values((
            anchor_batches::id.eq(&batch_id),
            anchor_batches::purpose.eq("reanchor"),
            anchor_batches::connector.eq(connector),
            anchor_batches::root.eq(hex::encode(tree.root())),
            anchor_batches::size.eq(tree.size() as i64),
            anchor_batches::state.eq(BatchState::Pending.as_str()),
            anchor_batches::created_at.eq(millis(now)),
            anchor_batches::attempts.eq(0),
            anchor_batches::next_attempt_at.eq(millis(now)),
        ))
        .execute(conn)?;
    for (index, (old_id, _)) in old.iter().enumerate() {
        let proof = tree
            .inclusion_proof(index as u64)
            .ok_or_else(|| ReanchorError::Damaged(old_id.clone()))?;
        let proof: Vec<String> = proof.iter().map(hex::encode).collect();
        diesel::insert_into(anchor_links::table)
            .values((
                anchor_links::old_batch_id.eq(old_id),
                anchor_links::new_batch_id.eq(&batch_id),
                anchor_links::leaf_index.eq(index as i64),
                anchor_links::proof.eq(serde_json::Value::from(proof).to_string()),
            ))
            .execute(conn)?;
    }
    Ok(Some(Reanchored {
        batch_id,
        roots: old.len(),
    }))
}

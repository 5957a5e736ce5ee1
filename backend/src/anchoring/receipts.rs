//! Receipts: the self-contained bundle (see `corroborate_verifier::anchor`) built from the
//! outbox row, its batch and the ledger's reference. For the transparency log the reference is
//! built afresh each time, under the smallest final checkpoint that covers the batch.

use super::Anchoring;
use crate::db::schema::{anchor_batches, anchor_links, anchor_records};
use crate::db::{AnyConnection, Db, StoreError};
use corroborate_verifier::anchor::{
    Anchor, BatchProof, RECEIPT_TYPE, Reanchor, Receipt, RecordRef,
};
use diesel::prelude::*;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("nothing is anchored for this record")]
    NotAnchored,
    #[error("the record waits for its batch; its receipt exists once the batch is cut")]
    NotBatchedYet,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("stored anchoring data is damaged: {0}")]
    Damaged(String),
}

struct BatchRowFull {
    connector: String,
    root: String,
    size: i64,
    state: String,
    reference: Option<String>,
}

fn batch_row(conn: &mut AnyConnection, id: &str) -> Result<BatchRowFull, ReceiptError> {
    let (connector, root, size, state, reference) = anchor_batches::table
        .filter(anchor_batches::id.eq(id))
        .select((
            anchor_batches::connector,
            anchor_batches::root,
            anchor_batches::size,
            anchor_batches::state,
            anchor_batches::reference,
        ))
        .first::<(String, String, i64, String, Option<String>)>(conn)?;
    Ok(BatchRowFull {
        connector,
        root,
        size,
        state,
        reference,
    })
}

fn parse_proof(text: &str) -> Result<Vec<String>, ReceiptError> {
    serde_json::from_str(text).map_err(|e| ReceiptError::Damaged(format!("a stored proof: {e}")))
}

/// Everything a receipt is built from, read in one go.
struct Loaded {
    salt: Option<String>,
    fingerprint: String,
    batch_id: String,
    index: i64,
    proof: Vec<String>,
    batch: BatchRowFull,
    links: Vec<(String, i64, Vec<String>, BatchRowFull)>,
}

fn load_in(conn: &mut AnyConnection, kind: &str, record_id: &str) -> Result<Loaded, ReceiptError> {
    type Row = (
        Option<String>,
        String,
        Option<String>,
        Option<i64>,
        Option<String>,
    );
    let row: Option<Row> = anchor_records::table
        .filter(anchor_records::kind.eq(kind))
        .filter(anchor_records::record_id.eq(record_id))
        .select((
            anchor_records::salt,
            anchor_records::fingerprint,
            anchor_records::batch_id,
            anchor_records::leaf_index,
            anchor_records::proof,
        ))
        .first(conn)
        .optional()?;
    let (salt, fingerprint, batch_id, index, proof) = row.ok_or(ReceiptError::NotAnchored)?;
    let (Some(batch_id), Some(index), Some(proof)) = (batch_id, index, proof) else {
        return Err(ReceiptError::NotBatchedYet);
    };
    let batch = batch_row(conn, &batch_id)?;
    let rows: Vec<(String, i64, String)> = anchor_links::table
        .filter(anchor_links::old_batch_id.eq(&batch_id))
        .select((
            anchor_links::new_batch_id,
            anchor_links::leaf_index,
            anchor_links::proof,
        ))
        .load(conn)?;
    let mut links = Vec::new();
    for (new_id, leaf, link_proof) in rows {
        let new_batch = batch_row(conn, &new_id)?;
        links.push((new_id, leaf, parse_proof(&link_proof)?, new_batch));
    }
    Ok(Loaded {
        salt,
        fingerprint,
        batch_id,
        index,
        proof: parse_proof(&proof)?,
        batch,
        links,
    })
}

/// Builds the receipt of the record (`kind`, `record_id`).
pub async fn receipt(
    db: &Db,
    anchoring: &Anchoring,
    kind: &str,
    record_id: &str,
) -> Result<Receipt, ReceiptError> {
    let (kind_owned, id_owned) = (kind.to_owned(), record_id.to_owned());
    let loaded = db
        .read(move |conn| Ok(load_in(conn, &kind_owned, &id_owned)))
        .await??;
    let anchor = anchor_of(anchoring, &loaded.batch_id, &loaded.batch).await?;
    let mut reanchored = Vec::new();
    for (new_id, leaf, proof, new_batch) in loaded.links {
        let anchor = anchor_of(anchoring, &new_id, &new_batch).await?;
        reanchored.push(Reanchor {
            batch: BatchProof {
                id: new_id,
                leaf_index: leaf as u64,
                size: new_batch.size as u64,
                proof,
                root: new_batch.root.clone(),
            },
            anchor,
        });
    }
    Ok(Receipt {
        kind: RECEIPT_TYPE.to_owned(),
        version: 1,
        record: RecordRef {
            kind: kind.to_owned(),
            id: record_id.to_owned(),
        },
        salt: loaded.salt,
        fingerprint: loaded.fingerprint,
        batch: BatchProof {
            id: loaded.batch_id,
            leaf_index: loaded.index as u64,
            size: loaded.batch.size as u64,
            proof: loaded.proof,
            root: loaded.batch.root.clone(),
        },
        anchor,
        reanchored,
    })
}

async fn anchor_of(
    anchoring: &Anchoring,
    batch_id: &str,
    row: &BatchRowFull,
) -> Result<Anchor, ReceiptError> {
    if row.connector == "log" && row.state != "pending" {
        let index = anchoring
            .log
            .leaf_index(batch_id)
            .await
            .map_err(|e| ReceiptError::Damaged(e.to_string()))?;
        if let Some(index) = index {
            let reference = anchoring
                .log
                .reference(index)
                .await
                .map_err(|e| ReceiptError::Damaged(e.to_string()))?;
            if let Some((is_final, reference)) = reference {
                return Ok(Anchor {
                    connector: row.connector.clone(),
                    state: if is_final { "final" } else { "included" }.to_owned(),
                    reference: Some(
                        serde_json::to_value(reference)
                            .map_err(|e| ReceiptError::Damaged(e.to_string()))?,
                    ),
                });
            }
        }
    }
    let reference: Option<Value> = row
        .reference
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| ReceiptError::Damaged(format!("a stored ledger reference: {e}")))?;
    Ok(Anchor {
        connector: row.connector.clone(),
        state: row.state.clone(),
        reference,
    })
}

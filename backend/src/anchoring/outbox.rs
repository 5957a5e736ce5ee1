//! The outbox: a record to anchor and its pending anchor row are written in one transaction
//! (invariant: no lost anchors). Each row has its own random salt; the fingerprint is
//! `SHA-256(salt ‖ JCS(record))` ([`corroborate_verifier::anchor::fingerprint`]).

use crate::db::schema::{anchor_records, decisions};
use crate::db::{AnyConnection, millis};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::RngCore;
use serde_json::Value;

/// What kind of record a row anchors.
pub const STATUS_CREDENTIAL: &str = "status_credential";
pub const DECISION: &str = "decision";

/// Writes the pending anchor row of `record` (inside the caller's transaction). Writing the same
/// record twice is refused by the table's unique key, so a record is anchored once.
pub fn enqueue_in(
    conn: &mut AnyConnection,
    kind: &str,
    record_id: &str,
    decision_id: &str,
    record: &Value,
    at: DateTime<Utc>,
) -> Result<(), diesel::result::Error> {
    let mut salt = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let canonical = serde_json_canonicalizer::to_vec(record)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let fingerprint = corroborate_verifier::anchor::fingerprint(&salt, &canonical);
    diesel::insert_into(anchor_records::table)
        .values((
            anchor_records::id.eq(uuid::Uuid::new_v4().to_string()),
            anchor_records::kind.eq(kind),
            anchor_records::record_id.eq(record_id),
            anchor_records::decision_id.eq(decision_id),
            anchor_records::salt.eq(Some(hex::encode(salt))),
            anchor_records::fingerprint.eq(hex::encode(fingerprint)),
            anchor_records::created_at.eq(millis(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Erasure: forgets the salts of every record anchored about decisions on `subject`. The
/// fingerprints stay (they are on the ledger anyway) but can no longer be linked to the
/// citizen's data by us; only the citizen's own receipt still holds the salt.
pub fn forget_salts_in(
    conn: &mut AnyConnection,
    decision_ids: &[String],
) -> Result<usize, diesel::result::Error> {
    diesel::update(
        anchor_records::table
            .filter(anchor_records::decision_id.eq_any(decision_ids))
            .filter(anchor_records::salt.is_not_null()),
    )
    .set(anchor_records::salt.eq(None::<String>))
    .execute(conn)
}

/// The decision record that is anchored when `anchoring.decision_records` is on: what was
/// decided, by whom, under which policy, when, with the redacted explanation. Built once, at
/// decision time, from the values being stored.
pub fn decision_document(
    id: &str,
    verifier: &str,
    policy: (&str, &str),
    fact_type: &str,
    outcome: &str,
    decided_at: &str,
    explanation: &Value,
) -> Value {
    serde_json::json!({
        "decision": id,
        "verifier": verifier,
        "policy": policy.0,
        "policyVersion": policy.1,
        "factType": fact_type,
        "outcome": outcome,
        "decidedAt": decided_at,
        "explanation": explanation,
    })
}

/// Whether the decision exists (receipts are asked by decision).
pub fn decision_exists(conn: &mut AnyConnection, id: &str) -> Result<bool, diesel::result::Error> {
    Ok(decisions::table
        .filter(decisions::id.eq(id))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

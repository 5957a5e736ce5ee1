//! The audit log of administrative acts: append-only and hash-chained.
//!
//! [`record`] runs inside the transaction of the act it records, so an act and its entry commit
//! together or not at all. Each entry's `hash` is SHA-256 over the previous entry's hash and the
//! JCS form of the entry, so removing or altering an entry breaks every later hash
//! ([`verify_chain`]). The database refuses UPDATE and DELETE on the table (triggers in both
//! dialects); on PostgreSQL appends take a table lock so that two concurrent acts cannot both
//! chain to the same predecessor.

use crate::auth::{Caller, Role};
use crate::db::schema::audit_log;
use crate::db::{self, AnyConnection, StoreError};
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Appends an entry; call it inside the act's transaction.
pub fn record(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    target: &str,
    details: Value,
) -> Result<(), StoreError> {
    if let AnyConnection::Postgresql(pg) = conn {
        pg.batch_execute("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")?;
    }
    let prev: Option<String> = audit_log::table
        .order(audit_log::seq.desc())
        .select(audit_log::hash)
        .first(conn)
        .optional()?;
    let prev = prev.unwrap_or_else(|| GENESIS.to_owned());
    let at = db::millis(at);
    let details = details.to_string();
    let hash = entry_hash(&prev, at, actor, action, target, &details);
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(at),
            audit_log::actor.eq(actor),
            audit_log::action.eq(action),
            audit_log::target.eq(target),
            audit_log::details.eq(details),
            audit_log::prev_hash.eq(prev),
            audit_log::hash.eq(hash),
        ))
        .execute(conn)?;
    Ok(())
}

fn entry_hash(
    prev: &str,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    details: &str,
) -> String {
    let entry = json!({
        "at": at, "actor": actor, "action": action, "target": target, "details": details,
    });
    // JCS of a flat object of strings and an integer cannot fail.
    let canonical = serde_json_canonicalizer::to_vec(&entry).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(&canonical);
    hex::encode(hasher.finalize())
}

#[derive(Debug, Clone, Queryable, Serialize, ToSchema)]
pub struct Entry {
    pub seq: i64,
    #[serde(serialize_with = "as_time")]
    #[schema(value_type = String)]
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    #[schema(value_type = Object)]
    #[serde(serialize_with = "as_json")]
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

fn as_time<S: serde::Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&corroborate_verifier::credential::rfc3339(db::from_millis(
        *ms,
    )))
}

fn as_json<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => value.serialize(s),
        Err(_) => s.serialize_str(text),
    }
}

/// Where the chain first breaks, if anywhere.
pub fn verify_chain(entries: &[Entry], mut prev: String) -> Option<i64> {
    for entry in entries {
        let expected = entry_hash(
            &prev,
            entry.at,
            &entry.actor,
            &entry.action,
            &entry.target,
            &entry.details,
        );
        if entry.prev_hash != prev || entry.hash != expected {
            return Some(entry.seq);
        }
        prev = entry.hash.clone();
    }
    None
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries after this sequence number.
    pub after: Option<i64>,
    /// At most this many entries (default 100, at most 1000).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<Entry>,
    /// Whether every returned entry chains correctly to the one before it.
    pub chain_intact: bool,
    /// The first entry whose hash does not match, when the chain is broken.
    pub broken_at: Option<i64>,
}

/// Reads the audit log (admins only), checking the hash chain of what it returns.
#[utoipa::path(get, path = "/admin/audit", tag = "registry", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    let after = query.after.unwrap_or(0);
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "`limit` must be between 1 and 1000",
        ));
    }
    let (entries, prev) = state
        .db
        .read(move |conn| {
            let entries: Vec<Entry> = audit_log::table
                .filter(audit_log::seq.gt(after))
                .order(audit_log::seq.asc())
                .limit(limit)
                .load(conn)?;
            let prev: Option<String> = audit_log::table
                .filter(audit_log::seq.le(after))
                .order(audit_log::seq.desc())
                .select(audit_log::hash)
                .first(conn)
                .optional()?;
            Ok((entries, prev))
        })
        .await?;
    let start = entries
        .first()
        .map(|e| e.prev_hash.clone())
        .unwrap_or_default();
    let prev = prev.unwrap_or_else(|| {
        if after == 0 {
            GENESIS.to_owned()
        } else {
            start
        }
    });
    let broken_at = verify_chain(&entries, prev);
    Ok(HttpResponse::Ok().json(AuditPage {
        entries,
        chain_intact: broken_at.is_none(),
        broken_at,
    }))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/audit", web::get().to(list));
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(list))]
pub struct Api;

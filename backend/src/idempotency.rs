//! Exactly-once effects for issuing endpoints.
//!
//! A client may send `Idempotency-Key: <key>` (1–255 visible ASCII characters) with a request
//! that creates something. [`once`] runs the effect and stores its response in the same
//! transaction, keyed by (caller, key); a retry with the same key and the same request gets the
//! stored response back and changes nothing; the same key with a different request is refused
//! (`idempotency_key_reused`). Two concurrent requests with one key cannot both take effect: the
//! second one's insert of the key fails, its transaction rolls back, and it answers the first
//! one's stored response. Responses are kept for [`RETENTION`] (24 hours).

use crate::db::schema::idempotency_keys;
use crate::db::{self, AnyConnection};
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const HEADER: &str = "Idempotency-Key";

/// How long a key's response is kept: a retry after that is a new request.
pub const RETENTION: chrono::Duration = chrono::Duration::hours(24);

/// Deletes responses older than [`RETENTION`]; returns how many (maintenance).
pub async fn purge_expired(state: &AppState) -> Result<usize, crate::db::StoreError> {
    let before = db::millis(state.now() - RETENTION);
    state
        .db
        .write::<_, crate::db::StoreError, _>(move |conn| {
            Ok(diesel::delete(
                idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)),
            )
            .execute(conn)?)
        })
        .await
}

/// The idempotency key of one request, with what identifies the request.
#[derive(Debug, Clone)]
pub struct Idempotency {
    key: String,
    caller: String,
    endpoint: String,
    request_hash: String,
}

impl Idempotency {
    /// The request's key, if it sent one; `endpoint` names the operation (e.g. `issue`), and
    /// `body` is hashed so that a reused key with another request is noticed.
    pub fn from_request(
        req: &HttpRequest,
        caller: &str,
        endpoint: &str,
        body: &Value,
    ) -> ApiResult<Option<Idempotency>> {
        let Some(header) = req.headers().get(HEADER) else {
            return Ok(None);
        };
        let key = header
            .to_str()
            .ok()
            .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                ApiError::new(
                    Code::InvalidParameter,
                    "Idempotency-Key must be 1 to 255 visible ASCII characters",
                )
            })?;
        let canonical = serde_json_canonicalizer::to_vec(body).map_err(ApiError::internal)?;
        let mut hasher = Sha256::new();
        hasher.update(endpoint.as_bytes());
        hasher.update([0]);
        hasher.update(&canonical);
        Ok(Some(Idempotency {
            key: key.to_owned(),
            caller: caller.to_owned(),
            endpoint: endpoint.to_owned(),
            request_hash: hex::encode(hasher.finalize()),
        }))
    }

    /// The stored response for this key, if the same request was made before.
    fn stored(&self, conn: &mut AnyConnection) -> ApiResult<Option<(u16, Value)>> {
        let row: Option<(String, String, i32, String)> = idempotency_keys::table
            .filter(idempotency_keys::caller.eq(&self.caller))
            .filter(idempotency_keys::key.eq(&self.key))
            .select((
                idempotency_keys::endpoint,
                idempotency_keys::request_hash,
                idempotency_keys::status,
                idempotency_keys::response,
            ))
            .first(conn)
            .optional()?;
        match row {
            None => Ok(None),
            Some((endpoint, hash, status, response)) => {
                if endpoint != self.endpoint || hash != self.request_hash {
                    return Err(ApiError::new(
                        Code::IdempotencyKeyReused,
                        "this Idempotency-Key was used for a different request",
                    ));
                }
                let body = serde_json::from_str(&response).map_err(ApiError::internal)?;
                let status = u16::try_from(status).map_err(ApiError::internal)?;
                Ok(Some((status, body)))
            }
        }
    }

    fn store(&self, conn: &mut AnyConnection, status: u16, body: &Value, at: i64) -> ApiResult<()> {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::caller.eq(&self.caller),
                idempotency_keys::key.eq(&self.key),
                idempotency_keys::endpoint.eq(&self.endpoint),
                idempotency_keys::request_hash.eq(&self.request_hash),
                idempotency_keys::status.eq(i32::from(status)),
                idempotency_keys::response.eq(body.to_string()),
                idempotency_keys::created_at.eq(at),
            ))
            .execute(conn)?;
        Ok(())
    }
}

/// Runs `effect` in one write transaction, at most once per idempotency key, and answers its
/// `(status, body)` as JSON. Without a key, `effect` simply runs.
pub async fn once<F>(
    state: &AppState,
    idempotency: Option<Idempotency>,
    effect: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce(&mut AnyConnection) -> ApiResult<(u16, Value)> + Send + 'static,
{
    let at = db::millis(state.now());
    let guard = idempotency.clone();
    let result = state
        .db
        .write::<_, ApiError, _>(move |conn| {
            if let Some(idempotency) = &guard
                && let Some(stored) = idempotency.stored(conn)?
            {
                return Ok(stored);
            }
            let (status, body) = effect(conn)?;
            if let Some(idempotency) = &guard {
                idempotency.store(conn, status, &body, at)?;
            }
            Ok((status, body))
        })
        .await;
    let (status, body) = match (result, idempotency) {
        (Ok(reply), _) => reply,
        // A concurrent request with the same key committed first: answer what it answered.
        (Err(error), Some(idempotency)) if is_unique_violation(&error) => state
            .db
            .read(move |conn| Ok(idempotency.stored(conn)))
            .await??
            .ok_or(error)?,
        (Err(error), _) => return Err(error),
    };
    let status = StatusCode::from_u16(status).map_err(ApiError::internal)?;
    Ok(HttpResponse::build(status).json(body))
}

fn is_unique_violation(error: &ApiError) -> bool {
    // `ApiError` keeps no cause; an internal error in the key's transaction is retried as a read,
    // which finds the stored response only if another request with the key committed.
    error.code == Code::Internal
}

//! The exchange's rows and the queries on them, apart from the wire types. Every function runs on
//! a connection the caller holds (inside [`crate::db::Db::read`] or one write transaction).

use crate::db::schema::{attestation_requests, attestation_responses};
use crate::db::{AnyConnection, StoreError};
use crate::error::{ApiError, ApiResult};
use diesel::prelude::*;
use serde::Serialize;

/// A request's stored state (see the module documentation for the life cycle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// No answer yet.
    Open,
    /// Some answers, more expected.
    Answered,
    /// Every answer expected is in: each addressee's, and the open link's if it had one.
    Closed,
    /// Its time ran out before it closed.
    Expired,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Open => "open",
            RequestState::Answered => "answered",
            RequestState::Closed => "closed",
            RequestState::Expired => "expired",
        }
    }

    fn parse(text: &str) -> Option<RequestState> {
        [
            RequestState::Open,
            RequestState::Answered,
            RequestState::Closed,
            RequestState::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// States in which a request still takes answers (until it expires).
pub const TAKING_ANSWERS: [&str; 2] = ["open", "answered"];

#[derive(Debug, Clone, Queryable)]
pub struct RequestRow {
    pub id: String,
    pub citizen_did: String,
    pub fact_type: String,
    /// JSON object; `None` once purged.
    pub claims: Option<String>,
    /// JSON array of DIDs.
    pub addressed_to: String,
    pub open_token_hash: Option<String>,
    pub note: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub state: String,
    pub closed_at: Option<i64>,
    pub keep: bool,
}

impl RequestRow {
    pub fn addressees(&self) -> ApiResult<Vec<String>> {
        serde_json::from_str(&self.addressed_to).map_err(|e| {
            ApiError::internal(format!(
                "attestation request {}: addressed_to: {e}",
                self.id
            ))
        })
    }

    pub fn claims(&self) -> ApiResult<Option<serde_json::Value>> {
        self.claims
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| {
                ApiError::internal(format!("attestation request {}: claims: {e}", self.id))
            })
    }

    /// The state as it is now: a request that still took answers when its time ran out is
    /// expired, whether or not the sweep has written so yet.
    pub fn state_at(&self, now: i64) -> ApiResult<RequestState> {
        let stored = RequestState::parse(&self.state).ok_or_else(|| {
            ApiError::internal(format!(
                "attestation request {}: unknown state {:?}",
                self.id, self.state
            ))
        })?;
        Ok(match stored {
            RequestState::Open | RequestState::Answered if self.expires_at <= now => {
                RequestState::Expired
            }
            other => other,
        })
    }

    pub fn has_open_link(&self) -> bool {
        self.open_token_hash.is_some()
    }
}

#[derive(Debug, Clone, Queryable)]
pub struct ResponseRow {
    pub id: String,
    pub request_id: String,
    pub attester_did: String,
    /// The signed credential's JSON; `None` once collected or purged, and for a decline.
    pub credential: Option<String>,
    pub declined: bool,
    pub reason: Option<String>,
    pub created_at: i64,
    pub collected_at: Option<i64>,
}

/// The id of the answer given through a request's open link. Deriving it from the request makes
/// the link one-time in the database itself: a second answer through it collides on the primary
/// key, however the two race.
pub fn open_link_answer_id(request_id: &str) -> String {
    format!("{request_id}/open-link")
}

pub fn find_request(conn: &mut AnyConnection, id: &str) -> Result<Option<RequestRow>, StoreError> {
    Ok(attestation_requests::table
        .filter(attestation_requests::id.eq(id))
        .select(attestation_requests::all_columns)
        .first(conn)
        .optional()?)
}

pub fn find_by_token_hash(
    conn: &mut AnyConnection,
    hash: &str,
) -> Result<Option<RequestRow>, StoreError> {
    Ok(attestation_requests::table
        .filter(attestation_requests::open_token_hash.eq(hash))
        .select(attestation_requests::all_columns)
        .first(conn)
        .optional()?)
}

/// The answers to the requests `ids`, oldest first.
pub fn answers_to(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<Vec<ResponseRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(attestation_responses::table
        .filter(attestation_responses::request_id.eq_any(ids))
        .order((
            attestation_responses::created_at.asc(),
            attestation_responses::id.asc(),
        ))
        .select(attestation_responses::all_columns)
        .load(conn)?)
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE … ESCAPE '\'` pattern.
pub fn like_literal(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

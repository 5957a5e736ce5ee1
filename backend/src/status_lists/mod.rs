//! W3C Bitstring Status Lists served by this service, at `{public_url}/status-lists/{id}`.
//!
//! Two kinds share the `status_lists` table. *Hosted* lists ([`hosted`]) belong to a hosted
//! issuer: one revocation and one suspension list at a time per issuer, 131,072 bits each, the
//! bits kept here and the list credential re-signed with the issuer's current key (version + 1)
//! whenever a bit changes. *Published* lists ([`published`]) belong to a person attester: the
//! service only reserves indexes and stores the list credential the person's wallet signed, after
//! verifying it, so a list's issuer always matches its credentials'.
//!
//! Invariants: an index of a list belongs to at most one credential (the primary key of
//! `status_entries`), and is drawn uniformly at random among the free ones, so that an index says
//! nothing about when or to whom a credential was issued; a revocation bit, once set, is never
//! cleared. After a bit is set, the decisions that counted the entry are re-evaluated
//! ([`crate::derivation::reevaluate_withdrawn`]) once the change is committed.

pub mod hosted;
pub mod published;

pub use hosted::set_status_in;

use crate::db::schema::{status_entries, status_lists};
use crate::db::{AnyConnection, StoreError};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use corroborate_verifier::status::{ENTRY_TYPE, StatusPurpose};
use diesel::prelude::*;
use rand::{Rng, RngCore};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// A status list as stored.
#[derive(Debug, Clone, Queryable)]
pub(crate) struct ListRow {
    pub id: String,
    pub owner_did: String,
    pub purpose: String,
    pub hosted: bool,
    pub size_bits: i64,
    pub bits: Option<Vec<u8>>,
    pub credential: Option<String>,
    pub version: i64,
    pub _updated_at: i64,
}

/// Random probes for a free index before listing the taken ones: with a list half full, 64
/// probes all miss with probability 2⁻⁶⁴; only a list nearly full pays for the listing.
const PROBES: usize = 64;

/// The URL a list is published at (its credential's `id`).
pub fn list_url(state: &AppState, list_id: &str) -> String {
    format!("{}/status-lists/{list_id}", state.public_url)
}

/// The id of the list published at `url`, when the URL is one of ours.
fn list_id_of<'a>(state: &AppState, url: &'a str) -> Option<&'a str> {
    url.strip_prefix(&state.public_url)?
        .strip_prefix("/status-lists/")
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A new list id: the creation time (hex milliseconds, fixed width) then 64 random bits, so that
/// ids sort by creation and the newest list of an owner is the greatest id.
pub(crate) fn new_list_id(at_ms: i64) -> String {
    let mut random = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut random);
    format!("{:012x}{}", at_ms.max(0), hex::encode(random))
}

pub(crate) fn parse_purpose(text: &str) -> Option<StatusPurpose> {
    match text {
        "revocation" => Some(StatusPurpose::Revocation),
        "suspension" => Some(StatusPurpose::Suspension),
        _ => None,
    }
}

/// The `BitstringStatusListEntry` for `index` of the list at `list_url`.
pub fn entry_json(list_url: &str, purpose: StatusPurpose, index: u64) -> Value {
    json!({
        "id": format!("{list_url}#{index}"),
        "type": ENTRY_TYPE,
        "statusPurpose": purpose.as_str(),
        "statusListIndex": index.to_string(),
        "statusListCredential": list_url,
    })
}

pub(crate) fn find_in(conn: &mut AnyConnection, id: &str) -> Result<Option<ListRow>, StoreError> {
    Ok(status_lists::table
        .filter(status_lists::id.eq(id))
        .first::<ListRow>(conn)
        .optional()?)
}

/// Locks the list's row until the transaction ends (PostgreSQL; SQLite writers are already
/// serialized): read-modify-write of its bits must not interleave, or one change would be lost.
pub(crate) fn lock_in(conn: &mut AnyConnection, id: &str) -> Result<bool, StoreError> {
    let touched = diesel::update(status_lists::table.filter(status_lists::id.eq(id)))
        .set(status_lists::version.eq(status_lists::version))
        .execute(conn)?;
    Ok(touched == 1)
}

/// Reserves a free index of list `list_id` (of `size_bits` bits) for `credential_id`, drawn
/// uniformly at random among the free ones; `None` when the list is full.
pub(crate) fn reserve_in(
    conn: &mut AnyConnection,
    list_id: &str,
    size_bits: u64,
    credential_id: Option<&str>,
    at_ms: i64,
) -> ApiResult<Option<u64>> {
    if size_bits == 0 {
        return Ok(None);
    }
    let mut rng = rand::rngs::OsRng;
    for _ in 0..PROBES {
        let candidate = rng.gen_range(0..size_bits);
        if try_take(conn, list_id, candidate, credential_id, at_ms)? {
            return Ok(Some(candidate));
        }
    }
    // Nearly full: list what is taken and draw among the rest. A concurrent writer may take the
    // drawn index first; draw again a few times before giving up.
    for _ in 0..8 {
        let taken: Vec<i64> = status_entries::table
            .filter(status_entries::list_id.eq(list_id))
            .filter(status_entries::idx.lt(i64::try_from(size_bits).unwrap_or(i64::MAX)))
            .order(status_entries::idx.asc())
            .select(status_entries::idx)
            .load(conn)?;
        let taken: Vec<u64> = taken
            .into_iter()
            .filter_map(|i| u64::try_from(i).ok())
            .collect();
        let free = size_bits.saturating_sub(taken.len() as u64);
        if free == 0 {
            return Ok(None);
        }
        let index = nth_free(&taken, rng.gen_range(0..free));
        if try_take(conn, list_id, index, credential_id, at_ms)? {
            return Ok(Some(index));
        }
    }
    Err(ApiError::internal(format!(
        "no free index could be reserved in status list {list_id}"
    )))
}

/// The `n`-th (from 0) index not in `taken` (sorted ascending).
fn nth_free(taken: &[u64], n: u64) -> u64 {
    let mut index = n;
    for &t in taken {
        if t <= index {
            index += 1;
        } else {
            break;
        }
    }
    index
}

/// Takes `index` of the list if it is free. The insert runs in a savepoint, so that losing a
/// race to a concurrent writer (a unique violation) leaves the surrounding transaction usable.
fn try_take(
    conn: &mut AnyConnection,
    list_id: &str,
    index: u64,
    credential_id: Option<&str>,
    at_ms: i64,
) -> ApiResult<bool> {
    let idx = i64::try_from(index).map_err(ApiError::internal)?;
    let existing: i64 = status_entries::table
        .filter(status_entries::list_id.eq(list_id))
        .filter(status_entries::idx.eq(idx))
        .count()
        .get_result(conn)?;
    if existing > 0 {
        return Ok(false);
    }
    let inserted = conn.transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::insert_into(status_entries::table)
            .values((
                status_entries::list_id.eq(list_id),
                status_entries::idx.eq(idx),
                status_entries::credential_id.eq(credential_id),
                status_entries::allocated_at.eq(at_ms),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(other) => Err(other.into()),
    }
}

/// The status list credential at `url` when it is hosted or published here, else `None` (also
/// for a published list whose owner has not uploaded a credential yet).
pub async fn local_list_credential(
    state: &AppState,
    url: &str,
) -> Result<Option<Value>, StoreError> {
    let Some(id) = list_id_of(state, url).map(str::to_owned) else {
        return Ok(None);
    };
    let stored: Option<Option<String>> = state
        .db
        .read(move |conn| {
            Ok(status_lists::table
                .filter(status_lists::id.eq(&id))
                .select(status_lists::credential)
                .first(conn)
                .optional()?)
        })
        .await?;
    match stored.flatten() {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
            StoreError::Query(diesel::result::Error::DeserializationError(Box::new(e)))
        }),
    }
}

/// Media type for a list credential: `application/vc+ld+json` when the client asks for it,
/// `application/json` otherwise.
fn media_type(req: &HttpRequest) -> &'static str {
    let wants_vc = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/vc+ld+json"));
    if wants_vc {
        "application/vc+ld+json"
    } else {
        "application/json"
    }
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for this header).
fn matches_etag(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

/// Lists change when a credential is revoked or suspended: caches may keep one a minute.
const CACHE_CONTROL: &str = "public, max-age=60";

/// A status list credential (public): hosted lists signed by their issuer's service key,
/// published lists as their owner signed them. `ETag` is the list's version; a request with a
/// matching `If-None-Match` gets 304.
#[utoipa::path(get, path = "/status-lists/{id}", tag = "status lists",
    params(("id" = String, Path, description = "The list id")),
    responses(
        (status = 200, description = "The BitstringStatusListCredential: application/json, or \
            application/vc+ld+json when the request's Accept names it", content_type = "application/json"),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
        (status = 404, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let row = state
        .db
        .read(move |conn| find_in(conn, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("status list"))?;
    let Some(credential) = row.credential else {
        return Err(ApiError::new(
            crate::error::Code::NotFound,
            "this status list has not been published by its owner yet",
        ));
    };
    let etag = format!("\"{}-{}\"", row.id, row.version);
    if matches_etag(&req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type(media_type(&req))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .body(credential))
}

/// A reserved or assigned status entry, ready to embed in a credential.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reserved {
    pub index: u64,
    pub status_list_credential: String,
    /// The `BitstringStatusListEntry` to put in the credential's `credentialStatus`.
    #[schema(value_type = Object)]
    pub credential_status: Value,
}

pub fn routes(cfg: &mut web::ServiceConfig, limiter: &crate::app::Limiter) {
    // The PUT goes first: its resource is guarded by method, so a GET falls through to the
    // rate-limited public resource below (which would answer 405 to a PUT).
    cfg.route("/status-lists", web::post().to(published::create))
        .route("/status-lists/{id}", web::put().to(published::publish))
        .route(
            "/status-lists/{id}/entries",
            web::post().to(published::reserve),
        );
    limiter.resource(cfg, "/status-lists/{id}", vec![web::get().to(get)]);
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(get, published::create, published::reserve, published::publish),
    components(schemas(
        Reserved,
        published::CreateList,
        published::CreatedList,
        published::Published
    ))
)]
pub struct Api;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nth_free_index_skips_taken_ones() {
        assert_eq!(nth_free(&[], 5), 5);
        assert_eq!(nth_free(&[0, 1, 2], 0), 3);
        assert_eq!(nth_free(&[1, 3], 0), 0);
        assert_eq!(nth_free(&[1, 3], 1), 2);
        assert_eq!(nth_free(&[1, 3], 2), 4);
        assert_eq!(nth_free(&[0, 2, 4, 6], 3), 7);
    }

    #[test]
    fn list_ids_sort_by_creation() {
        let a = new_list_id(1_700_000_000_000);
        let b = new_list_id(1_700_000_000_001);
        assert_eq!(a.len(), 28);
        assert!(a < b);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }
}

//! Published status lists: a person attester's lists, signed by their own wallet key and only
//! published here (DESIGN.md), so that a list's issuer is always its credentials' issuer.
//!
//! The owner creates a list, reserves random free indexes for the credentials they sign, and
//! uploads each new version of the signed list credential. An upload is stored only after it
//! verifies as the owner's list at this URL for this purpose, with at least 131,072 bits; a
//! revocation bit set in the stored version may never be cleared by a later one.

use super::{ListRow, Reserved, entry_json, find_in, list_url, lock_in, new_list_id, reserve_in};
use crate::auth::{Caller, Role};
use crate::db::schema::status_lists;
use crate::db::{self, AnyConnection};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{StrictJson, StrictValue};
use crate::idempotency::{self, Idempotency};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use corroborate_verifier::credential::Credential;
use corroborate_verifier::status::{
    LIST_CREDENTIAL_TYPE, LIST_TYPE, MIN_LIST_BITS, StatusPurpose, decode_list,
};
use corroborate_verifier::verification::{VerifyOptions, verify_credential};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateList {
    /// `revocation` or `suspension`.
    pub purpose: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedList {
    pub id: String,
    /// The list credential's `id` and where it is served once published.
    pub url: String,
    pub purpose: String,
    /// The number of indexes that can be reserved.
    pub size: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    pub id: String,
    pub url: String,
    /// Incremented by every upload; served as the `ETag`.
    pub version: i64,
    /// How many bits this version sets that the previous one did not.
    pub newly_set: usize,
}

/// The list `id` for its owner `caller`: 404 when unknown, 403 for anyone else or for a hosted
/// list (which the service maintains itself).
fn owned_list_in(conn: &mut AnyConnection, id: &str, caller: &str) -> ApiResult<ListRow> {
    let list = find_in(conn, id)?.ok_or_else(|| ApiError::not_found("status list"))?;
    if list.hosted {
        return Err(ApiError::forbidden(
            "this list belongs to a hosted issuer: the service maintains it; change a \
             credential's status with POST /credentials/status",
        ));
    }
    if list.owner_did != caller {
        return Err(ApiError::forbidden(
            "only the owner of this list may change it",
        ));
    }
    Ok(list)
}

/// Creates an empty status list owned by the caller (an attester), to be signed by their
/// wallet and uploaded with `PUT /status-lists/{id}`.
#[utoipa::path(post, path = "/status-lists", tag = "status lists",
    request_body = CreateList,
    responses((status = 201, body = CreatedList), (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create(
    caller: Caller,
    state: web::Data<AppState>,
    StrictJson(body): StrictJson<CreateList>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Attester)?;
    let purpose = super::parse_purpose(&body.purpose)
        .ok_or_else(|| ApiError::bad_body("`purpose` must be \"revocation\" or \"suspension\""))?;
    let at_ms = db::millis(state.now());
    let id = new_list_id(at_ms);
    let row_id = id.clone();
    state
        .db
        .write::<_, ApiError, _>(move |conn| {
            diesel::insert_into(status_lists::table)
                .values((
                    status_lists::id.eq(&row_id),
                    status_lists::owner_did.eq(&caller.did),
                    status_lists::purpose.eq(purpose.as_str()),
                    status_lists::hosted.eq(false),
                    status_lists::size_bits.eq(MIN_LIST_BITS as i64),
                    status_lists::version.eq(0_i64),
                    status_lists::updated_at.eq(at_ms),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedList {
        url: list_url(&state, &id),
        id,
        purpose: purpose.as_str().to_owned(),
        size: MIN_LIST_BITS,
    }))
}

/// Reserves a random free index of the caller's list for the next credential they sign
/// (owner only). `Idempotency-Key` makes a retry return the same index.
#[utoipa::path(post, path = "/status-lists/{id}/entries", tag = "status lists",
    params(("id" = String, Path, description = "The list id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses((status = 201, body = Reserved), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn reserve(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let idempotency = Idempotency::from_request(
        &req,
        &caller.did,
        "status_lists.reserve",
        &json!({"list": id}),
    )?;
    let at_ms = db::millis(state.now());
    let url = list_url(&state, &id);
    idempotency::once(&state, idempotency, move |conn| {
        let list = owned_list_in(conn, &id, &caller.did)?;
        let purpose = super::parse_purpose(&list.purpose)
            .ok_or_else(|| ApiError::internal(format!("list {id} has purpose {}", list.purpose)))?;
        let index =
            reserve_in(conn, &id, list.size_bits.max(0) as u64, None, at_ms)?.ok_or_else(|| {
                ApiError::conflict("every index of this list is reserved: create another list")
            })?;
        let reserved = Reserved {
            index,
            credential_status: entry_json(&url, purpose, index),
            status_list_credential: url,
        };
        Ok((
            201,
            serde_json::to_value(reserved).map_err(ApiError::internal)?,
        ))
    })
    .await
}

/// Bits set in `new` that are clear (or absent) in `old`.
fn newly_set(old: Option<&[u8]>, new: &[u8]) -> Vec<u64> {
    let mut indexes = Vec::new();
    for (i, byte) in new.iter().enumerate() {
        let before = old.and_then(|o| o.get(i)).copied().unwrap_or(0);
        let added = byte & !before;
        if added == 0 {
            continue;
        }
        for bit in 0..8u64 {
            if added & (0x80 >> bit) != 0 {
                indexes.push(i as u64 * 8 + bit);
            }
        }
    }
    indexes
}

/// The first bit set in `old` and clear in `new`, if any.
fn first_cleared(old: &[u8], new: &[u8]) -> Option<u64> {
    old.iter().enumerate().find_map(|(i, before)| {
        let after = new.get(i).copied().unwrap_or(0);
        let lost = before & !after;
        (lost != 0).then(|| i as u64 * 8 + u64::from(lost.leading_zeros()))
    })
}

/// Checks what can be checked of an uploaded list without its proof; returns its bitstring.
fn check_shape(
    credential: &Credential,
    url: &str,
    owner: &str,
    purpose: StatusPurpose,
) -> ApiResult<Vec<u8>> {
    let invalid = |detail: String| ApiError::new(Code::InvalidCredential, detail);
    if credential.id() != Some(url) {
        return Err(invalid(format!(
            "the list credential's `id` must be {url}, the URL it is published at (found {})",
            credential.id().unwrap_or("none")
        )));
    }
    if !credential.types().iter().any(|t| t == LIST_CREDENTIAL_TYPE) {
        return Err(invalid(format!(
            "the list credential's `type` must include {LIST_CREDENTIAL_TYPE}"
        )));
    }
    if credential.issuer() != owner {
        return Err(invalid(format!(
            "the list credential's issuer {} is not the list's owner {owner}",
            credential.issuer()
        )));
    }
    if credential.json().get("credentialStatus").is_some() {
        return Err(invalid(
            "a status list credential must not have a `credentialStatus` of its own".to_owned(),
        ));
    }
    let [subject] = credential.subjects() else {
        return Err(invalid(format!(
            "the list credential must have exactly one subject, of type {LIST_TYPE}"
        )));
    };
    let includes = |value: Option<&Value>, wanted: &str| match value {
        Some(Value::String(s)) => s == wanted,
        Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(wanted)),
        _ => false,
    };
    if !includes(subject.get("type"), LIST_TYPE) {
        return Err(invalid(format!(
            "the list credential's subject must be of type {LIST_TYPE}"
        )));
    }
    if !includes(subject.get("statusPurpose"), purpose.as_str()) {
        return Err(invalid(format!(
            "this list is for {purpose}: its subject's `statusPurpose` must say so"
        )));
    }
    let encoded = subject
        .get("encodedList")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the subject's `encodedList` is missing".to_owned()))?;
    let bits =
        decode_list(encoded).map_err(|e| invalid(format!("`encodedList` is refused: {e}")))?;
    if bits.len_bits() < MIN_LIST_BITS {
        return Err(invalid(format!(
            "the bitstring has {} bits, fewer than the {MIN_LIST_BITS} required for herd privacy",
            bits.len_bits()
        )));
    }
    Ok(bits.as_bytes().to_vec())
}

/// Uploads a new version of the caller's list: the `BitstringStatusListCredential` their wallet
/// signed (owner only). It must verify with a key of the owner's DID, name this list's URL as
/// its `id`, state the list's purpose, and decode to at least 131,072 bits; a revocation list
/// may not clear a bit it set before. Decisions that counted a credential whose bit this version
/// sets are re-evaluated.
#[utoipa::path(put, path = "/status-lists/{id}", tag = "status lists",
    params(("id" = String, Path, description = "The list id")),
    request_body(content = Object, description = "The signed BitstringStatusListCredential"),
    responses((status = 200, body = Published), (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn publish(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    StrictValue(body): StrictValue,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let (lookup, did) = (id.clone(), caller.did.clone());
    let list = state
        .db
        .read(move |conn| Ok(owned_list_in(conn, &lookup, &did)))
        .await??;
    let purpose = super::parse_purpose(&list.purpose)
        .ok_or_else(|| ApiError::internal(format!("list {id} has purpose {}", list.purpose)))?;
    let url = list_url(&state, &id);
    let credential = Credential::from_value(body.clone()).map_err(|failure| {
        ApiError::new(
            Code::InvalidCredential,
            format!("not a valid credential: {failure}"),
        )
    })?;
    let bits = check_shape(&credential, &url, &list.owner_did, purpose)?;
    let now = state.now();
    let report = verify_credential(
        body.clone(),
        &VerifyOptions::at(now),
        &crate::fetch::Resolver::new(&state),
    )
    .await;
    if !report.is_valid() {
        let reasons: Vec<String> = report.failures().iter().map(ToString::to_string).collect();
        return Err(ApiError::new(
            Code::VerificationFailed,
            format!(
                "the list credential does not verify as signed by {}: {}",
                list.owner_did,
                reasons.join("; ")
            ),
        ));
    }
    let text = body.to_string();
    let (at_ms, caller_did, list_id) = (db::millis(now), caller.did.clone(), id.clone());
    let (version, newly) = state
        .db
        .write::<_, ApiError, _>(move |conn| {
            lock_in(conn, &list_id)?;
            let list = owned_list_in(conn, &list_id, &caller_did)?;
            if purpose == StatusPurpose::Revocation
                && let Some(old) = list.bits.as_deref()
                && let Some(index) = first_cleared(old, &bits)
            {
                return Err(ApiError::conflict(format!(
                    "index {index} is revoked in the published list: a revocation cannot be undone"
                )));
            }
            let newly = newly_set(list.bits.as_deref(), &bits);
            let version = list.version + 1;
            diesel::update(status_lists::table.filter(status_lists::id.eq(&list_id)))
                .set((
                    status_lists::size_bits.eq(bits.len() as i64 * 8),
                    status_lists::bits.eq(Some(bits)),
                    status_lists::credential.eq(Some(text)),
                    status_lists::version.eq(version),
                    status_lists::updated_at.eq(at_ms),
                ))
                .execute(conn)?;
            Ok((version, newly))
        })
        .await?;
    let count = newly.len();
    if !newly.is_empty() {
        let entries = newly.into_iter().map(|i| (url.clone(), i)).collect();
        if let Err(error) = crate::derivation::reevaluate_withdrawn(&state, entries).await {
            tracing::error!(list = %id, %error, "re-evaluating decisions after a list upload failed");
        }
    }
    Ok(HttpResponse::Ok().json(Published {
        id,
        url,
        version,
        newly_set: count,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_differences() {
        assert_eq!(newly_set(None, &[0b1000_0001, 0]), vec![0, 7]);
        assert_eq!(
            newly_set(Some(&[0b1000_0000]), &[0b1100_0000, 1]),
            vec![1, 15]
        );
        assert!(newly_set(Some(&[0xff]), &[0xff]).is_empty());
        assert_eq!(first_cleared(&[0, 0b0010_0000], &[0, 0]), Some(10));
        assert_eq!(first_cleared(&[0b0000_0001], &[0b0000_0011]), None);
        assert_eq!(first_cleared(&[0, 1], &[0]), Some(15));
    }
}

//! Hosted status lists: the revocation and suspension lists of hosted issuers, whose bits are
//! kept here and whose list credentials the service signs with the issuer's current key.
//!
//! An issuer has one open list per purpose: the newest (lists ids sort by creation); when it is
//! full a new one is created. Every change of bits re-signs the list credential and bumps its
//! version in the same transaction as the change, so the served list and the recorded status of
//! the credential never disagree.

use super::{ListRow, entry_json, list_url, lock_in, new_list_id, reserve_in};
use crate::db::schema::{issued_credentials, status_entries, status_lists};
use crate::db::{self, AnyConnection};
use crate::error::{ApiError, ApiResult};
use crate::issuance::issuers;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use corroborate_verifier::proof::{Cryptosuite, ProofOptions, add_proof};
use corroborate_verifier::status::{
    Bitstring, BitstringBuilder, MIN_LIST_BITS, StatusPurpose, status_list_credential,
};
use diesel::prelude::*;
use serde_json::Value;

/// `at` to the second, as credentials and proofs write times.
pub(crate) fn whole_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

/// The list credential of `bits`, signed by the current key of the hosted issuer `owner_did`.
fn sign_list_in(
    conn: &mut AnyConnection,
    state: &AppState,
    owner_did: &str,
    list_id: &str,
    purpose: StatusPurpose,
    bits: &BitstringBuilder,
    at: DateTime<Utc>,
) -> ApiResult<String> {
    let key = issuers::signing_key_in(conn, state, owner_did)?;
    let at = whole_seconds(at);
    let unsigned = status_list_credential(owner_did, &list_url(state, list_id), purpose, bits, at);
    let options = ProofOptions::assertion(Cryptosuite::EddsaRdfc2022, key.id, at);
    let signed = pollster::block_on(add_proof(&unsigned, &key.secret, &options))
        .map_err(|e| ApiError::internal(format!("signing status list {list_id}: {e}")))?;
    Ok(signed.to_string())
}

/// Creates an empty hosted list for `owner_did` and `purpose`, signed; returns its id.
fn create_in(
    conn: &mut AnyConnection,
    state: &AppState,
    owner_did: &str,
    purpose: StatusPurpose,
    at: DateTime<Utc>,
) -> ApiResult<String> {
    let at_ms = db::millis(at);
    let id = new_list_id(at_ms);
    let bits = BitstringBuilder::minimum();
    let credential = sign_list_in(conn, state, owner_did, &id, purpose, &bits, at)?;
    diesel::insert_into(status_lists::table)
        .values((
            status_lists::id.eq(&id),
            status_lists::owner_did.eq(owner_did),
            status_lists::purpose.eq(purpose.as_str()),
            status_lists::hosted.eq(true),
            status_lists::size_bits.eq(bits.len_bits() as i64),
            status_lists::bits.eq(Some(bits.as_bytes().to_vec())),
            status_lists::credential.eq(Some(credential)),
            status_lists::version.eq(1_i64),
            status_lists::updated_at.eq(at_ms),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Assigns `credential_id` a random free index in the issuer's open list for `purpose`
/// (creating a list when there is none or it is full); returns (list id, index).
fn allocate_in(
    conn: &mut AnyConnection,
    state: &AppState,
    owner_did: &str,
    purpose: StatusPurpose,
    credential_id: &str,
    at: DateTime<Utc>,
) -> ApiResult<(String, u64)> {
    let at_ms = db::millis(at);
    let newest: Option<(String, i64)> = status_lists::table
        .filter(status_lists::owner_did.eq(owner_did))
        .filter(status_lists::purpose.eq(purpose.as_str()))
        .filter(status_lists::hosted.eq(true))
        .order(status_lists::id.desc())
        .select((status_lists::id, status_lists::size_bits))
        .first(conn)
        .optional()?;
    if let Some((id, size)) = newest
        && let Some(index) = reserve_in(conn, &id, size.max(0) as u64, Some(credential_id), at_ms)?
    {
        return Ok((id, index));
    }
    let id = create_in(conn, state, owner_did, purpose, at)?;
    let index = reserve_in(conn, &id, MIN_LIST_BITS, Some(credential_id), at_ms)?
        .ok_or_else(|| ApiError::internal(format!("the new status list {id} is full")))?;
    Ok((id, index))
}

/// The `credentialStatus` of a credential about to be issued by the hosted issuer `owner_did`:
/// a revocation entry and a suspension entry, each at a random free index.
pub(crate) fn assign_entries_in(
    conn: &mut AnyConnection,
    state: &AppState,
    owner_did: &str,
    credential_id: &str,
    at: DateTime<Utc>,
) -> ApiResult<Vec<Value>> {
    [StatusPurpose::Revocation, StatusPurpose::Suspension]
        .into_iter()
        .map(|purpose| {
            let (list, index) = allocate_in(conn, state, owner_did, purpose, credential_id, at)?;
            Ok(entry_json(&list_url(state, &list), purpose, index))
        })
        .collect()
}

/// The (list, index) of an issued credential's entry for `purpose`.
pub(crate) fn entry_of_in(
    conn: &mut AnyConnection,
    credential_id: &str,
    purpose: StatusPurpose,
) -> ApiResult<Option<(ListRow, u64)>> {
    let entries: Vec<(String, i64)> = status_entries::table
        .filter(status_entries::credential_id.eq(credential_id))
        .select((status_entries::list_id, status_entries::idx))
        .load(conn)?;
    for (list_id, idx) in entries {
        if let Some(list) = super::find_in(conn, &list_id)?
            && list.purpose == purpose.as_str()
        {
            let index = u64::try_from(idx).map_err(ApiError::internal)?;
            return Ok(Some((list, index)));
        }
    }
    Ok(None)
}

/// Sets (`value` true: revoke or suspend) or clears (`value` false: lift a suspension) the
/// `purpose` bit of the hosted credential `credential_id`, re-signing its list. Returns the
/// (list URL, index) changed, or `None` when the suspension already was as asked.
///
/// Refuses (409) to revoke twice, to undo a revocation, and to change anything of a revoked
/// credential; 404 when no credential with this id was issued here.
pub fn set_status_in(
    conn: &mut AnyConnection,
    state: &AppState,
    credential_id: &str,
    purpose: StatusPurpose,
    value: bool,
    at: DateTime<Utc>,
) -> ApiResult<Option<(String, u64)>> {
    let at_ms = db::millis(at);
    let revoked: Option<Option<i64>> = issued_credentials::table
        .filter(issued_credentials::id.eq(credential_id))
        .select(issued_credentials::revoked_at)
        .first(conn)
        .optional()?;
    match revoked {
        None => return Err(ApiError::not_found("credential issued here")),
        Some(Some(_)) if purpose == StatusPurpose::Revocation && value => {
            return Err(ApiError::conflict("the credential is already revoked"));
        }
        Some(Some(_)) => {
            return Err(ApiError::conflict(
                "the credential is revoked: its status can no longer change",
            ));
        }
        Some(None) => {}
    }
    // The conditional updates decide the race between two concurrent requests: only one of
    // them changes the row.
    let target = issued_credentials::table
        .filter(issued_credentials::id.eq(credential_id))
        .filter(issued_credentials::revoked_at.is_null());
    match purpose {
        StatusPurpose::Revocation if !value => {
            return Err(ApiError::conflict(
                "a revocation cannot be undone (suspend a credential to withdraw it temporarily)",
            ));
        }
        StatusPurpose::Revocation => {
            let changed = diesel::update(target)
                .set(issued_credentials::revoked_at.eq(Some(at_ms)))
                .execute(conn)?;
            if changed == 0 {
                return Err(ApiError::conflict("the credential is already revoked"));
            }
        }
        StatusPurpose::Suspension => {
            let changed = diesel::update(target.filter(issued_credentials::suspended.ne(value)))
                .set(issued_credentials::suspended.eq(value))
                .execute(conn)?;
            if changed == 0 {
                return Ok(None);
            }
        }
    }
    let (list, index) = entry_of_in(conn, credential_id, purpose)?.ok_or_else(|| {
        ApiError::internal(format!("credential {credential_id} has no {purpose} entry"))
    })?;
    lock_in(conn, &list.id)?;
    let list = super::find_in(conn, &list.id)?
        .ok_or_else(|| ApiError::internal(format!("status list {} vanished", list.id)))?;
    let bytes = list
        .bits
        .clone()
        .ok_or_else(|| ApiError::internal(format!("hosted status list {} has no bits", list.id)))?;
    let mut bits = BitstringBuilder::from_bitstring(Bitstring::from_bytes(bytes))
        .map_err(|e| ApiError::internal(format!("status list {}: {e}", list.id)))?;
    let result = if value {
        bits.set(index)
    } else {
        bits.clear(index)
    };
    result.map_err(|e| ApiError::internal(format!("status list {}: {e}", list.id)))?;
    let credential = sign_list_in(conn, state, &list.owner_did, &list.id, purpose, &bits, at)?;
    diesel::update(status_lists::table.filter(status_lists::id.eq(&list.id)))
        .set((
            status_lists::bits.eq(Some(bits.as_bytes().to_vec())),
            status_lists::credential.eq(Some(credential)),
            status_lists::version.eq(list.version + 1),
            status_lists::updated_at.eq(at_ms),
        ))
        .execute(conn)?;
    Ok(Some((list_url(state, &list.id), index)))
}

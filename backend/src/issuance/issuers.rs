//! Hosted issuers: organisations (and government verifiers' signing identities) whose `did:web`
//! DID and Ed25519 service keys this service holds.
//!
//! Invariants: an issuer's DID is `did:web:<public host>:issuers:<id>` and never changes; key ids
//! are `<did>#key-<n>`, numbered from 1 in creation order; exactly one key of an issuer is current
//! (`retired_at` null) and signs everything; a retired key never signs again but stays in the DID
//! document under `assertionMethod`, so what it signed keeps verifying. Secret halves are stored
//! only sealed under the master key and bound to their key id ([`crate::keys::Sealer`]); they are
//! opened just for the signature and wiped on drop. Creating an issuer, adding an operator and
//! rotating a key are recorded in the audit log in the same transaction.

use crate::auth::{Caller, Role};
use crate::db::schema::{issuer_operators, issuers, service_keys};
use crate::db::{self, AnyConnection, StoreError};
use crate::error::{ApiError, ApiResult};
use crate::extract::StrictJson;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use corroborate_verifier::credential::rfc3339;
use corroborate_verifier::key::SecretKey;
use diesel::prelude::*;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use zeroize::Zeroizing;

/// An issuer as stored.
#[derive(Debug, Clone, Queryable)]
pub(crate) struct IssuerRow {
    pub id: String,
    pub did: String,
    pub name: String,
    pub entity: String,
    pub created_at: i64,
}

/// A service key as stored (the secret still sealed).
#[derive(Debug, Clone, Queryable)]
struct KeyRow {
    id: String,
    _issuer_id: String,
    public_key: String,
    sealed_secret: Vec<u8>,
    created_at: i64,
    retired_at: Option<i64>,
}

impl KeyRow {
    /// `n` of `<did>#key-<n>`, for ordering keys as they were created.
    fn number(&self) -> u64 {
        self.id
            .rsplit_once("#key-")
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(u64::MAX)
    }
}

/// The key an issuer signs with now, opened.
pub(crate) struct SigningKey {
    /// The verification method id, `<did>#key-<n>`.
    pub id: String,
    pub secret: SecretKey,
}

/// The issuer with this id.
pub(crate) fn find_in(conn: &mut AnyConnection, id: &str) -> Result<Option<IssuerRow>, StoreError> {
    Ok(issuers::table
        .filter(issuers::id.eq(id))
        .first::<IssuerRow>(conn)
        .optional()?)
}

/// The issuer whose DID this is.
pub(crate) fn find_by_did_in(
    conn: &mut AnyConnection,
    did: &str,
) -> Result<Option<IssuerRow>, StoreError> {
    Ok(issuers::table
        .filter(issuers::did.eq(did))
        .first::<IssuerRow>(conn)
        .optional()?)
}

/// The ids of the hosted issuers `did` operates.
pub fn operated_by_in(conn: &mut AnyConnection, did: &str) -> Result<Vec<String>, StoreError> {
    Ok(issuer_operators::table
        .filter(issuer_operators::did.eq(did))
        .order(issuer_operators::issuer_id.asc())
        .select(issuer_operators::issuer_id)
        .load(conn)?)
}

/// Whether `did` operates issuer `issuer_id`.
pub(crate) fn is_operator_in(
    conn: &mut AnyConnection,
    issuer_id: &str,
    did: &str,
) -> Result<bool, StoreError> {
    let found: i64 = issuer_operators::table
        .filter(issuer_operators::issuer_id.eq(issuer_id))
        .filter(issuer_operators::did.eq(did))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

fn operators_in(conn: &mut AnyConnection, issuer_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(issuer_operators::table
        .filter(issuer_operators::issuer_id.eq(issuer_id))
        .order(issuer_operators::did.asc())
        .select(issuer_operators::did)
        .load(conn)?)
}

/// Every key of an issuer, in creation order.
fn keys_in(conn: &mut AnyConnection, issuer_id: &str) -> Result<Vec<KeyRow>, StoreError> {
    let mut keys: Vec<KeyRow> = service_keys::table
        .filter(service_keys::issuer_id.eq(issuer_id))
        .load(conn)?;
    keys.sort_by_key(|k| (k.number(), k.created_at));
    Ok(keys)
}

/// Locks the issuer's row until the transaction ends (PostgreSQL; SQLite writers are already
/// serialized), so that two rotations, or a rotation and a signature, do not interleave.
fn lock_in(conn: &mut AnyConnection, issuer_id: &str) -> Result<bool, StoreError> {
    let touched = diesel::update(issuers::table.filter(issuers::id.eq(issuer_id)))
        .set(issuers::name.eq(issuers::name))
        .execute(conn)?;
    Ok(touched == 1)
}

/// Creates the issuer's next key (`<did>#key-<n>`), sealed; returns its id. The caller retires
/// the previous one.
fn create_key_in(
    conn: &mut AnyConnection,
    state: &AppState,
    issuer: &IssuerRow,
    at: DateTime<Utc>,
) -> ApiResult<String> {
    let count: i64 = service_keys::table
        .filter(service_keys::issuer_id.eq(&issuer.id))
        .count()
        .get_result(conn)?;
    let key_id = format!("{}#key-{}", issuer.did, count + 1);
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(seed.as_mut());
    let public_key = SecretKey::from_bytes(&seed).public_key().to_multibase();
    let sealed = state.sealer.seal(&key_id, seed.as_ref());
    diesel::insert_into(service_keys::table)
        .values((
            service_keys::id.eq(&key_id),
            service_keys::issuer_id.eq(&issuer.id),
            service_keys::public_key.eq(public_key),
            service_keys::sealed_secret.eq(sealed),
            service_keys::created_at.eq(db::millis(at)),
        ))
        .execute(conn)?;
    Ok(key_id)
}

/// The current key of the issuer with DID `did`, opened for signing.
pub(crate) fn signing_key_in(
    conn: &mut AnyConnection,
    state: &AppState,
    did: &str,
) -> ApiResult<SigningKey> {
    let issuer = find_by_did_in(conn, did)?
        .ok_or_else(|| ApiError::internal(format!("no hosted issuer has the DID {did}")))?;
    let current: Option<KeyRow> = service_keys::table
        .filter(service_keys::issuer_id.eq(&issuer.id))
        .filter(service_keys::retired_at.is_null())
        .first(conn)
        .optional()?;
    let key = current
        .ok_or_else(|| ApiError::internal(format!("issuer {} has no current key", issuer.id)))?;
    let opened = state
        .sealer
        .open(&key.id, &key.sealed_secret)
        .map_err(|e| ApiError::internal(format!("service key {}: {e}", key.id)))?;
    let seed: &[u8; 32] = opened
        .as_slice()
        .try_into()
        .map_err(|_| ApiError::internal(format!("service key {} is not 32 bytes", key.id)))?;
    Ok(SigningKey {
        id: key.id,
        secret: SecretKey::from_bytes(seed),
    })
}

/// The DID document of `did` when it is one of our hosted issuers: every key ever created, each
/// usable for `assertionMethod`.
pub(crate) fn did_document_in(
    conn: &mut AnyConnection,
    did: &str,
) -> Result<Option<Value>, StoreError> {
    let Some(issuer) = find_by_did_in(conn, did)? else {
        return Ok(None);
    };
    let keys = keys_in(conn, &issuer.id)?;
    Ok(Some(did_document(&issuer, &keys)))
}

fn did_document(issuer: &IssuerRow, keys: &[KeyRow]) -> Value {
    let methods: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "id": k.id,
                "type": "Multikey",
                "controller": issuer.did,
                "publicKeyMultibase": k.public_key,
            })
        })
        .collect();
    let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": issuer.did,
        "verificationMethod": methods,
        "assertionMethod": ids,
    })
}

/// The DID document of a `did:web` hosted here, or `None` when the DID is not ours.
pub async fn hosted_did_document(state: &AppState, did: &str) -> Result<Option<Value>, StoreError> {
    let did = did.to_owned();
    state.db.read(move |conn| did_document_in(conn, &did)).await
}

// ------------------------------------------------------------------------------------------
// Wire types
// ------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIssuer {
    /// The issuer's slug: 2 to 40 of `a-z`, `0-9` and `-`. Its DID is
    /// `did:web:<host>:issuers:<id>`.
    pub id: String,
    /// The organisation's display name.
    pub name: String,
    /// The legal entity number of the organisation that controls it.
    pub entity: String,
    /// DIDs allowed to issue and revoke in its name.
    #[serde(default)]
    pub operators: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddOperator {
    /// The DID to add as an operator.
    pub did: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceKey {
    /// The verification method id, `<did>#key-<n>`.
    pub id: String,
    pub public_key_multibase: String,
    pub created: String,
    /// When it stopped signing; absent for the current key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Issuer {
    pub id: String,
    pub did: String,
    pub name: String,
    pub entity: String,
    pub operators: Vec<String>,
    /// Every key, oldest first; the one without `retired` signs.
    pub keys: Vec<ServiceKey>,
    /// Where its DID document is served.
    pub did_document: String,
    pub created: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerList {
    pub issuers: Vec<Issuer>,
}

fn time(ms: i64) -> String {
    rfc3339(db::from_millis(ms))
}

fn issuer_view(
    conn: &mut AnyConnection,
    state: &AppState,
    row: IssuerRow,
) -> Result<Issuer, StoreError> {
    let operators = operators_in(conn, &row.id)?;
    let keys = keys_in(conn, &row.id)?
        .into_iter()
        .map(|k| ServiceKey {
            id: k.id,
            public_key_multibase: k.public_key,
            created: time(k.created_at),
            retired: k.retired_at.map(time),
        })
        .collect();
    Ok(Issuer {
        did_document: format!("{}/issuers/{}/did.json", state.public_url, row.id),
        id: row.id,
        did: row.did,
        name: row.name,
        entity: row.entity,
        operators,
        keys,
        created: time(row.created_at),
    })
}

fn valid_slug(id: &str) -> bool {
    (2..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn check_did(did: &str, field: &str) -> ApiResult<()> {
    corroborate_verifier::did::parse_did(did)
        .map(drop)
        .map_err(|e| ApiError::bad_body(format!("`{field}`: {e}")))
}

/// Refuses unless the caller is an admin or operates `issuer_id` (404 when there is no such
/// issuer).
async fn require_admin_or_operator(
    state: &AppState,
    caller: &Caller,
    issuer_id: &str,
) -> ApiResult<()> {
    let (id, did, admin) = (
        issuer_id.to_owned(),
        caller.did.clone(),
        caller.has(Role::Admin),
    );
    let (exists, operates) = state
        .db
        .read(move |conn| {
            let exists = find_in(conn, &id)?.is_some();
            Ok((exists, exists && is_operator_in(conn, &id, &did)?))
        })
        .await?;
    if !exists {
        return Err(ApiError::not_found("hosted issuer"));
    }
    if admin || operates {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only an administrator or an operator of this issuer may do this",
        ))
    }
}

// ------------------------------------------------------------------------------------------
// Handlers
// ------------------------------------------------------------------------------------------

/// Creates a hosted issuer: its `did:web` DID and a first Ed25519 service key (admins only).
/// Accrediting the DID in the trust registry is a separate act.
#[utoipa::path(post, path = "/issuers", tag = "issuance",
    request_body = CreateIssuer,
    responses((status = 201, body = Issuer), (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create(
    caller: Caller,
    state: web::Data<AppState>,
    StrictJson(body): StrictJson<CreateIssuer>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    if !valid_slug(&body.id) {
        return Err(ApiError::bad_body(
            "`id` must be 2 to 40 characters among a-z, 0-9 and -",
        ));
    }
    if body.name.trim().is_empty() {
        return Err(ApiError::bad_body("`name` must not be empty"));
    }
    if body.entity.trim().is_empty() {
        return Err(ApiError::bad_body("`entity` must not be empty"));
    }
    for did in &body.operators {
        check_did(did, "operators")?;
    }
    let mut operators = body.operators.clone();
    operators.sort();
    operators.dedup();
    let at = state.now();
    let did = state.did_web(&["issuers", &body.id]);
    let actor = caller.actor();
    let st = state.clone();
    let view = state
        .db
        .write::<_, ApiError, _>(move |conn| {
            if find_in(conn, &body.id)?.is_some() {
                return Err(ApiError::conflict(format!(
                    "an issuer with id {:?} already exists",
                    body.id
                )));
            }
            let row = IssuerRow {
                id: body.id.clone(),
                did: did.clone(),
                name: body.name.trim().to_owned(),
                entity: body.entity.trim().to_owned(),
                created_at: db::millis(at),
            };
            diesel::insert_into(issuers::table)
                .values((
                    issuers::id.eq(&row.id),
                    issuers::did.eq(&row.did),
                    issuers::name.eq(&row.name),
                    issuers::entity.eq(&row.entity),
                    issuers::created_at.eq(row.created_at),
                ))
                .execute(conn)?;
            for operator in &operators {
                diesel::insert_into(issuer_operators::table)
                    .values((
                        issuer_operators::issuer_id.eq(&row.id),
                        issuer_operators::did.eq(operator),
                    ))
                    .execute(conn)?;
            }
            let key_id = create_key_in(conn, &st, &row, at)?;
            crate::audit::record(
                conn,
                at,
                &actor,
                "issuer.create",
                &row.id,
                json!({"did": row.did, "name": row.name, "entity": row.entity,
                       "operators": operators, "key": key_id}),
            )?;
            Ok(issuer_view(conn, &st, row)?)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The hosted issuers: all of them for an admin, those the caller operates otherwise.
#[utoipa::path(get, path = "/issuers", tag = "issuance",
    responses((status = 200, body = IssuerList), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn list(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let st = state.clone();
    let issuers = state
        .db
        .read(move |conn| {
            let rows: Vec<IssuerRow> = if caller.has(Role::Admin) {
                issuers::table.order(issuers::id.asc()).load(conn)?
            } else {
                let ids = operated_by_in(conn, &caller.did)?;
                issuers::table
                    .filter(issuers::id.eq_any(ids))
                    .order(issuers::id.asc())
                    .load(conn)?
            };
            rows.into_iter()
                .map(|row| issuer_view(conn, &st, row))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(IssuerList { issuers }))
}

/// One hosted issuer (an admin or one of its operators).
#[utoipa::path(get, path = "/issuers/{id}", tag = "issuance",
    params(("id" = String, Path, description = "The issuer's slug")),
    responses((status = 200, body = Issuer), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    require_admin_or_operator(&state, &caller, &id).await?;
    let st = state.clone();
    let view = state
        .db
        .read(move |conn| match find_in(conn, &id)? {
            Some(row) => Ok(Some(issuer_view(conn, &st, row)?)),
            None => Ok(None),
        })
        .await?
        .ok_or_else(|| ApiError::not_found("hosted issuer"))?;
    Ok(HttpResponse::Ok().json(view))
}

/// Adds an operator to a hosted issuer (admins only).
#[utoipa::path(post, path = "/issuers/{id}/operators", tag = "issuance",
    params(("id" = String, Path, description = "The issuer's slug")),
    request_body = AddOperator,
    responses((status = 201, body = Issuer), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn add_operator(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    StrictJson(body): StrictJson<AddOperator>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    check_did(&body.did, "did")?;
    let id = path.into_inner();
    let at = state.now();
    let actor = caller.actor();
    let st = state.clone();
    let view = state
        .db
        .write::<_, ApiError, _>(move |conn| {
            let row = find_in(conn, &id)?.ok_or_else(|| ApiError::not_found("hosted issuer"))?;
            if is_operator_in(conn, &id, &body.did)? {
                return Err(ApiError::conflict(format!(
                    "{} already operates issuer {id}",
                    body.did
                )));
            }
            diesel::insert_into(issuer_operators::table)
                .values((
                    issuer_operators::issuer_id.eq(&id),
                    issuer_operators::did.eq(&body.did),
                ))
                .execute(conn)?;
            crate::audit::record(
                conn,
                at,
                &actor,
                "issuer.add_operator",
                &id,
                json!({"operator": body.did}),
            )?;
            Ok(issuer_view(conn, &st, row)?)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The issuer's DID document (public): every service key it ever had, each under
/// `assertionMethod`, so that credentials signed before a rotation keep verifying.
#[utoipa::path(get, path = "/issuers/{id}/did.json", tag = "issuance",
    params(("id" = String, Path, description = "The issuer's slug")),
    responses((status = 200, description = "The DID document (`did:web`)"),
        (status = 404, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
pub async fn did_json(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let document = state
        .db
        .read(move |conn| {
            let Some(issuer) = find_in(conn, &id)? else {
                return Ok(None);
            };
            let keys = keys_in(conn, &issuer.id)?;
            Ok(Some(did_document(&issuer, &keys)))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("hosted issuer"))?;
    Ok(HttpResponse::Ok()
        .content_type("application/did+json")
        // A new key appears within five minutes; retired keys stay listed, so a stale copy never
        // makes a valid credential fail.
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(document))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rotated {
    /// The new current key.
    pub key: ServiceKey,
    /// The key it replaces, now retired.
    pub retired: String,
}

/// Replaces the issuer's current key with a new one (an admin or an operator). The old key
/// never signs again and stays in the DID document.
#[utoipa::path(post, path = "/issuers/{id}/keys/rotate", tag = "issuance",
    params(("id" = String, Path, description = "The issuer's slug")),
    responses((status = 201, body = Rotated), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn rotate(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    require_admin_or_operator(&state, &caller, &id).await?;
    let at = state.now();
    let actor = caller.actor();
    let st = state.clone();
    let rotated = state
        .db
        .write::<_, ApiError, _>(move |conn| {
            if !lock_in(conn, &id)? {
                return Err(ApiError::not_found("hosted issuer"));
            }
            let issuer = find_in(conn, &id)?.ok_or_else(|| ApiError::not_found("hosted issuer"))?;
            let previous: Vec<String> = service_keys::table
                .filter(service_keys::issuer_id.eq(&id))
                .filter(service_keys::retired_at.is_null())
                .select(service_keys::id)
                .load(conn)?;
            diesel::update(
                service_keys::table
                    .filter(service_keys::issuer_id.eq(&id))
                    .filter(service_keys::retired_at.is_null()),
            )
            .set(service_keys::retired_at.eq(db::millis(at)))
            .execute(conn)?;
            let key_id = create_key_in(conn, &st, &issuer, at)?;
            crate::audit::record(
                conn,
                at,
                &actor,
                "issuer.rotate_key",
                &id,
                json!({"retired": previous, "key": key_id}),
            )?;
            let key: KeyRow = service_keys::table
                .filter(service_keys::id.eq(&key_id))
                .first(conn)?;
            Ok(Rotated {
                key: ServiceKey {
                    id: key.id,
                    public_key_multibase: key.public_key,
                    created: time(key.created_at),
                    retired: None,
                },
                retired: previous.join(", "),
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(rotated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for good in ["ab", "utility-a", "bank-2", &"a".repeat(40)] {
            assert!(valid_slug(good), "{good}");
        }
        for bad in ["a", "Utility", "util_a", "a b", "é-x", &"a".repeat(41), ""] {
            assert!(!valid_slug(bad), "{bad}");
        }
    }

    #[test]
    fn the_did_document_lists_every_key_for_assertion() {
        let issuer = IssuerRow {
            id: "utility-a".into(),
            did: "did:web:example.org:issuers:utility-a".into(),
            name: "Utility".into(),
            entity: "BE0123".into(),
            created_at: 0,
        };
        let key = |n: u8, retired: Option<i64>| KeyRow {
            id: format!("{}#key-{n}", issuer.did),
            _issuer_id: issuer.id.clone(),
            public_key: SecretKey::from_bytes(&[n; 32]).public_key().to_multibase(),
            sealed_secret: Vec::new(),
            created_at: i64::from(n),
            retired_at: retired,
        };
        let document = did_document(&issuer, &[key(1, Some(5)), key(2, None)]);
        let parsed =
            corroborate_verifier::did::DidDocument::from_json_for(&issuer.did, &document).unwrap();
        assert_eq!(parsed.verification_methods().len(), 2);
        assert_eq!(parsed.assertion_method().len(), 2);
        for method in parsed.verification_methods() {
            assert!(parsed.is_authorized(
                &method.id,
                corroborate_verifier::did::ProofPurpose::AssertionMethod
            ));
        }
    }
}

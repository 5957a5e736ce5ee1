//! Issuing credentials in a hosted issuer's name, and changing their status: the W3C CCG VC API
//! `POST /credentials/issue` and `POST /credentials/status`, and a bulk form for organisations.
//!
//! Before signing, a credential is completed (`id`, `validFrom`, `issuer` when absent) and given
//! a revocation and a suspension entry in the issuer's hosted lists, then checked exactly as the
//! CLI's `sign` checks it: the VC 2.0 data model, the fact type's schema, and JSON-LD expansion
//! under the shipped contexts. What fails is answered `invalid_credential` with the reason and
//! nothing is kept. What passes is signed with the issuer's current key and recorded (metadata
//! only, never the body) in the same transaction as its status entries.

use crate::auth::Caller;
use crate::db::schema::issued_credentials;
use crate::db::{self, AnyConnection};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::StrictValue;
use crate::idempotency::{self, Idempotency};
use crate::issuance::issuers;
use crate::state::AppState;
use crate::status_lists::hosted::{assign_entries_in, entry_of_in, whole_seconds};
use crate::status_lists::{entry_json, list_url, set_status_in};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use corroborate_verifier::credential::{Credential, rfc3339};
use corroborate_verifier::proof::{Cryptosuite, ProofOptions, SignError, add_proof};
use corroborate_verifier::schema;
use corroborate_verifier::status::{ENTRY_TYPE, LIST_TYPE};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(Code::InvalidCredential, detail)
}

/// The issuer a credential names: its `issuer` string or `issuer.id`.
fn named_issuer(credential: &Value) -> Option<&str> {
    match credential.get("issuer")? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id")?.as_str(),
        _ => None,
    }
}

/// Fills in what the service decides (`id`, `validFrom`, `issuer` when absent) and refuses what
/// only the service may set (`proof`, `credentialStatus`) or an issuer other than `did`.
fn complete(unsigned: Value, did: &str, at: DateTime<Utc>) -> ApiResult<Value> {
    let Value::Object(mut credential) = unsigned else {
        return Err(invalid("the credential must be a JSON object"));
    };
    if credential.contains_key("proof") {
        return Err(invalid(
            "the credential to issue must not carry a `proof`: the service signs it",
        ));
    }
    if credential.contains_key("credentialStatus") {
        return Err(invalid(
            "the credential to issue must not carry a `credentialStatus`: the service assigns \
             its revocation and suspension entries",
        ));
    }
    match credential.get("issuer") {
        None => {
            credential.insert("issuer".to_owned(), Value::from(did));
        }
        Some(_) => {
            let value = Value::Object(credential.clone());
            let named = named_issuer(&value);
            if named != Some(did) {
                return Err(invalid(format!(
                    "the credential's issuer {} is not this hosted issuer's DID {did}",
                    named.unwrap_or("(not a string or an object with an `id`)")
                )));
            }
        }
    }
    credential
        .entry("id")
        .or_insert_with(|| Value::from(format!("urn:uuid:{}", uuid::Uuid::new_v4())));
    credential
        .entry("validFrom")
        .or_insert_with(|| Value::from(rfc3339(at)));
    Ok(Value::Object(credential))
}

/// The checks the CLI's `sign` runs: data model and fact schema here; JSON-LD expansion under
/// the shipped contexts by canonicalizing (which `eddsa-rdfc-2022` signing does anyway).
fn check(credential: &Value, suite: Cryptosuite, at: DateTime<Utc>) -> ApiResult<Credential> {
    let parsed = Credential::from_value(credential.clone())
        .map_err(|failure| invalid(format!("not a valid credential: {failure}")))?;
    if let Some(fact_type) = parsed.fact_type()
        && schema::schema_for(fact_type).is_some()
    {
        schema::validate(fact_type, credential).map_err(|e| {
            invalid(format!(
                "the claims do not match the {fact_type} schema: {e}"
            ))
        })?;
    }
    if let Some(until) = parsed.valid_until()
        && until < at
    {
        return Err(invalid(format!(
            "`validUntil` {} is in the past: the credential would never be valid",
            rfc3339(until)
        )));
    }
    // Every term must mean something under the shipped contexts, whatever the suite: a JCS
    // signature over undefined terms would sign claims nobody can interpret.
    if suite == Cryptosuite::EddsaJcs2022 {
        pollster::block_on(Cryptosuite::EddsaRdfc2022.canonicalize(credential)).map_err(
            |failure| {
                invalid(format!(
                    "the credential's JSON-LD is not acceptable: {failure}"
                ))
            },
        )?;
    }
    Ok(parsed)
}

/// Completes, assigns status entries, checks, signs with the issuer's current key and records
/// `unsigned` as issued by hosted issuer `issuer_id`, signed with `eddsa-rdfc-2022`; returns the
/// verifiable credential. Runs inside the caller's write transaction: an error leaves nothing.
pub fn issue_in(
    conn: &mut AnyConnection,
    state: &AppState,
    issuer_id: &str,
    unsigned: Value,
    at: DateTime<Utc>,
) -> ApiResult<Value> {
    issue_with(
        conn,
        state,
        issuer_id,
        unsigned,
        at,
        Cryptosuite::EddsaRdfc2022,
    )
}

/// [`issue_in`] with a chosen cryptosuite.
pub fn issue_with(
    conn: &mut AnyConnection,
    state: &AppState,
    issuer_id: &str,
    unsigned: Value,
    at: DateTime<Utc>,
    suite: Cryptosuite,
) -> ApiResult<Value> {
    let at = whole_seconds(at);
    let issuer =
        issuers::find_in(conn, issuer_id)?.ok_or_else(|| ApiError::not_found("hosted issuer"))?;
    let mut credential = complete(unsigned, &issuer.did, at)?;
    let id = credential
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the credential's `id` must be a string (a URL)"))?
        .to_owned();
    let taken: i64 = issued_credentials::table
        .filter(issued_credentials::id.eq(&id))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(ApiError::conflict(format!(
            "a credential with id {id} was already issued"
        )));
    }
    let entries = assign_entries_in(conn, state, &issuer.did, &id, at)?;
    if let Value::Object(object) = &mut credential {
        object.insert("credentialStatus".to_owned(), Value::Array(entries));
    }
    let parsed = check(&credential, suite, at)?;
    let key = issuers::signing_key_in(conn, state, &issuer.did)?;
    let options = ProofOptions::assertion(suite, key.id.clone(), at);
    let signed =
        pollster::block_on(add_proof(&credential, &key.secret, &options)).map_err(|error| {
            match error {
                SignError::Document(failure) => invalid(format!(
                    "the credential's JSON-LD is not acceptable: {failure}"
                )),
                other => ApiError::internal(format!("signing {id}: {other}")),
            }
        })?;
    diesel::insert_into(issued_credentials::table)
        .values((
            issued_credentials::id.eq(&id),
            issued_credentials::issuer_id.eq(&issuer.id),
            issued_credentials::subject.eq(parsed.subject_id()),
            issued_credentials::fact_type.eq(parsed.fact_type().unwrap_or("VerifiableCredential")),
            issued_credentials::fingerprint.eq(parsed.fingerprint()),
            issued_credentials::key_id.eq(&key.id),
            issued_credentials::issued_at.eq(db::millis(at)),
            issued_credentials::valid_until.eq(parsed.valid_until().map(db::millis)),
            issued_credentials::suspended.eq(false),
        ))
        .execute(conn)?;
    Ok(signed)
}

// ------------------------------------------------------------------------------------------
// Wire types
// ------------------------------------------------------------------------------------------

/// VC API `IssueCredentialOptions`, with one extension: `cryptosuite`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IssueCredentialOptions {
    /// Identifies the credential in later calls (`POST /credentials/status`). When given, it
    /// becomes the credential's `id` if it has none, and must equal it otherwise. A retry with
    /// the same `credentialId` is refused (409) rather than issuing twice.
    pub credential_id: Option<String>,
    /// Selective-disclosure pointers: not supported by the EdDSA suites; must be absent or empty.
    pub mandatory_pointers: Option<Vec<String>>,
    /// Extension: the Data Integrity cryptosuite, `eddsa-rdfc-2022` (default, interoperable
    /// with the W3C ecosystem) or `eddsa-jcs-2022` (no JSON-LD processing at verification).
    pub cryptosuite: Option<String>,
}

/// VC API `IssueCredentialRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueCredentialRequest {
    /// The unsigned credential. `issuer` (a string or an object with `id`) names the hosted
    /// issuer whose key signs; `id` (a `urn:uuid:`) and `validFrom` (now) are added when absent;
    /// `credentialStatus` is assigned by the service and must be absent.
    #[schema(value_type = Object)]
    pub credential: Value,
    #[serde(default)]
    pub options: Option<IssueCredentialOptions>,
}

/// VC API `IssueCredentialResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssueCredentialResponse {
    #[schema(value_type = Object)]
    pub verifiable_credential: Value,
}

fn suite_of(options: Option<&IssueCredentialOptions>) -> ApiResult<Cryptosuite> {
    let Some(options) = options else {
        return Ok(Cryptosuite::EddsaRdfc2022);
    };
    if options
        .mandatory_pointers
        .as_ref()
        .is_some_and(|p| !p.is_empty())
    {
        return Err(ApiError::bad_body(
            "`options.mandatoryPointers` needs a selective-disclosure suite; this service signs \
             with eddsa-rdfc-2022 or eddsa-jcs-2022",
        ));
    }
    match options.cryptosuite.as_deref() {
        None => Ok(Cryptosuite::EddsaRdfc2022),
        Some(name) => Cryptosuite::from_name(name).ok_or_else(|| {
            ApiError::bad_body(format!(
                "`options.cryptosuite` {name:?} is not supported: use eddsa-rdfc-2022 or eddsa-jcs-2022"
            ))
        }),
    }
}

/// Issues a credential in the name of the hosted issuer its `issuer` names; the caller must
/// operate that issuer. Signed with `eddsa-rdfc-2022` unless `options.cryptosuite` is
/// `eddsa-jcs-2022`. With `Idempotency-Key`, a retry returns the same credential.
#[utoipa::path(post, path = "/credentials/issue", tag = "issuance",
    request_body = IssueCredentialRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses((status = 201, body = IssueCredentialResponse),
        (status = 400, body = crate::error::Problem, description = "invalid_body or invalid_credential"),
        (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn issue(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    StrictValue(body): StrictValue,
) -> ApiResult<HttpResponse> {
    let request: IssueCredentialRequest =
        serde_json::from_value(body.clone()).map_err(|e| ApiError::bad_body(e.to_string()))?;
    let suite = suite_of(request.options.as_ref())?;
    let mut credential = request.credential;
    if let Some(credential_id) = request.options.and_then(|o| o.credential_id) {
        match credential.get("id") {
            None => {
                if let Value::Object(object) = &mut credential {
                    object.insert("id".to_owned(), Value::from(credential_id));
                }
            }
            Some(id) if id.as_str() == Some(credential_id.as_str()) => {}
            Some(_) => {
                return Err(ApiError::bad_body(
                    "`options.credentialId` differs from the credential's `id`",
                ));
            }
        }
    }
    let issuer_did = named_issuer(&credential)
        .ok_or_else(|| {
            invalid("the credential's `issuer` must name the hosted issuer (its DID) that signs it")
        })?
        .to_owned();
    let idempotency = Idempotency::from_request(&req, &caller.did, "credentials.issue", &body)?;
    let at = state.now();
    let st = state.clone();
    idempotency::once(&state, idempotency, move |conn| {
        let not_yours = || {
            ApiError::forbidden(format!(
                "{issuer_did} is not a hosted issuer that you operate"
            ))
        };
        let issuer = issuers::find_by_did_in(conn, &issuer_did)?.ok_or_else(not_yours)?;
        if !issuers::is_operator_in(conn, &issuer.id, &caller.did)? {
            return Err(not_yours());
        }
        let signed = issue_with(conn, &st, &issuer.id, credential, at, suite)?;
        Ok((201, json!({ "verifiableCredential": signed })))
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkIssueRequest {
    /// Unsigned credentials, as for `/credentials/issue`; `issuer` may be left out.
    #[schema(value_type = Vec<Object>)]
    pub credentials: Vec<Value>,
    /// `cryptosuite` applies to every item; `credentialId` is not accepted here.
    #[serde(default)]
    pub options: Option<IssueCredentialOptions>,
}

/// One item's problem in a bulk answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemProblem {
    pub code: Code,
    pub detail: String,
}

/// One item of a bulk answer: the credential, or why it was not issued.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkResult {
    /// The item's position in the request, from 0.
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub verifiable_credential: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<ItemProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResponse {
    pub results: Vec<BulkResult>,
}

/// Issues many credentials in the issuer's name (its operators only). Each item is issued or
/// refused on its own (a savepoint each): a bad item does not stop the others, and its problem
/// is in its result. The whole answer commits at once, so `Idempotency-Key` covers the bulk.
#[utoipa::path(post, path = "/issuers/{id}/credentials/bulk", tag = "issuance",
    params(("id" = String, Path, description = "The issuer's slug"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    request_body = BulkIssueRequest,
    responses((status = 200, body = BulkResponse), (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn bulk(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    StrictValue(body): StrictValue,
) -> ApiResult<HttpResponse> {
    let issuer_id = path.into_inner();
    let request: BulkIssueRequest =
        serde_json::from_value(body.clone()).map_err(|e| ApiError::bad_body(e.to_string()))?;
    let limit = state.settings.limits.bulk_items;
    if request.credentials.len() > limit {
        return Err(ApiError::new(
            Code::TooManyItems,
            format!(
                "{} credentials in one request; at most {limit} are accepted",
                request.credentials.len()
            ),
        ));
    }
    if request
        .options
        .as_ref()
        .is_some_and(|o| o.credential_id.is_some())
    {
        return Err(ApiError::bad_body(
            "`options.credentialId` names one credential: give each item its own `id` instead",
        ));
    }
    let suite = suite_of(request.options.as_ref())?;
    let idempotency = Idempotency::from_request(
        &req,
        &caller.did,
        &format!("issuers.{issuer_id}.bulk"),
        &body,
    )?;
    let at = state.now();
    let st = state.clone();
    idempotency::once(&state, idempotency, move |conn| {
        if issuers::find_in(conn, &issuer_id)?.is_none() {
            return Err(ApiError::not_found("hosted issuer"));
        }
        if !issuers::is_operator_in(conn, &issuer_id, &caller.did)? {
            return Err(ApiError::forbidden(
                "only an operator of this issuer may issue in its name",
            ));
        }
        let mut results = Vec::with_capacity(request.credentials.len());
        for (index, unsigned) in request.credentials.into_iter().enumerate() {
            let outcome = conn.transaction::<_, ApiError, _>(|conn| {
                issue_with(conn, &st, &issuer_id, unsigned, at, suite)
            });
            results.push(match outcome {
                Ok(vc) => BulkResult {
                    index,
                    verifiable_credential: Some(vc),
                    problem: None,
                },
                Err(error) => BulkResult {
                    index,
                    verifiable_credential: None,
                    problem: Some(ItemProblem {
                        code: error.code,
                        detail: error.detail,
                    }),
                },
            });
        }
        let body = serde_json::to_value(BulkResponse { results }).map_err(ApiError::internal)?;
        Ok((200, body))
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IssuedQuery {
    /// At most this many (default 100, at most the bulk limit).
    pub limit: Option<i64>,
    /// Skip this many, newest first.
    pub offset: Option<i64>,
}

/// What is kept of an issued credential: never its body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuedCredential {
    pub id: String,
    pub subject: Option<String>,
    #[serde(rename = "type")]
    pub fact_type: String,
    /// SHA-256 of the JCS form of the credential without its proof.
    pub fingerprint: String,
    /// The verification method that signed it.
    pub key_id: String,
    pub issued: String,
    pub valid_until: Option<String>,
    pub revoked: Option<String>,
    pub suspended: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedPage {
    pub credentials: Vec<IssuedCredential>,
    pub total: i64,
}

type IssuedRow = (
    String,
    Option<String>,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    bool,
);

/// The credentials an issuer issued, newest first (its operators only): metadata only.
#[utoipa::path(get, path = "/issuers/{id}/credentials", tag = "issuance",
    params(("id" = String, Path, description = "The issuer's slug"), IssuedQuery),
    responses((status = 200, body = IssuedPage), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn list_issued(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<IssuedQuery>,
) -> ApiResult<HttpResponse> {
    let issuer_id = path.into_inner();
    let max = i64::try_from(state.settings.limits.bulk_items).unwrap_or(i64::MAX);
    let limit = query.limit.unwrap_or(100.min(max));
    if !(1..=max).contains(&limit) {
        return Err(ApiError::new(
            Code::InvalidParameter,
            format!("`limit` must be between 1 and {max}"),
        ));
    }
    let offset = query.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "`offset` must not be negative",
        ));
    }
    let (rows, total) = state
        .db
        .read(move |conn| {
            if issuers::find_in(conn, &issuer_id)?.is_none() {
                return Ok(Err(ApiError::not_found("hosted issuer")));
            }
            if !issuers::is_operator_in(conn, &issuer_id, &caller.did)? {
                return Ok(Err(ApiError::forbidden(
                    "only an operator of this issuer may list what it issued",
                )));
            }
            let filter = issued_credentials::issuer_id.eq(issuer_id.clone());
            let total: i64 = issued_credentials::table
                .filter(filter.clone())
                .count()
                .get_result(conn)?;
            let rows: Vec<IssuedRow> = issued_credentials::table
                .filter(filter)
                .order((
                    issued_credentials::issued_at.desc(),
                    issued_credentials::id.asc(),
                ))
                .limit(limit)
                .offset(offset)
                .select((
                    issued_credentials::id,
                    issued_credentials::subject,
                    issued_credentials::fact_type,
                    issued_credentials::fingerprint,
                    issued_credentials::key_id,
                    issued_credentials::issued_at,
                    issued_credentials::valid_until,
                    issued_credentials::revoked_at,
                    issued_credentials::suspended,
                ))
                .load(conn)?;
            Ok(Ok((rows, total)))
        })
        .await??;
    let time = |ms: i64| rfc3339(db::from_millis(ms));
    let credentials = rows
        .into_iter()
        .map(
            |(id, subject, fact_type, fingerprint, key_id, issued, until, revoked, suspended)| {
                IssuedCredential {
                    id,
                    subject,
                    fact_type,
                    fingerprint,
                    key_id,
                    issued: time(issued),
                    valid_until: until.map(time),
                    revoked: revoked.map(time),
                    suspended,
                }
            },
        )
        .collect();
    Ok(HttpResponse::Ok().json(IssuedPage { credentials, total }))
}

/// VC API `UpdateCredentialStatusRequest`: which entry of which credential, and its new value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateCredentialStatusRequest {
    /// The credential's `id` (as issued here).
    pub credential_id: String,
    pub credential_status: StatusEntrySelector,
    /// The new value of the bit: `true` revokes or suspends, `false` lifts a suspension
    /// (a revocation cannot be undone).
    pub status: bool,
}

/// Which of the credential's status entries to update; `id`, `statusListIndex` and
/// `statusListCredential`, when given, must be the credential's own.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StatusEntrySelector {
    pub id: Option<String>,
    /// `BitstringStatusListEntry` (the VC API's example also says `BitstringStatusList`).
    #[serde(rename = "type")]
    pub kind: String,
    /// `revocation` or `suspension`.
    pub status_purpose: String,
    pub status_list_index: Option<String>,
    pub status_list_credential: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusUpdated {
    pub credential_id: String,
    /// The credential's entry for this purpose.
    #[schema(value_type = Object)]
    pub credential_status: Value,
    pub status: bool,
    /// Whether the bit changed (`false` when a suspension already was as asked).
    pub changed: bool,
}

/// Revokes, suspends or lifts the suspension of a credential issued here (an operator of its
/// issuer). A revocation is final: a second one, or undoing it, is refused with 409. After a
/// bit is set, decisions that counted the credential are re-evaluated.
#[utoipa::path(post, path = "/credentials/status", tag = "issuance",
    request_body = UpdateCredentialStatusRequest,
    responses((status = 200, body = StatusUpdated), (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn update_status(
    caller: Caller,
    state: web::Data<AppState>,
    crate::extract::StrictJson(body): crate::extract::StrictJson<UpdateCredentialStatusRequest>,
) -> ApiResult<HttpResponse> {
    let selector = &body.credential_status;
    if selector.kind != ENTRY_TYPE && selector.kind != LIST_TYPE {
        return Err(ApiError::bad_body(format!(
            "`credentialStatus.type` must be {ENTRY_TYPE}"
        )));
    }
    let purpose =
        crate::status_lists::parse_purpose(&selector.status_purpose).ok_or_else(|| {
            ApiError::bad_body(
                "`credentialStatus.statusPurpose` must be \"revocation\" or \"suspension\"",
            )
        })?;
    let at = state.now();
    let actor = caller.actor();
    let st = state.clone();
    let credential_id = body.credential_id.clone();
    let value = body.status;
    let (id, index, list_url_given) = (
        selector.id.clone(),
        selector.status_list_index.clone(),
        selector.status_list_credential.clone(),
    );
    let (entry, changed) = state
        .db
        .write::<_, ApiError, _>(move |conn| {
            let issuer_id: String = issued_credentials::table
                .filter(issued_credentials::id.eq(&credential_id))
                .select(issued_credentials::issuer_id)
                .first(conn)
                .optional()?
                .ok_or_else(|| ApiError::not_found("credential issued here"))?;
            if !issuers::is_operator_in(conn, &issuer_id, &caller.did)? {
                return Err(ApiError::forbidden(
                    "only an operator of the issuer of this credential may change its status",
                ));
            }
            let (list, list_index) =
                entry_of_in(conn, &credential_id, purpose)?.ok_or_else(|| {
                    ApiError::internal(format!("credential {credential_id} has no {purpose} entry"))
                })?;
            let entry = entry_json(&list_url(&st, &list.id), purpose, list_index);
            let mismatch = |field: &str, given: &Option<String>| {
                given
                    .as_deref()
                    .is_some_and(|g| Some(g) != entry.get(field).and_then(Value::as_str))
            };
            if mismatch("id", &id)
                || mismatch("statusListIndex", &index)
                || mismatch("statusListCredential", &list_url_given)
            {
                return Err(ApiError::bad_body(format!(
                    "`credentialStatus` does not match the credential's {purpose} entry {}",
                    entry["id"].as_str().unwrap_or_default()
                )));
            }
            let changed = set_status_in(conn, &st, &credential_id, purpose, value, at)?;
            if changed.is_some() {
                crate::audit::record(
                    conn,
                    at,
                    &actor,
                    "credential.status",
                    &credential_id,
                    json!({"purpose": purpose.as_str(), "status": value}),
                )?;
            }
            Ok((entry, changed))
        })
        .await?;
    // A bit was set: decisions that counted this credential no longer may. The change is
    // committed either way; a failed re-evaluation is logged for the operator to retry.
    if value
        && let Some(withdrawn) = changed.clone()
        && let Err(error) = crate::derivation::reevaluate_withdrawn(&state, vec![withdrawn]).await
    {
        tracing::error!(credential = %body.credential_id, %error,
            "re-evaluating decisions after a status change failed");
    }
    Ok(HttpResponse::Ok().json(StatusUpdated {
        credential_id: body.credential_id,
        credential_status: entry,
        status: value,
        changed: changed.is_some(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DID: &str = "did:web:example.org:issuers:bank";

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn completion_fills_in_and_refuses() {
        let done = complete(json!({"type": ["VerifiableCredential"]}), DID, at()).unwrap();
        assert_eq!(done["issuer"], DID);
        assert!(done["id"].as_str().unwrap().starts_with("urn:uuid:"));
        assert_eq!(done["validFrom"], "2027-01-15T08:00:00Z");

        let kept = complete(
            json!({"id": "urn:x:1", "issuer": {"id": DID, "name": "Bank"}, "validFrom": "2020-01-01T00:00:00Z"}),
            DID,
            at(),
        )
        .unwrap();
        assert_eq!(kept["id"], "urn:x:1");
        assert_eq!(kept["validFrom"], "2020-01-01T00:00:00Z");

        for (input, reason) in [
            (json!([]), "JSON object"),
            (json!({"proof": {}}), "`proof`"),
            (json!({"credentialStatus": {}}), "`credentialStatus`"),
            (
                json!({"issuer": "did:web:other"}),
                "is not this hosted issuer",
            ),
            (json!({"issuer": 7}), "not a string"),
        ] {
            let error = complete(input.clone(), DID, at()).unwrap_err();
            assert_eq!(error.code, Code::InvalidCredential, "{input}");
            assert!(error.detail.contains(reason), "{input}: {}", error.detail);
        }
    }

    #[test]
    fn cryptosuite_options() {
        assert_eq!(suite_of(None).unwrap(), Cryptosuite::EddsaRdfc2022);
        let options = |suite: &str| IssueCredentialOptions {
            cryptosuite: Some(suite.to_owned()),
            ..IssueCredentialOptions::default()
        };
        assert_eq!(
            suite_of(Some(&options("eddsa-jcs-2022"))).unwrap(),
            Cryptosuite::EddsaJcs2022
        );
        assert_eq!(
            suite_of(Some(&options("ecdsa-sd-2023"))).unwrap_err().code,
            Code::InvalidBody
        );
        let pointers = IssueCredentialOptions {
            mandatory_pointers: Some(vec!["/issuer".into()]),
            ..IssueCredentialOptions::default()
        };
        assert_eq!(
            suite_of(Some(&pointers)).unwrap_err().code,
            Code::InvalidBody
        );
    }
}

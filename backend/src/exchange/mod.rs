//! The attestation exchange between wallets: a citizen asks attesters to sign a fact about them;
//! each attester signs in their own wallet, with their own key, and posts the signed credential
//! back; the citizen collects it. The service carries requests and answers. It never signs for
//! anyone, and it does not judge whether an attester counts: accreditation is the registry's and
//! the policy's business when the credential is presented, so any authenticated DID may answer
//! what is addressed to it (or an open link).
//!
//! A request (`attestation_requests`) names its fact type, the claims asked for, the DIDs it is
//! addressed to and, optionally, a one-time open link for an attester whose DID the citizen does
//! not know (a QR code). Its states:
//! - `open`: no answer yet;
//! - `answered`: some answers are in, more are expected;
//! - `closed`: every answer expected is in: each addressee's (credential or decline) and, when
//!   it has an open link, the link's;
//! - `expired`: its time ran out before it closed (readers treat an `open`/`answered` request
//!   past its expiry as expired before [`sweep_expired`] writes it);
//! - withdrawn: `DELETE` by the citizen removes the request with its answers at once, so no row
//!   is ever left in that state.
//!
//! Invariants:
//! - An answer is stored only after `check` accepted it: strict JSON, the data model, the fact
//!   type asked for, issuer = the caller, subject = the citizen, the requested claims (after NFC
//!   and white-space folding), then the verifier's full verification. An expired request takes no
//!   answer (410), an attester answers once (409; the database's unique (request, attester)
//!   holds it under races), the citizen never answers their own request (403).
//! - The open link is one-time: its answer's row id derives from the request's, so a second
//!   answer through it collides on the primary key. An addressee who follows the link answers as
//!   an addressee and leaves the link to someone else.
//! - The open token is random and stored only as its SHA-256. An idempotent replay of the
//!   creation must answer the same token, so the stored response holds it sealed under the
//!   master key (bound to the request id), and it is opened on the way out.
//! - Nothing personal stays longer than needed, and nothing is lost on the way: collecting hands
//!   the credentials (and decline reasons) over; a collection whose answer was lost can be
//!   repeated for `exchange.collect_grace_secs` (10 minutes by default) and gets the same items,
//!   after which [`sweep_expired`] deletes them. Once the request is closed or expired and
//!   nothing is left to collect, its claims and note are deleted; the sweep deletes what expired
//!   requests still hold. A citizen who sets `keep` keeps the claims, note, reasons and
//!   uncollected credentials past closing and expiry (until they withdraw the request);
//!   collected credentials are deleted all the same, since the wallet holds them.
//! - A stranger learns nothing: a request is answered as not found to anyone who is neither its
//!   citizen nor an attester it was addressed to (or answered by).

mod check;
mod store;
mod wire;

pub use check::{MAX_CLAIMS_BYTES, StatusFinding, claim_differences};
pub use store::RequestState;
pub use wire::{
    Answer, AttesterProgress, Collected, CollectedCredential, CollectedDecline, CreatedRequest,
    Decline, ListQuery, NewRequest, OpenLink, Progress, Receipt, RequestView, Via,
};

use crate::auth::{self, Caller};
use crate::db::schema::{attestation_requests, attestation_responses};
use crate::db::{self, StoreError};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{StrictJson, StrictValue};
use crate::idempotency::{self, Idempotency};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use corroborate_verifier::credential::rfc3339;
use corroborate_verifier::{did, schema};
use diesel::prelude::*;
use serde_json::Value;
use store::{RequestRow, ResponseRow, TAKING_ANSWERS, open_link_answer_id};
use wire::{answers_of, attester_view, owner_view, time};

/// Most attesters one request may be addressed to.
pub const MAX_ADDRESSEES: usize = 20;
/// Days a request stays open when the citizen does not say (capped by the settings).
pub const DEFAULT_REQUEST_DAYS: i64 = 14;
/// Longest note to the attesters, and longest decline reason, in characters.
pub const MAX_NOTE_CHARS: usize = 500;
/// Most requests an inbox shows at once (those expiring first).
pub const INBOX_LIMIT: i64 = 200;
/// Requests the sweep purges per transaction.
const SWEEP_BATCH: i64 = 200;
/// The member of a stored creation response that holds the sealed open token.
const SEALED_TOKEN: &str = "sealed_open_token";

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/// Asks attesters to sign a fact about the caller (the citizen). Supports `Idempotency-Key`.
#[utoipa::path(post, path = "/attestation-requests", tag = "exchange",
    request_body = NewRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response instead of creating a second request")),
    responses((status = 201, body = CreatedRequest),
        (status = 400, body = crate::error::Problem),
        (status = 401, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "Idempotency key reused")),
    security(("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    StrictValue(body): StrictValue,
) -> ApiResult<HttpResponse> {
    let idempotency =
        Idempotency::from_request(&req, &caller.did, "exchange.create_request", &body)?;
    let new: NewRequest =
        serde_json::from_value(body).map_err(|e| ApiError::bad_body(e.to_string()))?;
    let now = state.now();
    let valid = validate(
        new,
        &caller.did,
        state.settings.exchange.max_request_days,
        now,
    )?;
    let expires = now + chrono::Duration::days(valid.days);
    let sealer = state.sealer.clone();
    let citizen = caller.did.clone();
    let reply = idempotency::once(&state, idempotency, move |conn| {
        let id = uuid::Uuid::new_v4().to_string();
        let token = valid.open.then(auth::random_token);
        diesel::insert_into(attestation_requests::table)
            .values((
                attestation_requests::id.eq(&id),
                attestation_requests::citizen_did.eq(&citizen),
                attestation_requests::fact_type.eq(&valid.fact_type),
                attestation_requests::claims.eq(Some(valid.claims.to_string())),
                attestation_requests::addressed_to.eq(addressed_json(&valid.addressees)?),
                attestation_requests::open_token_hash.eq(token.as_deref().map(auth::token_hash)),
                attestation_requests::note.eq(&valid.note),
                attestation_requests::created_at.eq(db::millis(now)),
                attestation_requests::expires_at.eq(db::millis(expires)),
                attestation_requests::state.eq(RequestState::Open.as_str()),
                attestation_requests::keep.eq(valid.keep),
            ))
            .execute(conn)?;
        let created = CreatedRequest {
            id: id.clone(),
            state: RequestState::Open,
            expires: rfc3339(expires),
            open_token: None,
            link: None,
        };
        let mut body = serde_json::to_value(created).map_err(ApiError::internal)?;
        if let (Some(token), Some(object)) = (token, body.as_object_mut()) {
            let sealed = sealer.seal(&token_seal_id(&id), token.as_bytes());
            object.insert(
                SEALED_TOKEN.to_owned(),
                Value::from(base64::engine::general_purpose::STANDARD.encode(sealed)),
            );
        }
        Ok((201, body))
    })
    .await?;
    reveal_open_token(&state, reply).await
}

/// The caller's own requests, newest first, with each attester's progress.
#[utoipa::path(get, path = "/attestation-requests", tag = "exchange", params(ListQuery),
    responses((status = 200, body = Vec<RequestView>), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let most = i64::try_from(state.settings.limits.bulk_items)
        .unwrap_or(i64::MAX)
        .max(1);
    let limit = query.limit.unwrap_or(100.min(most));
    if !(1..=most).contains(&limit) {
        return Err(ApiError::new(
            Code::InvalidParameter,
            format!("`limit` must be between 1 and {most}"),
        ));
    }
    let now = db::millis(state.now());
    let citizen = caller.did.clone();
    let (rows, answers) = state
        .db
        .read(move |conn| {
            let rows: Vec<RequestRow> = attestation_requests::table
                .filter(attestation_requests::citizen_did.eq(&citizen))
                .order((
                    attestation_requests::created_at.desc(),
                    attestation_requests::id.desc(),
                ))
                .limit(limit)
                .select(attestation_requests::all_columns)
                .load(conn)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let answers = store::answers_to(conn, &ids)?;
            Ok((rows, answers))
        })
        .await?;
    let views = rows
        .iter()
        .map(|row| owner_view(row, &answers_of(&answers, &row.id), now))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(views))
}

/// Requests addressed to the caller that still take answers and that the caller has not
/// answered, the soonest to expire first.
#[utoipa::path(get, path = "/attestation-requests/inbox", tag = "exchange",
    responses((status = 200, body = Vec<RequestView>), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn inbox(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let now = db::millis(state.now());
    let me = caller.did.clone();
    let quoted = serde_json::to_string(&me).map_err(ApiError::internal)?;
    let pattern = format!("%{}%", store::like_literal(&quoted));
    let (rows, mine) = state
        .db
        .read(move |conn| {
            // A LIKE on the JSON array narrows the rows; the exact test is below.
            let rows: Vec<RequestRow> = attestation_requests::table
                .filter(
                    attestation_requests::addressed_to
                        .like(pattern)
                        .escape('\\'),
                )
                .filter(attestation_requests::state.eq_any(TAKING_ANSWERS))
                .filter(attestation_requests::expires_at.gt(now))
                .order((
                    attestation_requests::expires_at.asc(),
                    attestation_requests::id.asc(),
                ))
                .limit(INBOX_LIMIT)
                .select(attestation_requests::all_columns)
                .load(conn)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let mine: Vec<ResponseRow> = store::answers_to(conn, &ids)?
                .into_iter()
                .filter(|a| a.attester_did == me)
                .collect();
            Ok((rows, mine))
        })
        .await?;
    let mut views = Vec::new();
    for row in &rows {
        if row.addressees()?.contains(&caller.did) && !mine.iter().any(|a| a.request_id == row.id) {
            views.push(attester_view(row, &[], &caller.did, now)?);
        }
    }
    Ok(HttpResponse::Ok().json(views))
}

/// One request: for its citizen, with every attester's progress; for an attester it was
/// addressed to (or answered by), without the other attesters' answers.
#[utoipa::path(get, path = "/attestation-requests/{id}", tag = "exchange",
    params(("id" = String, Path)),
    responses((status = 200, body = RequestView), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn detail(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let now = db::millis(state.now());
    let (row, answers) = load(&state, path.into_inner()).await?;
    let view = match access(&row, &answers, &caller.did)? {
        Some(Access::Owner) => owner_view(&row, &answers.iter().collect::<Vec<_>>(), now)?,
        Some(Access::Attester) => attester_view(&row, &answers, &caller.did, now)?,
        None => return Err(not_found()),
    };
    Ok(HttpResponse::Ok().json(view))
}

/// The request behind an open link, for the attester to review exactly what is asked before
/// signing.
#[utoipa::path(get, path = "/attestation-requests/open/{token}", tag = "exchange",
    params(("token" = String, Path, description = "The open link's token")),
    responses((status = 200, body = RequestView),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "The link was used already"),
        (status = 410, body = crate::error::Problem, description = "The request expired")),
    security(("bearer" = [])))]
pub async fn open_view(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let now = db::millis(state.now());
    let (row, answers) = load_by_token(&state, path.into_inner()).await?;
    if row.state_at(now)? == RequestState::Expired {
        return Err(expired(&row));
    }
    let open_id = open_link_answer_id(&row.id);
    if answers
        .iter()
        .any(|a| a.id == open_id && a.attester_did != caller.did)
    {
        return Err(link_used());
    }
    Ok(HttpResponse::Ok().json(attester_view(&row, &answers, &caller.did, now)?))
}

/// An addressed attester's answer: the credential they signed, or a decline.
#[utoipa::path(post, path = "/attestation-requests/{id}/responses", tag = "exchange",
    params(("id" = String, Path)),
    request_body = Answer,
    responses((status = 201, body = Receipt),
        (status = 400, body = crate::error::Problem, description = "Malformed answer or credential"),
        (status = 403, body = crate::error::Problem, description = "The citizen answering their own request"),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "Already answered"),
        (status = 410, body = crate::error::Problem, description = "The request expired"),
        (status = 422, body = crate::error::Problem, description = "The credential does not verify, or is not what was asked (`differs` names what)")),
    security(("bearer" = [])))]
pub async fn answer(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    StrictJson(body): StrictJson<Answer>,
) -> ApiResult<HttpResponse> {
    let (row, answers) = load(&state, path.into_inner()).await?;
    if row.citizen_did == caller.did {
        return Err(own_request());
    }
    if !row.addressees()?.contains(&caller.did) {
        return Err(if answers.iter().any(|a| a.attester_did == caller.did) {
            already_answered()
        } else {
            not_found()
        });
    }
    receive(&state, &caller, row, &answers, Via::Addressed, body).await
}

/// An answer through an open link, by any authenticated attester but the citizen; the first
/// answer uses the link up.
#[utoipa::path(post, path = "/attestation-requests/open/{token}/responses", tag = "exchange",
    params(("token" = String, Path, description = "The open link's token")),
    request_body = Answer,
    responses((status = 201, body = Receipt),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "The link was used already, or the caller answered already"),
        (status = 410, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn answer_open(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    StrictJson(body): StrictJson<Answer>,
) -> ApiResult<HttpResponse> {
    let (row, answers) = load_by_token(&state, path.into_inner()).await?;
    if row.citizen_did == caller.did {
        return Err(own_request());
    }
    let via = if row.addressees()?.contains(&caller.did) {
        Via::Addressed
    } else {
        Via::OpenLink
    };
    receive(&state, &caller, row, &answers, via, body).await
}

/// Hands the citizen the credentials and declines not collected yet. A collection may be
/// repeated for `exchange.collect_grace_secs` (its answer may have been lost on the way): it
/// returns the same items again; after that the sweep deletes them here.
#[utoipa::path(post, path = "/attestation-requests/{id}/collect", tag = "exchange",
    params(("id" = String, Path)),
    responses((status = 200, body = Collected),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn collect(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let at = db::millis(state.now());
    let grace_from = at.saturating_sub(state.settings.exchange.collect_grace_secs.max(0) * 1000);
    let did = caller.did.clone();
    let collected = state
        .db
        .write::<_, ApiError, _>(move |conn| {
            let row = store::find_request(conn, &id)?.ok_or_else(not_found)?;
            let answers = store::answers_to(conn, std::slice::from_ref(&id))?;
            require_owner(&row, &answers, &did)?;
            let due: Vec<&ResponseRow> = answers
                .iter()
                .filter(|a| a.collected_at.is_none_or(|first| first >= grace_from))
                .filter(|a| a.declined || a.credential.is_some())
                .collect();
            let mut credentials = Vec::new();
            let mut declined = Vec::new();
            for answer in &due {
                let answered = time(answer.created_at);
                match &answer.credential {
                    Some(text) if !answer.declined => credentials.push(CollectedCredential {
                        attester: answer.attester_did.clone(),
                        answered,
                        credential: serde_json::from_str(text).map_err(ApiError::internal)?,
                    }),
                    _ => declined.push(CollectedDecline {
                        attester: answer.attester_did.clone(),
                        answered,
                        reason: answer.reason.clone(),
                    }),
                }
            }
            // The first hand-over time is kept: the grace period runs from it.
            let first: Vec<&str> = due
                .iter()
                .filter(|a| a.collected_at.is_none())
                .map(|a| a.id.as_str())
                .collect();
            if !first.is_empty() {
                diesel::update(
                    attestation_responses::table.filter(attestation_responses::id.eq_any(first)),
                )
                .set(attestation_responses::collected_at.eq(Some(at)))
                .execute(conn)?;
            }
            let request_state = row.state_at(at)?;
            if matches!(request_state, RequestState::Closed | RequestState::Expired) && !row.keep {
                purge_claims(conn, std::slice::from_ref(&row.id))?;
            }
            Ok(Collected {
                state: request_state,
                credentials,
                declined,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(collected))
}

/// Withdraws a request: deletes it and every answer to it.
#[utoipa::path(delete, path = "/attestation-requests/{id}", tag = "exchange",
    params(("id" = String, Path)),
    responses((status = 204),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn withdraw(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let did = caller.did.clone();
    state
        .db
        .write::<_, ApiError, _>(move |conn| {
            let row = store::find_request(conn, &id)?.ok_or_else(not_found)?;
            let answers = store::answers_to(conn, std::slice::from_ref(&id))?;
            require_owner(&row, &answers, &did)?;
            diesel::delete(
                attestation_responses::table.filter(attestation_responses::request_id.eq(&id)),
            )
            .execute(conn)?;
            diesel::delete(attestation_requests::table.filter(attestation_requests::id.eq(&id)))
                .execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Marks requests whose time ran out as expired, and purges what expired requests still hold
/// (claims, note, uncollected credentials, decline reasons) unless the citizen asked to keep
/// it. Returns how many requests were purged. Run periodically by the app.
pub async fn sweep_expired(state: &AppState) -> Result<u64, StoreError> {
    let now = db::millis(state.now());
    let grace_from = now.saturating_sub(state.settings.exchange.collect_grace_secs.max(0) * 1000);
    state
        .db
        .write::<_, StoreError, _>(move |conn| {
            // Collected answers whose grace period is over: nothing of them stays.
            purge_collected(conn, grace_from)?;
            diesel::update(
                attestation_requests::table
                    .filter(attestation_requests::expires_at.le(now))
                    .filter(attestation_requests::state.eq_any(TAKING_ANSWERS)),
            )
            .set((
                attestation_requests::state.eq(RequestState::Expired.as_str()),
                attestation_requests::closed_at.eq(attestation_requests::expires_at.nullable()),
            ))
            .execute(conn)?;
            Ok(())
        })
        .await?;
    let mut purged = 0u64;
    loop {
        let batch = state
            .db
            .write::<_, StoreError, _>(move |conn| {
                let expired_unkept = || {
                    attestation_requests::table
                        .filter(attestation_requests::expires_at.le(now))
                        .filter(attestation_requests::keep.eq(false))
                };
                let mut ids: Vec<String> = expired_unkept()
                    .filter(
                        attestation_requests::claims
                            .is_not_null()
                            .or(attestation_requests::note.is_not_null()),
                    )
                    .select(attestation_requests::id)
                    .limit(SWEEP_BATCH)
                    .load(conn)?;
                // Answers are looked for on their own: one committed just after its request was
                // collected and purged still holds content whose request holds no claims.
                let answered: Vec<String> = attestation_responses::table
                    .filter(
                        attestation_responses::request_id
                            .eq_any(expired_unkept().select(attestation_requests::id)),
                    )
                    .filter(
                        attestation_responses::credential
                            .is_not_null()
                            .or(attestation_responses::reason.is_not_null()),
                    )
                    .select(attestation_responses::request_id)
                    .distinct()
                    .limit(SWEEP_BATCH)
                    .load(conn)?;
                for id in answered {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                purge_request(conn, &ids)?;
                Ok(ids.len() as u64)
            })
            .await?;
        if batch == 0 {
            return Ok(purged);
        }
        purged += batch;
    }
}

pub fn routes(cfg: &mut web::ServiceConfig, limiter: &crate::app::Limiter) {
    // The fixed paths come before `{id}`, which would otherwise take "inbox" for an id.
    cfg.route("/attestation-requests", web::post().to(create))
        .route("/attestation-requests", web::get().to(list))
        .route("/attestation-requests/inbox", web::get().to(inbox));
    // An open link's token is a bearer capability: rate-limited, like every guessable secret.
    limiter.resource(
        cfg,
        "/attestation-requests/open/{token}",
        vec![web::get().to(open_view)],
    );
    limiter.resource(
        cfg,
        "/attestation-requests/open/{token}/responses",
        vec![web::post().to(answer_open)],
    );
    cfg.route("/attestation-requests/{id}", web::get().to(detail))
        .route("/attestation-requests/{id}", web::delete().to(withdraw))
        .route(
            "/attestation-requests/{id}/responses",
            web::post().to(answer),
        )
        .route(
            "/attestation-requests/{id}/collect",
            web::post().to(collect),
        );
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create,
        list,
        inbox,
        detail,
        open_view,
        answer,
        answer_open,
        collect,
        withdraw
    ),
    components(schemas(
        NewRequest,
        CreatedRequest,
        RequestState,
        Progress,
        Via,
        OpenLink,
        AttesterProgress,
        RequestView,
        Answer,
        Decline,
        Receipt,
        StatusFinding,
        CollectedCredential,
        CollectedDecline,
        Collected
    ))
)]
pub struct Api;

// ---------------------------------------------------------------------------------------------
// Validation and access
// ---------------------------------------------------------------------------------------------

/// A new request that passed every check.
struct Valid {
    fact_type: String,
    claims: Value,
    addressees: Vec<String>,
    open: bool,
    days: i64,
    note: Option<String>,
    keep: bool,
}

fn validate(
    new: NewRequest,
    citizen: &str,
    max_days: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<Valid> {
    if !schema::FACT_TYPES.contains(&new.fact_type.as_str()) {
        return Err(ApiError::bad_body(format!(
            "unknown `fact_type` {:?} (known: {})",
            new.fact_type,
            schema::FACT_TYPES.join(", ")
        )));
    }
    if new.addressed_to.len() > MAX_ADDRESSEES {
        return Err(ApiError::new(
            Code::TooManyItems,
            format!(
                "`addressed_to` names {} attesters; at most {MAX_ADDRESSEES} are accepted",
                new.addressed_to.len()
            ),
        ));
    }
    for (position, attester) in new.addressed_to.iter().enumerate() {
        did::parse_did(attester)
            .map_err(|e| ApiError::bad_body(format!("`addressed_to[{position}]`: {e}")))?;
        if attester == citizen {
            return Err(ApiError::bad_body(format!(
                "`addressed_to[{position}]` is your own DID: nobody attests a fact about themselves"
            )));
        }
        if new.addressed_to[..position].contains(attester) {
            return Err(ApiError::bad_body(format!(
                "`addressed_to[{position}]` repeats {attester}"
            )));
        }
    }
    if new.addressed_to.is_empty() && !new.open {
        return Err(ApiError::bad_body(
            "address the request to at least one attester (`addressed_to`) or ask for an open \
             link (`\"open\": true`)",
        ));
    }
    let most = max_days.max(1);
    let days = new
        .expires_in_days
        .unwrap_or(DEFAULT_REQUEST_DAYS.min(most));
    if !(1..=most).contains(&days) {
        return Err(ApiError::bad_body(format!(
            "`expires_in_days` must be between 1 and {most}"
        )));
    }
    let note = new.note.filter(|n| !n.trim().is_empty());
    if let Some(note) = &note
        && note.chars().count() > MAX_NOTE_CHARS
    {
        return Err(ApiError::bad_body(format!(
            "`note` is longer than {MAX_NOTE_CHARS} characters"
        )));
    }
    check::check_requested_claims(&new.fact_type, &new.claims, citizen, now)?;
    Ok(Valid {
        fact_type: new.fact_type,
        claims: new.claims,
        addressees: new.addressed_to,
        open: new.open,
        days,
        note,
        keep: new.keep,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Owner,
    Attester,
}

/// Who the caller is to this request: its citizen, an attester it was addressed to (or who
/// answered it through its open link), or nobody.
fn access(row: &RequestRow, answers: &[ResponseRow], caller: &str) -> ApiResult<Option<Access>> {
    if row.citizen_did == caller {
        return Ok(Some(Access::Owner));
    }
    if row.addressees()?.iter().any(|d| d == caller)
        || answers.iter().any(|a| a.attester_did == caller)
    {
        return Ok(Some(Access::Attester));
    }
    Ok(None)
}

fn require_owner(row: &RequestRow, answers: &[ResponseRow], caller: &str) -> ApiResult<()> {
    match access(row, answers, caller)? {
        Some(Access::Owner) => Ok(()),
        Some(Access::Attester) => Err(ApiError::forbidden(
            "only the citizen who made this request may do this",
        )),
        None => Err(not_found()),
    }
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

/// Checks and stores an answer (see the module documentation for what is refused and why).
async fn receive(
    state: &AppState,
    caller: &Caller,
    row: RequestRow,
    answers: &[ResponseRow],
    via: Via,
    body: Answer,
) -> ApiResult<HttpResponse> {
    let now = state.now();
    // Refuse what cannot be taken before any verification work.
    refuse_answer(&row, answers, &caller.did, via, db::millis(now))?;
    let (credential, reason, status) = match (body.credential, body.decline) {
        (Some(credential), None) => {
            let claims = row
                .claims()?
                .and_then(|c| c.as_object().cloned())
                .ok_or_else(|| ApiError::conflict("the request no longer holds its claims"))?;
            let expected = check::Expected {
                fact_type: &row.fact_type,
                issuer: &caller.did,
                subject: &row.citizen_did,
                claims: &claims,
            };
            let text = credential.to_string();
            let status = check::accept_credential(state, &expected, credential, now).await?;
            (Some(text), None, Some(status))
        }
        (None, Some(decline)) => {
            let reason = decline.reason.filter(|r| !r.trim().is_empty());
            if reason
                .as_ref()
                .is_some_and(|r| r.chars().count() > MAX_NOTE_CHARS)
            {
                return Err(ApiError::bad_body(format!(
                    "`decline.reason` is longer than {MAX_NOTE_CHARS} characters"
                )));
            }
            (None, reason, None)
        }
        _ => {
            return Err(ApiError::bad_body(
                "send exactly one of `credential` (the credential you signed) and `decline` \
                 ({\"reason\": \"…\"})",
            ));
        }
    };
    let declined = credential.is_none();
    let answer_id = match via {
        Via::OpenLink => open_link_answer_id(&row.id),
        Via::Addressed => uuid::Uuid::new_v4().to_string(),
    };
    // Verification may have taken a while: the write judges expiry at its own time.
    let at = db::millis(state.now());
    let attester = caller.did.clone();
    let request_id = row.id;
    let receipt = state
        .db
        .write::<_, ApiError, _>(move |conn| {
            let row = store::find_request(conn, &request_id)?.ok_or_else(not_found)?;
            let answers = store::answers_to(conn, std::slice::from_ref(&request_id))?;
            refuse_answer(&row, &answers, &attester, via, at)?;
            let inserted = diesel::insert_into(attestation_responses::table)
                .values((
                    attestation_responses::id.eq(&answer_id),
                    attestation_responses::request_id.eq(&request_id),
                    attestation_responses::attester_did.eq(&attester),
                    attestation_responses::credential.eq(&credential),
                    attestation_responses::declined.eq(declined),
                    attestation_responses::reason.eq(&reason),
                    attestation_responses::created_at.eq(at),
                ))
                .execute(conn);
            match inserted.map_err(StoreError::from) {
                Ok(_) => {}
                // Another answer by this attester, or through this link, committed first.
                Err(e) if e.is_unique_violation() => {
                    return Err(ApiError::conflict(
                        "this request was answered by you, or through this link, a moment ago",
                    ));
                }
                Err(e) => return Err(e.into()),
            }
            let answers = store::answers_to(conn, std::slice::from_ref(&request_id))?;
            let request_state = settle(conn, &row, &answers, at)?;
            Ok(Receipt {
                id: answer_id,
                request_id,
                progress: if declined {
                    Progress::Declined
                } else {
                    Progress::Answered
                },
                request_state,
                status,
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(receipt))
}

fn refuse_answer(
    row: &RequestRow,
    answers: &[ResponseRow],
    attester: &str,
    via: Via,
    now: i64,
) -> ApiResult<()> {
    let state = row.state_at(now)?;
    if state == RequestState::Expired {
        return Err(expired(row));
    }
    if answers.iter().any(|a| a.attester_did == attester) {
        return Err(already_answered());
    }
    let open_id = open_link_answer_id(&row.id);
    if via == Via::OpenLink && answers.iter().any(|a| a.id == open_id) {
        return Err(link_used());
    }
    if state == RequestState::Closed {
        return Err(ApiError::conflict(
            "this request has every answer it asked for and takes no more",
        ));
    }
    Ok(())
}

/// The state after an answer: closed once every answer expected is in.
fn settle(
    conn: &mut db::AnyConnection,
    row: &RequestRow,
    answers: &[ResponseRow],
    at: i64,
) -> ApiResult<RequestState> {
    let open_id = open_link_answer_id(&row.id);
    let addressees_done = row
        .addressees()?
        .iter()
        .all(|d| answers.iter().any(|a| a.attester_did == *d));
    let link_done = !row.has_open_link() || answers.iter().any(|a| a.id == open_id);
    let next = if addressees_done && link_done {
        RequestState::Closed
    } else {
        RequestState::Answered
    };
    diesel::update(attestation_requests::table.filter(attestation_requests::id.eq(&row.id)))
        .set((
            attestation_requests::state.eq(next.as_str()),
            attestation_requests::closed_at.eq((next == RequestState::Closed).then_some(at)),
        ))
        .execute(conn)?;
    Ok(next)
}

/// Deletes the personal content of requests `ids`: their claims and note, and what their
/// answers still hold (credentials not collected, decline reasons).
/// Deletes the claims and note of requests (the answers' content is left to [`purge_collected`]
/// or [`purge_request`]).
fn purge_claims(conn: &mut db::AnyConnection, ids: &[String]) -> Result<(), StoreError> {
    diesel::update(attestation_requests::table.filter(attestation_requests::id.eq_any(ids)))
        .set((
            attestation_requests::claims.eq(None::<String>),
            attestation_requests::note.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes the content of answers handed over at or before `before` (the collection grace
/// period is over); returns how many.
fn purge_collected(conn: &mut db::AnyConnection, before: i64) -> Result<usize, StoreError> {
    Ok(diesel::update(
        attestation_responses::table
            .filter(attestation_responses::collected_at.le(before))
            .filter(
                attestation_responses::credential
                    .is_not_null()
                    .or(attestation_responses::reason.is_not_null()),
            ),
    )
    .set((
        attestation_responses::credential.eq(None::<String>),
        attestation_responses::reason.eq(None::<String>),
    ))
    .execute(conn)?)
}

fn purge_request(conn: &mut db::AnyConnection, ids: &[String]) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(
        attestation_responses::table.filter(attestation_responses::request_id.eq_any(ids)),
    )
    .set((
        attestation_responses::credential.eq(None::<String>),
        attestation_responses::reason.eq(None::<String>),
    ))
    .execute(conn)?;
    diesel::update(attestation_requests::table.filter(attestation_requests::id.eq_any(ids)))
        .set((
            attestation_requests::claims.eq(None::<String>),
            attestation_requests::note.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Small pieces
// ---------------------------------------------------------------------------------------------

async fn load(state: &AppState, id: String) -> ApiResult<(RequestRow, Vec<ResponseRow>)> {
    let (row, answers) = state
        .db
        .read(move |conn| {
            let row = store::find_request(conn, &id)?;
            let answers = store::answers_to(conn, std::slice::from_ref(&id))?;
            Ok((row, answers))
        })
        .await?;
    Ok((row.ok_or_else(not_found)?, answers))
}

async fn load_by_token(
    state: &AppState,
    token: String,
) -> ApiResult<(RequestRow, Vec<ResponseRow>)> {
    let hash = auth::token_hash(&token);
    let (row, answers) = state
        .db
        .read(move |conn| {
            let Some(row) = store::find_by_token_hash(conn, &hash)? else {
                return Ok((None, Vec::new()));
            };
            let answers = store::answers_to(conn, std::slice::from_ref(&row.id))?;
            Ok((Some(row), answers))
        })
        .await?;
    let row = row.ok_or_else(|| {
        ApiError::new(
            Code::NotFound,
            "no attestation request behind this link: it is mistyped, or the request was \
             withdrawn",
        )
    })?;
    Ok((row, answers))
}

fn addressed_json(addressees: &[String]) -> ApiResult<String> {
    serde_json::to_string(addressees).map_err(ApiError::internal)
}

/// What the open token is sealed to: one request's creation response.
fn token_seal_id(request_id: &str) -> String {
    format!("attestation-request-open-token:{request_id}")
}

/// Replaces the sealed open token of a creation response (fresh or replayed) by the token and
/// its link.
async fn reveal_open_token(state: &AppState, reply: HttpResponse) -> ApiResult<HttpResponse> {
    let status = reply.status();
    let bytes = actix_web::body::to_bytes(reply.into_body())
        .await
        .map_err(|e| ApiError::internal(format!("reading the creation response: {e}")))?;
    let mut body: Value = serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
    if let Some(object) = body.as_object_mut()
        && let Some(sealed) = object.remove(SEALED_TOKEN)
    {
        let id = object
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::internal("a creation response without an id"))?;
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(sealed.as_str().unwrap_or_default())
            .map_err(ApiError::internal)?;
        let opened = state
            .sealer
            .open(&token_seal_id(id), &sealed)
            .map_err(ApiError::internal)?;
        let token = String::from_utf8(opened.to_vec()).map_err(ApiError::internal)?;
        let link = format!("{}/attestation-requests/open/{token}", state.public_url);
        object.insert("open_token".to_owned(), Value::from(token));
        object.insert("link".to_owned(), Value::from(link));
    }
    Ok(HttpResponse::build(status).json(body))
}

fn not_found() -> ApiError {
    ApiError::not_found("attestation request")
}

fn own_request() -> ApiError {
    ApiError::forbidden("you cannot answer your own attestation request")
}

fn already_answered() -> ApiError {
    ApiError::conflict("you have already answered this attestation request")
}

fn link_used() -> ApiError {
    ApiError::conflict("this one-time link has already been answered by another attester")
}

fn expired(row: &RequestRow) -> ApiError {
    ApiError::new(
        Code::Expired,
        format!(
            "this attestation request expired at {}; the citizen can send a new one",
            time(row.expires_at)
        ),
    )
}

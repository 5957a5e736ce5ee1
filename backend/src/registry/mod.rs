//! The trust registry: who may attest which facts, in which category, for which legal entity,
//! when — the accreditation authority's API, the registry the decision engine reads, and its
//! public export.
//!
//! Invariants:
//! - Rows are never deleted or rewritten. A suspension is a row of its own; a revocation fills
//!   the revocation columns of an accreditation once; the one bounded update of a suspension is
//!   its end (`until_at` from NULL to a time, once). Each records when it was written, so the
//!   registry as it was at any time can be rebuilt exactly ([`Snapshot`]), as replaying a
//!   decision needs.
//! - Every administrative act writes its audit entry in its own transaction.
//! - Category `neighbour` is never granted by hand: [`grant_neighbour_in`] grants it from an
//!   established residence decision (trust grows from existing trust), limited to that area.
//! - One DID belongs to one person: an accreditation or binding naming another person than the
//!   DID is already known as is refused, so the export always reads as a valid registry file.
//! - Category `government` makes a DID a government verifier (`auth::roles_of` reads it).

mod store;
mod wire;

pub use store::{NEIGHBOUR_CATEGORY, NEIGHBOUR_FACT_TYPE, SYSTEM_ACTOR, Snapshot};
pub use wire::{
    AccreditationPage, AccreditationRecord, EndSuspension, NewAccreditation, NewPerson,
    NewRevocation, NewSuspension, PersonRecord, RevocationRecord, SuspensionRecord,
};

use crate::auth::{Caller, Role};
use crate::db::{AnyConnection, StoreError};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::StrictJson;
use crate::idempotency::{self, Idempotency};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use corroborate_verifier::credential::rfc3339;
use serde_json::Value;
use store::Scope;
use wire::{ExportQuery, ListQuery, MAX_EXPORT_DIDS, MAX_ID, MAX_TEXT};

/// The registry for a decision over `dids` (attesters, subject and parties), as recorded by
/// `at` (rows, revocations, suspensions and their ends recorded up to then). When `area` is
/// Some(postcode), automatic `neighbour` accreditations whose `area` differs are left out: a
/// neighbour counts only near the address in question.
pub fn snapshot_in(
    conn: &mut AnyConnection,
    dids: &[String],
    area: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Snapshot, StoreError> {
    store::snapshot(
        conn,
        Scope {
            dids: Some(dids),
            area,
            at,
        },
    )
}

/// Grants the automatic neighbour accreditation: the subject of an established residence
/// decision may attest `ResidenceAttestation` as category `neighbour` for addresses in `area`
/// (postcode), from `at`, controller = the person id (or the DID when unknown), person and
/// household from `persons` when bound, jurisdiction = `jurisdiction` (the country, e.g.
/// "BE"), basis "residence established by decision <id>", source_decision = `decision_id`,
/// granted_by "system". Not audit-logged: no administrator acted, the row and its decision are
/// the trace, and the append-only log must not keep a citizen's DID. One per decision: a second
/// call is a no-op.
pub fn grant_neighbour_in(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    subject_did: &str,
    decision_id: &str,
    area: &str,
    jurisdiction: &str,
) -> Result<(), StoreError> {
    store::grant_neighbour(conn, at, subject_did, decision_id, area, jurisdiction)
}

/// Withdraws (revokes, not for cause, with `reason`) the neighbour accreditation granted from
/// `decision_id`, if there is one still standing (not audit-logged, as the grant).
pub fn withdraw_neighbour_in(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    decision_id: &str,
    reason: &str,
) -> Result<(), StoreError> {
    store::withdraw_neighbour(conn, at, decision_id, reason)
}

/// Most accreditations (and, separately, persons) one export holds; beyond, filter by `did`.
pub const MAX_EXPORT_ENTRIES: i64 = 50_000;

fn require_reader(caller: &Caller) -> ApiResult<()> {
    if caller.has(Role::Admin) || caller.has(Role::Government) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "reading the registry's records needs the admin or government verifier role; \
             the public export is GET /registry",
        ))
    }
}

fn idempotency_of(
    req: &HttpRequest,
    caller: &Caller,
    endpoint: &str,
    body: &impl serde::Serialize,
) -> ApiResult<Option<Idempotency>> {
    let value = serde_json::to_value(body).map_err(ApiError::internal)?;
    Idempotency::from_request(req, &caller.did, endpoint, &value)
}

fn as_json(value: &impl serde::Serialize) -> ApiResult<serde_json::Value> {
    serde_json::to_value(value).map_err(ApiError::internal)
}

/// Grants an accreditation (admins). Supports `Idempotency-Key`.
#[utoipa::path(post, path = "/registry/accreditations", tag = "registry",
    request_body = NewAccreditation,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, body = AccreditationRecord),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    StrictJson(body): StrictJson<NewAccreditation>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    let now = state.now();
    let checked = body.check(now)?;
    let idem = idempotency_of(&req, &caller, "registry.accreditations.create", &body)?;
    let actor = caller.actor();
    idempotency::once(&state, idem, move |conn| {
        let record = store::grant(conn, now, &actor, checked)?;
        Ok((201, as_json(&record)?))
    })
    .await
}

/// Lists accreditations, newest first (admins and government verifiers).
#[utoipa::path(get, path = "/registry/accreditations", tag = "registry", params(ListQuery),
    responses((status = 200, body = AccreditationPage),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    require_reader(&caller)?;
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "`limit` must be between 1 and 500",
        ));
    }
    if let Some(category) = &query.category
        && !wire::is_category(category)
    {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "`category`: 1 to 64 lower-case letters, digits and `-`",
        ));
    }
    let active_at = query
        .active_at
        .as_deref()
        .map(|t| wire::query_time("active_at", t))
        .transpose()?;
    let filter = store::ListFilter {
        did: query.did,
        category: query.category,
        active_at: active_at.map(crate::db::millis),
        after: query.after,
        // One more than asked tells whether there is a next page.
        limit: limit + 1,
    };
    let page = state
        .db
        .read(move |conn| store::list(conn, &filter))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Code::InvalidParameter,
                "`after` names no accreditation; pass the `next` of the previous page",
            )
        })?;
    let store::Page {
        mut rows,
        suspensions,
    } = page;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more.then(|| rows.last().map(|r| r.id.clone())).flatten();
    let accreditations = rows
        .iter()
        .map(|row| row.record(&suspensions))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(AccreditationPage {
        accreditations,
        next,
    }))
}

/// One accreditation with its suspensions and revocation (admins and government verifiers).
#[utoipa::path(get, path = "/registry/accreditations/{id}", tag = "registry",
    params(("id" = String, Path)),
    responses((status = 200, body = AccreditationRecord),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    require_reader(&caller)?;
    let id = id.into_inner();
    let (row, suspensions) = state
        .db
        .read(move |conn| store::find(conn, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("accreditation"))?;
    Ok(HttpResponse::Ok().json(row.record(&suspensions)?))
}

/// Suspends an accreditation (admins): attestations issued while it lasts do not count, nor
/// does anything it attested while it lasts. Refused on a revoked accreditation. Supports
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/registry/accreditations/{id}/suspensions", tag = "registry",
    request_body = NewSuspension,
    params(("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, body = SuspensionRecord),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn suspend(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    StrictJson(body): StrictJson<NewSuspension>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    let id = id.into_inner();
    let now = state.now();
    wire::text("reason", &body.reason, MAX_TEXT)?;
    let from = wire::body_time("from", body.from.as_deref(), now)?;
    let until = body
        .until
        .as_deref()
        .map(|u| wire::body_time("until", Some(u), now))
        .transpose()?;
    if until.is_some_and(|until| until <= from) {
        return Err(ApiError::bad_body("`until`: must be after `from`"));
    }
    let idem = idempotency_of(
        &req,
        &caller,
        &format!("registry.accreditations.{id}.suspend"),
        &body,
    )?;
    let actor = caller.actor();
    idempotency::once(&state, idem, move |conn| {
        let record = store::suspend(conn, now, &actor, &id, &body, from, until)?;
        Ok((201, as_json(&record)?))
    })
    .await
}

/// Ends an open suspension (admins): sets its end, once — the one update a suspension gets.
#[utoipa::path(post, path = "/registry/accreditations/{id}/suspensions/{sid}/end",
    tag = "registry", request_body = EndSuspension,
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 200, body = SuspensionRecord),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn end_suspension(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    StrictJson(body): StrictJson<EndSuspension>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    let (id, sid) = path.into_inner();
    let now = state.now();
    let end = match body.at.as_deref() {
        Some(text) => Some(wire::body_time("at", Some(text), now)?),
        None => None,
    };
    let actor = caller.actor();
    let record = state
        .db
        .write::<_, ApiError, _>(move |conn| {
            store::end_suspension(conn, now, &actor, &id, &sid, end)
        })
        .await?;
    Ok(HttpResponse::Ok().json(record))
}

/// Revokes an accreditation (admins), once: for cause, nothing it ever attested counts from
/// then on; otherwise only later attestations stop counting.
#[utoipa::path(post, path = "/registry/accreditations/{id}/revocation", tag = "registry",
    request_body = NewRevocation, params(("id" = String, Path)),
    responses((status = 200, body = AccreditationRecord),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn revoke(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    StrictJson(body): StrictJson<NewRevocation>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    let id = id.into_inner();
    let now = state.now();
    wire::text("reason", &body.reason, MAX_TEXT)?;
    let effective = wire::body_time("at", body.at.as_deref(), now)?;
    let actor = caller.actor();
    let record = state
        .db
        .write::<_, ApiError, _>(move |conn| {
            store::revoke(conn, now, &actor, &id, &body, effective)
        })
        .await?;
    Ok(HttpResponse::Ok().json(record))
}

/// Binds a DID to a pseudonymous person and household (admins), once, so that self- and
/// same-household attestations are caught across DIDs.
#[utoipa::path(post, path = "/registry/persons", tag = "registry", request_body = NewPerson,
    responses((status = 201, body = PersonRecord),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn bind_person(
    caller: Caller,
    state: web::Data<AppState>,
    StrictJson(body): StrictJson<NewPerson>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    let person = body.check()?;
    let now = state.now();
    let actor = caller.actor();
    let record = state
        .db
        .write::<_, ApiError, _>(move |conn| store::bind_person(conn, now, &actor, &person))
        .await?;
    Ok(HttpResponse::Created().json(record))
}

/// The person a DID is bound to (admins and government verifiers). Percent-encode the DID as
/// a path segment.
#[utoipa::path(get, path = "/registry/persons/{did}", tag = "registry",
    params(("did" = String, Path)),
    responses((status = 200, body = PersonRecord),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_person(
    caller: Caller,
    state: web::Data<AppState>,
    did: web::Path<String>,
) -> ApiResult<HttpResponse> {
    require_reader(&caller)?;
    let did = did.into_inner();
    if did.chars().count() > corroborate_verifier::did::MAX_DID_LEN {
        return Err(ApiError::new(Code::InvalidParameter, "`did` is too long"));
    }
    let row = state
        .db
        .read(move |conn| store::person(conn, &did))
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound, "no person is bound to this DID"))?;
    Ok(HttpResponse::Ok().json(row.record()))
}

/// The registry as it was recorded at `at` (default now), in the registry file format
/// (`schemas/registry.schema.json`) that `corroborate decide --registry` reads, so that a
/// decision can be replayed offline. Rate limited. Anyone gets the organisations' part
/// (accreditations without a person); persons' accreditations and the person bindings carry
/// pseudonyms, households and neighbours' postcodes, so they are given to admins and government
/// verifiers only.
#[utoipa::path(get, path = "/registry", tag = "registry", params(ExportQuery),
    responses((status = 200, description = "The registry file (schemas/registry.schema.json)",
            content_type = "application/json"),
        (status = 400, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
pub async fn export(
    caller: Option<Caller>,
    state: web::Data<AppState>,
    query: web::Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    let full = caller.is_some_and(|c| c.has(Role::Admin) || c.has(Role::Government));
    let query = query.into_inner();
    let now = state.now();
    let at = match query.at.as_deref() {
        Some(text) => wire::query_time("at", text)?,
        None => now,
    };
    if at > now {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "`at` is in the future; the registry is only known up to now",
        ));
    }
    let dids: Option<Vec<String>> = match query.did.as_deref() {
        None => None,
        Some(list) => {
            let dids: Vec<String> = list.split(',').map(|d| d.trim().to_owned()).collect();
            if dids.len() > MAX_EXPORT_DIDS {
                return Err(ApiError::new(
                    Code::TooManyItems,
                    format!("at most {MAX_EXPORT_DIDS} DIDs in `did`"),
                ));
            }
            for did in &dids {
                wire::check_subject_id(did)
                    .map_err(|e| ApiError::new(Code::InvalidParameter, format!("`did`: {e}")))?;
            }
            Some(dids)
        }
    };
    let area = query
        .area
        .as_deref()
        .map(|a| {
            wire::text("area", a, MAX_ID)
                .map_err(|e| ApiError::new(Code::InvalidParameter, e.detail))
        })
        .transpose()?;
    let snapshot = state
        .db
        .read(move |conn| {
            let scope = Scope {
                dids: dids.as_deref(),
                area: area.as_deref(),
                at,
            };
            let (accreditations, persons) = store::count(conn, scope)?;
            if accreditations > MAX_EXPORT_ENTRIES || persons > MAX_EXPORT_ENTRIES {
                return Ok(None);
            }
            store::snapshot(conn, scope).map(Some)
        })
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Code::TooManyItems,
                format!(
                    "the registry holds more than {MAX_EXPORT_ENTRIES} entries; \
                     ask for the DIDs you need with `did`"
                ),
            )
        })?;
    let description = format!(
        "The trust registry of {} as recorded at {}.",
        state.public_url,
        rfc3339(at)
    );
    let mut registry = snapshot.to_json(&description);
    if !full {
        public_part(&mut registry);
    }
    Ok(HttpResponse::Ok().json(registry))
}

/// Keeps only what identifies no person: organisations' accreditations, no person bindings.
fn public_part(registry: &mut Value) {
    if let Some(Value::Array(accreditations)) = registry.get_mut("accreditations") {
        accreditations.retain(|a| a.get("person").is_none() && a["category"] != NEIGHBOUR_CATEGORY);
    }
    if let Some(persons) = registry.get_mut("persons") {
        *persons = Value::Array(Vec::new());
    }
    if let Some(Value::String(description)) = registry.get_mut("description") {
        description.push_str(
            " Organisations only: persons' accreditations and bindings need the admin or government role.",
        );
    }
}

pub fn routes(cfg: &mut web::ServiceConfig, limiter: &crate::app::Limiter) {
    limiter.resource(cfg, "/registry", vec![web::get().to(export)]);
    cfg.route("/registry/accreditations", web::post().to(create))
        .route("/registry/accreditations", web::get().to(list))
        .route("/registry/accreditations/{id}", web::get().to(get))
        .route(
            "/registry/accreditations/{id}/suspensions",
            web::post().to(suspend),
        )
        .route(
            "/registry/accreditations/{id}/suspensions/{sid}/end",
            web::post().to(end_suspension),
        )
        .route(
            "/registry/accreditations/{id}/revocation",
            web::post().to(revoke),
        )
        .route("/registry/persons", web::post().to(bind_person))
        .route("/registry/persons/{did}", web::get().to(get_person));
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create,
        list,
        get,
        suspend,
        end_suspension,
        revoke,
        bind_person,
        get_person,
        export
    ),
    components(schemas(
        NewAccreditation,
        AccreditationRecord,
        AccreditationPage,
        RevocationRecord,
        SuspensionRecord,
        NewSuspension,
        EndSuspension,
        NewRevocation,
        NewPerson,
        PersonRecord
    ))
)]
pub struct Api;

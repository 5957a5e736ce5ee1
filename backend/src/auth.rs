//! Who is calling: DID authentication and roles.
//!
//! A caller proves control of its DID key by challenge and response: `POST /auth/challenges`
//! gives a one-time challenge; the caller answers `POST /auth/tokens` with a Verifiable
//! Presentation by that DID, its `authentication` proof bound to the challenge and to this
//! service's audience (the proof `domain`); the service verifies it with the verifier library,
//! consumes the challenge, and returns a bearer token (stored only as its SHA-256).
//!
//! Roles are not stored with the token: [`Caller`] resolves them on every request from the
//! current state, so a suspended accreditation or a removed admin loses its rights at once.
//! - `admin`: the DID of a named administrator in the settings;
//! - `government`: an active accreditation in category `government`;
//! - `attester`: any other active accreditation, or an operator of a hosted issuer;
//! - `citizen`: any authenticated DID (a citizen acts on their own records only).

use crate::db::schema::{accreditations, auth_challenges, issuer_operators, sessions};
use crate::db::{self, StoreError};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::StrictJson;
use crate::state::AppState;
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, web};
use base64::Engine;
use corroborate_verifier::presentation::{Binding, verify_presentation};
use corroborate_verifier::verification::VerifyOptions;
use diesel::prelude::*;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::pin::Pin;
use utoipa::ToSchema;

/// The category that makes an accredited DID a government verifier.
pub const GOVERNMENT_CATEGORY: &str = "government";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Government,
    Attester,
    Citizen,
}

/// An authenticated caller and its roles at the time of the request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub did: String,
    /// The administrator's name when the DID is an admin's.
    pub admin: Option<String>,
    pub roles: Vec<Role>,
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Refuses unless the caller has `role`.
    pub fn require(&self, role: Role) -> ApiResult<()> {
        if self.has(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {} role",
                match role {
                    Role::Admin => "admin",
                    Role::Government => "government verifier",
                    Role::Attester => "attester",
                    Role::Citizen => "citizen",
                }
            )))
        }
    }

    /// How the caller appears in the audit log: `admin:<name>` or its DID.
    pub fn actor(&self) -> String {
        match &self.admin {
            Some(name) => format!("admin:{name}"),
            None => self.did.clone(),
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned());
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("no application state"))?;
            let token = token.ok_or_else(|| {
                ApiError::new(
                    Code::Unauthenticated,
                    "send `Authorization: Bearer <token>`; get a token from POST /auth/tokens",
                )
            })?;
            caller_for_token(&state, &token).await
        })
    }
}

/// The caller behind a bearer token, with its current roles.
pub async fn caller_for_token(state: &AppState, token: &str) -> ApiResult<Caller> {
    let hash = token_hash(token);
    let now = db::millis(state.now());
    let admins = state.settings.admins.clone();
    state
        .db
        .read(move |conn| {
            let did: Option<String> = sessions::table
                .filter(sessions::token_hash.eq(&hash))
                .filter(sessions::expires_at.gt(now))
                .select(sessions::did)
                .first(conn)
                .optional()?;
            let Some(did) = did else { return Ok(None) };
            let roles = roles_of(conn, &did, now, &admins)?;
            let admin = admins.iter().find(|a| a.did == did).map(|a| a.name.clone());
            Ok(Some(Caller { did, admin, roles }))
        })
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Code::Unauthenticated,
                "the bearer token is unknown or expired; authenticate again",
            )
        })
}

/// The roles of `did` at `now` (Unix ms).
pub fn roles_of(
    conn: &mut db::AnyConnection,
    did: &str,
    now: i64,
    admins: &[crate::settings::Admin],
) -> Result<Vec<Role>, StoreError> {
    let mut roles = Vec::new();
    if admins.iter().any(|a| a.did == did) {
        roles.push(Role::Admin);
    }
    let active: Vec<(String, String)> = accreditations::table
        .filter(accreditations::did.eq(did))
        .filter(accreditations::valid_from.le(now))
        .filter(
            accreditations::valid_until
                .is_null()
                .or(accreditations::valid_until.gt(now)),
        )
        .filter(accreditations::revoked_at.is_null())
        .select((accreditations::id, accreditations::category))
        .load(conn)?;
    let suspended: Vec<String> = crate::db::schema::accreditation_suspensions::table
        .filter(
            crate::db::schema::accreditation_suspensions::accreditation_id
                .eq_any(active.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>()),
        )
        .filter(crate::db::schema::accreditation_suspensions::from_at.le(now))
        .filter(
            crate::db::schema::accreditation_suspensions::until_at
                .is_null()
                .or(crate::db::schema::accreditation_suspensions::until_at.gt(now)),
        )
        .select(crate::db::schema::accreditation_suspensions::accreditation_id)
        .load(conn)?;
    let categories: Vec<&str> = active
        .iter()
        .filter(|(id, _)| !suspended.contains(id))
        .map(|(_, category)| category.as_str())
        .collect();
    if categories.contains(&GOVERNMENT_CATEGORY) {
        roles.push(Role::Government);
    }
    let operates: i64 = issuer_operators::table
        .filter(issuer_operators::did.eq(did))
        .count()
        .get_result(conn)?;
    if categories.iter().any(|c| *c != GOVERNMENT_CATEGORY) || operates > 0 {
        roles.push(Role::Attester);
    }
    roles.push(Role::Citizen);
    Ok(roles)
}

/// Deletes expired authentication challenges and sessions; returns how many (maintenance).
pub async fn purge_expired(state: &AppState) -> Result<usize, StoreError> {
    let now = db::millis(state.now());
    state
        .db
        .write::<_, StoreError, _>(move |conn| {
            let challenges =
                diesel::delete(auth_challenges::table.filter(auth_challenges::expires_at.lt(now)))
                    .execute(conn)?;
            let sessions = diesel::delete(sessions::table.filter(sessions::expires_at.lt(now)))
                .execute(conn)?;
            Ok(challenges + sessions)
        })
        .await
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random value for challenges and tokens: 32 bytes, base64url without padding.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    /// The DID that will answer.
    pub did: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeResponse {
    pub challenge: String,
    /// The audience the answer's proof must name as its `domain`.
    pub domain: String,
    pub expires: String,
}

/// Starts authentication: a one-time challenge for `did`.
#[utoipa::path(post, path = "/auth/challenges", tag = "auth",
    request_body = ChallengeRequest,
    responses((status = 201, body = ChallengeResponse), (status = 400, body = crate::error::Problem)))]
pub async fn create_challenge(
    state: web::Data<AppState>,
    StrictJson(body): StrictJson<ChallengeRequest>,
) -> ApiResult<HttpResponse> {
    corroborate_verifier::did::parse_did(&body.did)
        .map_err(|e| ApiError::new(Code::InvalidBody, format!("`did`: {e}")))?;
    let challenge = random_token();
    let now = state.now();
    let expires = now + chrono::Duration::seconds(state.settings.auth.challenge_ttl_secs);
    let row = (
        auth_challenges::id.eq(challenge.clone()),
        auth_challenges::did.eq(body.did),
        auth_challenges::created_at.eq(db::millis(now)),
        auth_challenges::expires_at.eq(db::millis(expires)),
    );
    state
        .db
        .write::<_, ApiError, _>(move |conn| {
            diesel::insert_into(auth_challenges::table)
                .values(row)
                .execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(ChallengeResponse {
        challenge,
        domain: state.audience().to_owned(),
        expires: corroborate_verifier::credential::rfc3339(expires),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// A Verifiable Presentation by the challenged DID (`holder`), with an `authentication`
    /// proof whose `challenge` is the challenge and whose `domain` is the audience.
    #[schema(value_type = Object)]
    pub presentation: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
    pub did: String,
    pub roles: Vec<Role>,
    pub expires: String,
}

/// Finishes authentication: verifies the presentation and returns a bearer token.
#[utoipa::path(post, path = "/auth/tokens", tag = "auth",
    request_body = TokenRequest,
    responses((status = 201, body = TokenResponse), (status = 401, body = crate::error::Problem)))]
pub async fn create_token(
    state: web::Data<AppState>,
    StrictJson(body): StrictJson<TokenRequest>,
) -> ApiResult<HttpResponse> {
    let refused = |detail: &str| ApiError::new(Code::AuthenticationFailed, detail.to_owned());
    let challenge = body
        .presentation
        .get("proof")
        .and_then(|p| p.get("challenge"))
        .and_then(|c| c.as_str())
        .ok_or_else(|| refused("the presentation's proof carries no challenge"))?
        .to_owned();
    let holder = body
        .presentation
        .get("holder")
        .and_then(|h| h.as_str())
        .ok_or_else(|| refused("the presentation names no holder"))?
        .to_owned();
    let now = state.now();
    let binding = Binding {
        challenge: Some(challenge.clone()),
        domain: Some(state.audience().to_owned()),
        holder_must_be_subject: false,
    };
    let resolver = crate::fetch::Resolver::new(&state);
    let report = verify_presentation(
        body.presentation,
        &binding,
        &VerifyOptions::at(now),
        &resolver,
    )
    .await;
    if !report.is_valid() {
        let reasons: Vec<String> = report
            .failures
            .iter()
            .map(|f| f.to_string())
            .chain(
                report
                    .proofs
                    .iter()
                    .filter_map(|p| p.failure.as_ref().map(|f| f.to_string())),
            )
            .collect();
        return Err(refused(&format!(
            "the presentation does not verify: {}",
            reasons.join("; ")
        )));
    }
    let token = random_token();
    let expires = now + chrono::Duration::seconds(state.settings.auth.session_ttl_secs);
    let now_ms = db::millis(now);
    let admins = state.settings.admins.clone();
    let (token_hashed, did_for_row, expires_ms) =
        (token_hash(&token), holder.clone(), db::millis(expires));
    let roles = state
        .db
        .write::<_, ApiError, _>(move |conn| {
            // Consume the challenge: only an unused, unexpired challenge for this DID.
            let consumed = diesel::update(
                auth_challenges::table
                    .filter(auth_challenges::id.eq(&challenge))
                    .filter(auth_challenges::did.eq(&did_for_row))
                    .filter(auth_challenges::used_at.is_null())
                    .filter(auth_challenges::expires_at.gt(now_ms)),
            )
            .set(auth_challenges::used_at.eq(now_ms))
            .execute(conn)?;
            if consumed != 1 {
                return Err(ApiError::new(
                    Code::AuthenticationFailed,
                    "the challenge is unknown, already used, expired, or for another DID",
                ));
            }
            diesel::insert_into(sessions::table)
                .values((
                    sessions::token_hash.eq(token_hashed),
                    sessions::did.eq(&did_for_row),
                    sessions::created_at.eq(now_ms),
                    sessions::expires_at.eq(expires_ms),
                ))
                .execute(conn)?;
            Ok(roles_of(conn, &did_for_row, now_ms, &admins)?)
        })
        .await?;
    Ok(HttpResponse::Created().json(TokenResponse {
        token,
        did: holder,
        roles,
        expires: corroborate_verifier::credential::rfc3339(expires),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    pub did: String,
    pub admin: Option<String>,
    pub roles: Vec<Role>,
}

/// The authenticated caller and its current roles.
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    responses((status = 200, body = WhoAmI), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn me(caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(WhoAmI {
        did: caller.did,
        admin: caller.admin,
        roles: caller.roles,
    }))
}

/// Ends the session of the token sent.
#[utoipa::path(delete, path = "/auth/tokens/current", tag = "auth",
    responses((status = 204), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn logout(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let token = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::new(Code::Unauthenticated, "no bearer token"))?;
    let hash = token_hash(token.trim());
    state
        .db
        .write::<_, ApiError, _>(move |conn| {
            diesel::delete(sessions::table.filter(sessions::token_hash.eq(hash))).execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn routes(cfg: &mut web::ServiceConfig, limiter: &crate::app::Limiter) {
    limiter.resource(
        cfg,
        "/auth/challenges",
        vec![web::post().to(create_challenge)],
    );
    limiter.resource(cfg, "/auth/tokens", vec![web::post().to(create_token)]);
    cfg.route("/auth/tokens/current", web::delete().to(logout))
        .route("/auth/me", web::get().to(me));
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(create_challenge, create_token, me, logout))]
pub struct Api;

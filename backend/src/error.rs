//! The one error type of the HTTP edge: [`ApiError`], answered as RFC 9457 `problem+json` with
//! a stable [`Code`]. Codes are part of the API (`docs/api.md` lists them); front ends translate
//! them. `detail` is English for developers. Internal causes are logged, never sent.

use crate::db::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

/// Every way a request can fail, as a stable machine-readable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// The body is not JSON, too deep, has duplicate keys, unknown or missing fields.
    InvalidBody,
    /// A path or query parameter is malformed.
    InvalidParameter,
    /// The body is larger than the configured limit.
    BodyTooLarge,
    /// Too many items in one request.
    TooManyItems,
    /// No valid bearer token.
    Unauthenticated,
    /// Authenticated, but not in the role this needs, or not the owner of the record.
    Forbidden,
    /// The authentication challenge is unknown, used or expired, or its answer does not verify.
    AuthenticationFailed,
    NotFound,
    /// The request conflicts with the record's state (already revoked, already answered…).
    Conflict,
    /// The idempotency key was used before with a different request.
    IdempotencyKeyReused,
    /// The request, challenge or link has expired.
    Expired,
    /// A credential or presentation did not pass verification where it must.
    VerificationFailed,
    /// The credential to sign, or its claims, break the data model or the fact schema.
    InvalidCredential,
    /// No policy with this id (and version).
    UnknownPolicy,
    /// The presentation challenge is unknown, already used, or for another verifier.
    ChallengeRefused,
    /// Too many requests from this client: slow down.
    RateLimited,
    /// A remote document (did:web, status list) could not be fetched within the limits.
    FetchFailed,
    /// Something on our side failed; the request may be retried.
    Internal,
    /// The database is not reachable.
    Unavailable,
}

impl Code {
    pub fn status(self) -> StatusCode {
        match self {
            Code::InvalidBody | Code::InvalidParameter | Code::InvalidCredential => {
                StatusCode::BAD_REQUEST
            }
            Code::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::TooManyItems => StatusCode::BAD_REQUEST,
            Code::Unauthenticated | Code::AuthenticationFailed => StatusCode::UNAUTHORIZED,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound | Code::UnknownPolicy => StatusCode::NOT_FOUND,
            Code::Conflict | Code::IdempotencyKeyReused | Code::ChallengeRefused => {
                StatusCode::CONFLICT
            }
            Code::Expired => StatusCode::GONE,
            Code::VerificationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::FetchFailed => StatusCode::BAD_GATEWAY,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidBody => "invalid_body",
            Code::InvalidParameter => "invalid_parameter",
            Code::BodyTooLarge => "body_too_large",
            Code::TooManyItems => "too_many_items",
            Code::Unauthenticated => "unauthenticated",
            Code::Forbidden => "forbidden",
            Code::AuthenticationFailed => "authentication_failed",
            Code::NotFound => "not_found",
            Code::Conflict => "conflict",
            Code::IdempotencyKeyReused => "idempotency_key_reused",
            Code::Expired => "expired",
            Code::VerificationFailed => "verification_failed",
            Code::InvalidCredential => "invalid_credential",
            Code::UnknownPolicy => "unknown_policy",
            Code::ChallengeRefused => "challenge_refused",
            Code::RateLimited => "rate_limited",
            Code::FetchFailed => "fetch_failed",
            Code::Internal => "internal",
            Code::Unavailable => "unavailable",
        }
    }

    /// A short English title (RFC 9457 `title`), the same for every occurrence of the code.
    pub fn title(self) -> &'static str {
        match self {
            Code::InvalidBody => "The request body is not acceptable",
            Code::InvalidParameter => "A parameter is not acceptable",
            Code::BodyTooLarge => "The request body is too large",
            Code::TooManyItems => "Too many items in one request",
            Code::Unauthenticated => "Authentication is required",
            Code::Forbidden => "Not allowed for this caller",
            Code::AuthenticationFailed => "Authentication failed",
            Code::NotFound => "Not found",
            Code::Conflict => "The request conflicts with the current state",
            Code::IdempotencyKeyReused => "The idempotency key was used for another request",
            Code::Expired => "Expired",
            Code::VerificationFailed => "Verification failed",
            Code::InvalidCredential => "The credential is not acceptable",
            Code::UnknownPolicy => "Unknown policy",
            Code::ChallengeRefused => "The challenge cannot be used",
            Code::RateLimited => "Too many requests",
            Code::FetchFailed => "A remote document could not be fetched",
            Code::Internal => "Internal error",
            Code::Unavailable => "The service is unavailable",
        }
    }
}

/// An error answered to the client: a code and an English detail safe to show.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub detail: String,
    /// Extra members of the problem object (e.g. a verification report).
    pub extra: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(code: Code, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            detail: detail.into(),
            extra: None,
        }
    }

    pub fn with_extra(mut self, extra: serde_json::Value) -> ApiError {
        self.extra = Some(extra);
        self
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(Code::NotFound, format!("no {what} with this id"))
    }

    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(Code::Forbidden, detail)
    }

    pub fn bad_body(detail: impl Into<String>) -> ApiError {
        ApiError::new(Code::InvalidBody, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::new(Code::Conflict, detail)
    }

    /// An internal failure: the cause goes to the log, the client gets a generic detail.
    pub fn internal(cause: impl fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            Code::Internal,
            "an internal error occurred; the request may be retried",
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

/// The RFC 9457 body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `https://w3id.org/corroborate/problems#<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: Code,
}

pub const PROBLEM_BASE: &str = "https://w3id.org/corroborate/problems#";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut body = serde_json::json!({
            "type": format!("{PROBLEM_BASE}{}", self.code.as_str()),
            "title": self.code.title(),
            "status": status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        });
        if let (Some(serde_json::Value::Object(extra)), Some(object)) =
            (&self.extra, body.as_object_mut())
        {
            for (key, value) in extra {
                object.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
        HttpResponse::build(status)
            .content_type("application/problem+json")
            .json(body)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::Pool(e) => {
                tracing::error!(error = %e, "database unavailable");
                ApiError::new(
                    Code::Unavailable,
                    "the database is not reachable; retry later",
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> ApiError {
        ApiError::from(StoreError::from(error))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

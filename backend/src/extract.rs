//! Request bodies: [`StrictJson`] reads a body within the size limit, parses it with the
//! verifier's strict parser (duplicate keys refused, nesting bounded) and only then deserializes
//! it into an API type, whose unknown fields are refused (`deny_unknown_fields`). Every failure
//! is a specific `invalid_body`/`body_too_large` problem, never a 500.

use crate::error::{ApiError, Code};
use crate::state::AppState;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use corroborate_verifier::json;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

/// A JSON body parsed strictly into `T`.
#[derive(Debug)]
pub struct StrictJson<T>(pub T);

/// A JSON body parsed strictly, kept as a value (credentials and presentations, whose exact
/// members matter to their proofs).
#[derive(Debug)]
pub struct StrictValue(pub serde_json::Value);

impl<T: DeserializeOwned + 'static> FromRequest for StrictJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_value(req, payload);
        Box::pin(async move {
            let value = body.await?;
            serde_json::from_value(value)
                .map(StrictJson)
                .map_err(|e| ApiError::bad_body(e.to_string()))
        })
    }
}

impl FromRequest for StrictValue {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_value(req, payload);
        Box::pin(async move { body.await.map(StrictValue) })
    }
}

fn read_value(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<serde_json::Value, ApiError>> + use<> {
    let limits = req
        .app_data::<web::Data<AppState>>()
        .map(|state| json::Limits {
            max_bytes: state.settings.limits.body_bytes,
            max_depth: state.settings.limits.json_depth,
            ..json::Limits::default()
        })
        .unwrap_or_default();
    let content_type_ok = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let essence = v.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/json") || essence.ends_with("+json")
        })
        .unwrap_or(false);
    let mut payload = payload.take();
    async move {
        if !content_type_ok {
            return Err(ApiError::bad_body(
                "the body must be JSON, sent with Content-Type: application/json",
            ));
        }
        let mut bytes = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::bad_body(format!("reading the body: {e}")))?;
            if bytes.len() + chunk.len() > limits.max_bytes {
                return Err(ApiError::new(
                    Code::BodyTooLarge,
                    format!("the body is larger than {} bytes", limits.max_bytes),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        json::parse(&bytes, &limits).map_err(|e| match e {
            json::JsonError::TooLarge { .. } => ApiError::new(Code::BodyTooLarge, e.to_string()),
            other => ApiError::bad_body(other.to_string()),
        })
    }
}

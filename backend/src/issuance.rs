//! (to be written)

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig, _limiter: &crate::app::Limiter) {}

#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Api;

/// The DID document of a `did:web` hosted here, or `None` when the DID is not ours.
pub async fn hosted_did_document(
    _state: &crate::state::AppState,
    _did: &str,
) -> Result<Option<serde_json::Value>, crate::db::StoreError> {
    Ok(None)
}

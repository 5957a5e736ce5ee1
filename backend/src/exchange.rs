//! (to be written)

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig, _limiter: &crate::app::Limiter) {}

#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Api;

/// Purges expired attestation requests (their claims and any uncollected credentials) unless
/// the citizen asked to keep them; returns how many were purged. Run periodically by the app.
pub async fn sweep_expired(_state: &crate::state::AppState) -> Result<u64, crate::db::StoreError> {
    Ok(0)
}

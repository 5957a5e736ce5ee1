//! (being written: status derivation; the full module replaces this once the registry and
//! issuance functions it calls exist)

use crate::state::AppState;
use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig, _limiter: &crate::app::Limiter) {}

#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Api;

/// Called after a credential's status entries changed (a hosted credential revoked or
/// suspended, or a person attester published a list with newly set bits): re-evaluates every
/// decision that counted an input with one of these entries. `entries` are
/// (status list credential URL, index) pairs.
pub async fn reevaluate_withdrawn(
    _state: &web::Data<AppState>,
    _entries: Vec<(String, u64)>,
) -> crate::error::ApiResult<()> {
    Ok(())
}

/// Periodic re-evaluation of expired and revoked inputs.
pub async fn sweep(_state: &web::Data<AppState>) -> crate::error::ApiResult<usize> {
    Ok(0)
}

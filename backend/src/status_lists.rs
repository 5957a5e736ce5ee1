//! (to be written)

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig, _limiter: &crate::app::Limiter) {}

#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Api;

/// The status list credential at `url` when it is hosted or published here, else `None`.
pub async fn local_list_credential(
    _state: &crate::state::AppState,
    _url: &str,
) -> Result<Option<serde_json::Value>, crate::db::StoreError> {
    Ok(None)
}

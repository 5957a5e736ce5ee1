//! (to be written)

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig, _limiter: &crate::app::Limiter) {}

#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Api;

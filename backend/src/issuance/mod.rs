//! Hosted issuance: organisations (a utility, a bank, a carrier, a hospital) and government
//! verifiers issue through the service with keys it holds for them.
//!
//! [`issuers`] owns the hosted issuers, their operators, their sealed Ed25519 service keys and
//! the `did:web` documents that publish those keys; [`credentials`] issues credentials in an
//! issuer's name (VC API `POST /credentials/issue`, and in bulk), lists what was issued, and
//! changes a credential's status (VC API `POST /credentials/status`) through the hosted status
//! lists of [`crate::status_lists`].
//!
//! Invariants: only an operator of a hosted issuer makes it sign; what is signed has passed the
//! same checks as the CLI's `sign`; a signed credential verifies with the verifier library using
//! this service's resolver and status lists; the body of an issued credential is never stored,
//! only its metadata and fingerprint.

pub mod credentials;
pub mod issuers;

pub use credentials::{issue_in, issue_with};
pub use issuers::{hosted_did_document, operated_by_in};

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig, limiter: &crate::app::Limiter) {
    cfg.route("/issuers", web::post().to(issuers::create))
        .route("/issuers", web::get().to(issuers::list))
        .route("/issuers/{id}", web::get().to(issuers::get))
        .route(
            "/issuers/{id}/operators",
            web::post().to(issuers::add_operator),
        )
        .route("/issuers/{id}/keys/rotate", web::post().to(issuers::rotate))
        .route(
            "/issuers/{id}/credentials/bulk",
            web::post().to(credentials::bulk),
        )
        .route(
            "/issuers/{id}/credentials",
            web::get().to(credentials::list_issued),
        )
        .route("/credentials/issue", web::post().to(credentials::issue))
        .route(
            "/credentials/status",
            web::post().to(credentials::update_status),
        );
    limiter.resource(
        cfg,
        "/issuers/{id}/did.json",
        vec![web::get().to(issuers::did_json)],
    );
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        issuers::create,
        issuers::list,
        issuers::get,
        issuers::add_operator,
        issuers::did_json,
        issuers::rotate,
        credentials::issue,
        credentials::bulk,
        credentials::list_issued,
        credentials::update_status,
    ),
    components(schemas(
        issuers::CreateIssuer,
        issuers::AddOperator,
        issuers::Issuer,
        issuers::IssuerList,
        issuers::ServiceKey,
        issuers::Rotated,
        credentials::IssueCredentialRequest,
        credentials::IssueCredentialOptions,
        credentials::IssueCredentialResponse,
        credentials::BulkIssueRequest,
        credentials::BulkResponse,
        credentials::BulkResult,
        credentials::ItemProblem,
        credentials::IssuedPage,
        credentials::IssuedCredential,
        credentials::UpdateCredentialStatusRequest,
        credentials::StatusEntrySelector,
        credentials::StatusUpdated,
    ))
)]
pub struct Api;

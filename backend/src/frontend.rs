//! The web front ends, served from the same process and origin as the API: the folder
//! `scripts/build-web` writes (setting `web.dir`, default `web/dist`) at `/`, so the landing
//! page is `/`, the citizen's wallet `/app/`, the attester portal `/portal/`, the dashboard
//! `/dashboard/`, and their shared code `/common/` and `/pkg/` (the wasm core).
//!
//! Files are served by `actix-files`, which refuses `.`-prefixed segments, keeps `..` inside the
//! folder, never lists a directory here, and answers `ETag`/`Last-Modified` with conditional
//! `GET`/`HEAD` (304). The front-end service is registered after every API route and only for
//! `GET` and `HEAD`, so the API keeps priority and a path that is neither a file nor an endpoint
//! gets the API's JSON `not_found`.
//!
//! Every front-end answer carries a strict Content Security Policy (no inline script or style,
//! no other origin; `'wasm-unsafe-eval'` lets the wallet's WebAssembly compile) and
//! `Cache-Control: no-cache`: the browser revalidates each file by its `ETag` (a 304 costs
//! little), so an HTML page is never paired with older scripts whose subresource integrity
//! hashes it no longer matches, and a new `sw.js` or `release.json` is seen at once.
//!
//! Front-end answers are compressed when the browser accepts it (brotli, gzip or zstd): the
//! wallet's WebAssembly core shrinks to about a quarter on the way to a phone. Integrity hashes
//! cover the decoded bytes, so they hold either way. API answers are not compressed here: they
//! can carry a secret beside text a requester chose, which compression would let leak by length
//! (BREACH).

use crate::error::{ApiError, Code};
use actix_files::Files;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{Compress, Next, from_fn};
use actix_web::{HttpResponse, guard, web};
use std::path::Path;

/// The Content Security Policy of every front-end page.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
    script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
    form-action 'self'";

/// Registers the front ends at `/`. Call after every API route: the service matches any path
/// (for `GET` and `HEAD`) and hands what is not a file to the JSON `not_found`.
pub fn routes(cfg: &mut web::ServiceConfig, dir: &Path) {
    let frontend = web::scope("")
        .guard(guard::Any(guard::Get()).or(guard::Head()))
        .wrap(from_fn(headers))
        .wrap(Compress::default());
    if dir.is_dir() {
        cfg.service(
            frontend.service(
                Files::new("", dir)
                    .index_file("index.html")
                    .redirect_to_slash_directory()
                    .disable_content_disposition()
                    .default_handler(web::to(not_found)),
            ),
        );
    } else {
        cfg.service(
            frontend
                .route("/", web::get().to(not_built))
                .default_service(web::to(not_found)),
        );
    }
}

/// Logs, at start, when there is nothing to serve.
pub fn warn_if_missing(dir: &Path) {
    if !dir.is_dir() {
        tracing::warn!(
            dir = %dir.display(),
            "the web front ends are not built (run scripts/build-web); `/` says so until they are"
        );
    }
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        Code::NotFound,
        "no such file, endpoint or method; see /openapi.json",
    ))
}

/// The page `/` answers while `web.dir` does not exist: operators see what to run.
async fn not_built() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(NOT_BUILT_PAGE)
}

const NOT_BUILT_PAGE: &str = "<!doctype html>\n<html lang=\"en\">\n<head>\n\
<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>Corroborate: front ends not built</title>\n</head>\n<body>\n\
<h1>The web front ends are not built</h1>\n\
<p>The service is running (its API is described at <a href=\"/docs\">/docs</a>), but the folder \
of the web front ends (setting <code>web.dir</code>, environment \
<code>CORROBORATE__WEB__DIR</code>) does not exist.</p>\n\
<p>Build them from the project's folder, then reload this page:</p>\n\
<pre><code>scripts/build-web</code></pre>\n</body>\n</html>\n";

/// Security and caching headers on every front-end answer (errors included).
async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(self)",
        ),
        (header::CACHE_CONTROL, "no-cache"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    Ok(res)
}

//! Building and running the service: [`Application::build`] opens the database (migrating it),
//! loads policies and keys, binds the listener and assembles the routes with their middleware
//! (tracing, Prometheus metrics, rate limits on unauthenticated endpoints, problem+json for
//! every framework-level error) and, after them, the web front ends. `main` only reads
//! settings, sets up telemetry and calls it.

use crate::db::{DatabaseUrl, Db};
use crate::error::{ApiError, Code, PROBLEM_BASE};
use crate::fetch::Fetcher;
use crate::keys::Sealer;
use crate::settings::Settings;
use crate::state::AppState;
use actix_governor::governor::NotUntil;
use actix_governor::governor::clock::{Clock, DefaultClock, QuantaInstant};
use actix_governor::{Governor, GovernorConfig, GovernorConfigBuilder, KeyExtractor};
use actix_web::dev::{Server, ServiceRequest};
use actix_web::{App, HttpResponse, HttpResponseBuilder, HttpServer, Route, web};
use anyhow::Context;
use std::net::{IpAddr, TcpListener};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_scalar::Servable;

/// A bound, not yet running service.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    pub fn build(settings: Settings) -> anyhow::Result<Application> {
        let url = DatabaseUrl::parse(&settings.database_url)?;
        let db = Db::open(&url, settings.pool_size).context("opening the database")?;
        let policies = crate::policies::load(settings.policies_dir.as_deref())?;
        let sealer = Sealer::load(settings.master_key.as_ref(), &settings.data_dir)
            .context("loading the master key")?;
        let fetcher = Fetcher::new(&settings.fetch).context("building the HTTP client")?;
        let listener = TcpListener::bind(&settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        let address = listener.local_addr()?;
        let public_url = if settings.public_url.is_empty() {
            format!("http://{address}")
        } else {
            settings.public_url.trim_end_matches('/').to_owned()
        };
        let anchoring =
            crate::anchoring::Anchoring::build(&settings.anchoring, &db, &sealer, &public_url)
                .context("opening the anchoring connector")?;
        let state = web::Data::new(AppState {
            settings,
            db,
            public_url,
            policies: Arc::new(policies),
            sealer,
            fetcher,
            sweep_cursor: std::sync::Mutex::new(None),
            anchoring: Arc::new(anchoring),
        });
        let server = run(listener, state.clone())?;
        spawn_maintenance(&state);
        spawn_batcher(&state);
        Ok(Application {
            port: address.port(),
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn public_url(&self) -> &str {
        &self.state.public_url
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Runs the periodic sweeps on a thread of its own (with its own single-threaded runtime: the
/// resolvers' futures need not be `Send`), until the application state is dropped.
fn spawn_maintenance(state: &web::Data<AppState>) {
    let interval = state.settings.maintenance_interval_secs;
    if interval == 0 {
        return;
    }
    let weak = Arc::downgrade(&state.clone().into_inner());
    let spawned = std::thread::Builder::new()
        .name("maintenance".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    tracing::error!(%error, "maintenance runtime could not start");
                    return;
                }
            };
            runtime.block_on(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(interval)).await;
                    let Some(state) = weak.upgrade() else { return };
                    maintain(&web::Data::from(state)).await;
                }
            });
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "maintenance thread could not start");
    }
}

/// The anchoring batcher runs on its own thread and runtime, so that a slow ledger never holds
/// up request handling.
fn spawn_batcher(state: &web::Data<AppState>) {
    if !state.settings.anchoring.enabled {
        return;
    }
    let batcher = state.anchoring.batcher(&state.db);
    let spawned = std::thread::Builder::new()
        .name("anchoring".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(batcher.run()),
                Err(error) => tracing::error!(%error, "anchoring runtime could not start"),
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "anchoring thread could not start");
    }
}

/// One round of maintenance; failures are logged and retried at the next round.
pub async fn maintain(state: &web::Data<AppState>) {
    match crate::exchange::sweep_expired(state).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "expired attestation requests purged"),
        Err(error) => tracing::warn!(%error, "sweeping expired requests failed"),
    }
    match crate::derivation::sweep(state).await {
        Ok(0) => {}
        Ok(withdrawn) => tracing::info!(withdrawn, "withdrawn inputs re-evaluated"),
        Err(error) => tracing::warn!(%error, "re-evaluation sweep failed"),
    }
    // Rows that only served a moment: expired challenges, sessions, idempotency records.
    let purged = [
        crate::auth::purge_expired(state).await,
        crate::derivation::purge_expired_requests(state).await,
        crate::idempotency::purge_expired(state).await,
    ];
    for result in purged {
        if let Err(error) = result {
            tracing::warn!(%error, "purging expired rows failed");
        }
    }
}

/// Rate limiting by client address for the endpoints anyone may call.
#[derive(Clone)]
pub struct Limiter {
    config: Arc<
        GovernorConfig<
            PeerAddress,
            actix_governor::governor::middleware::NoOpMiddleware<QuantaInstant>,
        >,
    >,
}

impl Limiter {
    fn new(settings: &crate::settings::RateLimit) -> anyhow::Result<Limiter> {
        let config = GovernorConfigBuilder::default()
            .requests_per_second(settings.per_second.max(1))
            .burst_size(settings.burst.max(1))
            .key_extractor(PeerAddress)
            .finish()
            .context("rate limit settings: per_second and burst must be positive")?;
        Ok(Limiter {
            config: Arc::new(config),
        })
    }

    /// Registers `routes` at `path`, rate limited.
    pub fn resource(&self, cfg: &mut web::ServiceConfig, path: &str, routes: Vec<Route>) {
        let mut resource = web::resource(path);
        for route in routes {
            resource = resource.route(route);
        }
        cfg.service(resource.wrap(Governor::new(&self.config)));
    }
}

/// The client's address (per /56 for IPv6, as providers hand those out).
#[derive(Clone)]
pub struct PeerAddress;

impl KeyExtractor for PeerAddress {
    type Key = IpAddr;
    type KeyExtractionError = ApiError;

    fn extract(&self, req: &ServiceRequest) -> Result<IpAddr, ApiError> {
        let ip = req
            .peer_addr()
            .map(|socket| socket.ip())
            .ok_or_else(|| ApiError::internal("no peer address"))?;
        Ok(match ip {
            IpAddr::V6(v6) => {
                let mut octets = v6.octets();
                octets[7..].fill(0);
                IpAddr::V6(octets.into())
            }
            v4 => v4,
        })
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        mut response: HttpResponseBuilder,
    ) -> HttpResponse {
        let wait = negative
            .wait_time_from(DefaultClock::default().now())
            .as_secs()
            + 1;
        response
            .insert_header(("Retry-After", wait.to_string()))
            .content_type("application/problem+json")
            .json(serde_json::json!({
                "type": format!("{PROBLEM_BASE}{}", Code::RateLimited.as_str()),
                "title": Code::RateLimited.title(),
                "status": 429,
                "detail": format!("too many requests from this address; retry in {wait} s"),
                "code": Code::RateLimited,
            }))
    }
}

/// The whole API description, merged from every module's.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(OpenApi)]
    #[openapi(
        info(
            title = "Corroborate",
            description = "Civil facts established by several independent witnesses: trust registry, attestation exchange, hosted issuance, status lists, verification (VC API) and status derivation. Errors are RFC 9457 problem+json with a stable `code`."
        ),
        components(schemas(crate::error::Problem, crate::error::Code))
    )]
    struct Root;
    let mut api = Root::openapi();
    api.merge(crate::health::Api::openapi());
    api.merge(crate::auth::Api::openapi());
    api.merge(crate::policies::Api::openapi());
    api.merge(crate::audit::Api::openapi());
    api.merge(crate::registry::Api::openapi());
    api.merge(crate::issuance::Api::openapi());
    api.merge(crate::status_lists::Api::openapi());
    api.merge(crate::vcapi::Api::openapi());
    api.merge(crate::exchange::Api::openapi());
    api.merge(crate::derivation::Api::openapi());
    api.merge(crate::erasure::Api::openapi());
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A token from POST /auth/tokens (DID challenge and response)",
                ))
                .build(),
        ),
    );
    api
}

fn run(listener: TcpListener, state: web::Data<AppState>) -> anyhow::Result<Server> {
    let limiter = Limiter::new(&state.settings.rate_limit)?;
    let metrics = actix_web_prom::PrometheusMetricsBuilder::new("corroborate")
        .endpoint("/metrics")
        .build()
        .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
    let api = openapi();
    let web_dir = state.settings.web.dir.clone();
    crate::frontend::warn_if_missing(&web_dir);
    let server = HttpServer::new(move || {
        let limiter = limiter.clone();
        let api = api.clone();
        App::new()
            .wrap(metrics.clone())
            .wrap(tracing_actix_web::TracingLogger::default())
            .app_data(state.clone())
            .app_data(web::PathConfig::default().error_handler(|error, _| {
                ApiError::new(Code::InvalidParameter, error.to_string()).into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|error, _| {
                ApiError::new(Code::InvalidParameter, error.to_string()).into()
            }))
            .configure(|cfg| {
                crate::health::routes(cfg);
                crate::auth::routes(cfg, &limiter);
                crate::policies::routes(cfg);
                crate::audit::routes(cfg);
                crate::registry::routes(cfg, &limiter);
                crate::issuance::routes(cfg, &limiter);
                crate::status_lists::routes(cfg, &limiter);
                crate::vcapi::routes(cfg, &limiter);
                crate::exchange::routes(cfg, &limiter);
                crate::derivation::routes(cfg, &limiter);
                crate::erasure::routes(cfg, &limiter);
                crate::anchoring::http::routes(cfg, &limiter);
            })
            .route(
                "/openapi.json",
                web::get().to(move || {
                    let api = api.clone();
                    async move { HttpResponse::Ok().json(api) }
                }),
            )
            .service(utoipa_scalar::Scalar::with_url("/docs", openapi()))
            // Last: it answers any GET or HEAD no API route took.
            .configure(|cfg| crate::frontend::routes(cfg, &web_dir))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::new(
                    Code::NotFound,
                    "no such endpoint or method; see /openapi.json",
                ))
            }))
    })
    .listen(listener)?
    .run();
    Ok(server)
}

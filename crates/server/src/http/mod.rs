//! The HTTP edge: router, middleware stack and server loop.
//!
//! Order of the middleware, outermost first (every request passes all of them):
//! request id → tracing span → response request id → security headers → compression →
//! metrics → problem+json normaliser → panic catcher → timeout → body limit → route.

pub mod assets;
pub mod auth;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod system;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request, header};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use axum::extract::FromRef;
use crm::Crm;
use helpdesk::{Helpdesk, HelpdeskSettings};
use identity::{Identity, IdentitySettings};
use kernel::ratelimit::RateLimiter;
use kernel::{Db, ErrorCode, Problem, SharedClock};
use sales::Sales;

/// Settings of the HTTP edge.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest accepted request body.
    pub body_limit: usize,
    /// Longest a handler may run.
    pub request_timeout: Duration,
    /// Serve the web UI from this folder instead of the embedded build.
    pub web_dir: Option<PathBuf>,
    /// Sustained requests per second allowed per caller.
    pub rate_limit_per_second: u32,
    /// Burst allowed per caller.
    pub rate_limit_burst: u32,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_limit: crate::config::DEFAULT_BODY_LIMIT,
            request_timeout: crate::config::DEFAULT_REQUEST_TIMEOUT,
            web_dir: None,
            rate_limit_per_second: crate::config::DEFAULT_RATE_LIMIT_PER_SECOND,
            rate_limit_burst: crate::config::DEFAULT_RATE_LIMIT_BURST,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Injected time.
    pub clock: SharedClock,
    /// HTTP settings.
    pub http: Arc<HttpSettings>,
    /// Identity: sign-in, users, roles, API keys, authentication.
    pub identity: Identity,
    /// CRM: companies, contacts, pipelines, deals.
    pub crm: Crm,
    /// Helpdesk: tickets, SLA policies and calendars, attachments.
    pub helpdesk: Helpdesk,
    /// Sales: stores, products, price lists, orders, invoices, payments, credit notes.
    pub sales: Sales,
    /// Requests per caller (API key, user) per second, as a token bucket.
    pub rate_limiter: Arc<RateLimiter>,
}

impl FromRef<AppState> for Identity {
    fn from_ref(state: &AppState) -> Identity {
        state.identity.clone()
    }
}

impl FromRef<AppState> for Crm {
    fn from_ref(state: &AppState) -> Crm {
        state.crm.clone()
    }
}

impl FromRef<AppState> for Sales {
    fn from_ref(state: &AppState) -> Sales {
        state.sales.clone()
    }
}

impl FromRef<AppState> for Helpdesk {
    fn from_ref(state: &AppState) -> Helpdesk {
        state.helpdesk.clone()
    }
}

/// How often the SLA scan looks for tickets turning at risk or breached.
pub const SLA_SCAN_INTERVAL: Duration = Duration::from_secs(30);

impl AppState {
    /// Builds the state every server (CLI or tests) runs with.
    pub fn new(
        db: Db,
        clock: SharedClock,
        http: HttpSettings,
        keys: identity::crypto::Keys,
        identity_settings: IdentitySettings,
    ) -> Self {
        // Both are clamped to at least 1, which is all RateLimiter::new requires.
        let rate_limiter = RateLimiter::new(
            http.rate_limit_burst.max(1),
            f64::from(http.rate_limit_per_second.max(1)),
        )
        .expect("a burst and a rate of at least 1 are valid");
        let rate_limiter = Arc::new(rate_limiter);
        let helpdesk = Helpdesk::new(db.clone(), clock.clone(), HelpdeskSettings::default());
        // The customer 360 view's `tickets` section comes from the helpdesk's service.
        let crm = Crm::new(db.clone(), clock.clone(), keys.ring().clone())
            .with_customer_section(Arc::new(helpdesk.clone()));
        // Sales checks that a store's company exists through the CRM's service, and reads
        // open tickets for the call priority through the helpdesk's section.
        let sales = Sales::new(db.clone(), clock.clone(), crm.clone())
            .with_open_issues(Arc::new(helpdesk.clone()));
        // The customer 360 view's `orders` section comes from the sales service.
        let crm = crm.with_customer_section(Arc::new(sales.clone()));
        Self {
            sales,
            crm,
            helpdesk,
            identity: Identity::new(db.clone(), clock.clone(), Arc::new(keys), identity_settings),
            db,
            clock,
            http: Arc::new(http),
            rate_limiter,
        }
    }

    /// Replaces the helpdesk settings (attachment store, upload limit).
    pub fn with_helpdesk_settings(mut self, settings: HelpdeskSettings) -> Self {
        self.helpdesk = Helpdesk::new(self.db.clone(), self.clock.clone(), settings);
        self.crm = self
            .crm
            .with_customer_section(Arc::new(self.helpdesk.clone()));
        self.sales = self.sales.with_open_issues(Arc::new(self.helpdesk.clone()));
        self.crm = self.crm.with_customer_section(Arc::new(self.sales.clone()));
        self
    }

    /// Spends one token of the caller's bucket (`user:<id>`, `api_key:<id>`, or `ip:<addr>`
    /// for anonymous calls); a 429 problem with `Retry-After` when empty.
    pub fn rate_limit(&self, caller: &str) -> Result<(), Problem> {
        self.rate_limiter
            .check(caller, std::time::Instant::now())
            .map_err(|retry| {
                let mut problem = Problem::new(ErrorCode::RateLimited).with_detail(format!(
                    "rate limit of {} requests/s exceeded",
                    self.http.rate_limit_per_second
                ));
                problem.retry_after_secs = Some(retry.secs());
                problem
            })
    }
}

/// `x-request-id`, accepted from the client or generated.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Content-Security-Policy for the web app and the API docs: everything from our own
/// origin; inline styles only (the component library and the docs page inject them).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Builds the whole application. `extra` routes (tests mount slow or panicking handlers
/// there) get the same middleware as the real ones.
pub fn app(state: AppState, extra: Option<Router<AppState>>) -> Router {
    let _ = metrics::handle();
    let (api, openapi) = openapi::split();
    let docs: Router<AppState> = utoipa_swagger_ui::SwaggerUi::new("/api/docs")
        .url("/api/v1/openapi.json", openapi)
        .into();
    let mut router = api.merge(docs);
    if let Some(extra) = extra {
        router = router.merge(extra);
    }
    let body_limit = state.http.body_limit;
    let timeout = state.http.request_timeout;
    router
        .fallback(assets::fallback)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(middleware::request_span)
                        .on_request(())
                        .on_response(middleware::log_response)
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CSP),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("strict-origin-when-cross-origin"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    HeaderName::from_static("cross-origin-opener-policy"),
                    HeaderValue::from_static("same-origin"),
                ))
                .layer(CompressionLayer::new().gzip(true).br(true))
                .layer(axum::middleware::from_fn(metrics::track))
                .layer(axum::middleware::from_fn(middleware::problem_responses))
                .layer(CatchPanicLayer::custom(middleware::panic_response))
                .layer(axum::middleware::from_fn(move |req, next| {
                    middleware::timeout(timeout, req, next)
                }))
                .layer(DefaultBodyLimit::max(body_limit))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    auth::authenticate,
                )),
        )
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish, stops the event dispatcher and closes the pool.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    extra: Option<Router<AppState>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_background, background_stopped) = watch::channel(false);
    let dispatcher = crate::events::dispatcher(state.db.clone(), state.clock.clone());
    let sla_task = spawn_sla_scan(state.helpdesk.clone(), background_stopped.clone());
    let dispatcher_task = dispatcher.spawn(background_stopped);
    let db = state.db.clone();
    let router = app(state, extra);
    let result = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    let _ = stop_background.send(true);
    let _ = dispatcher_task.await;
    let _ = sla_task.await;
    db.close().await;
    result
}

/// Runs the helpdesk SLA scan every [`SLA_SCAN_INTERVAL`] until `shutdown` turns true.
fn spawn_sla_scan(
    helpdesk: Helpdesk,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(SLA_SCAN_INTERVAL) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        break;
                    }
                }
            }
            match helpdesk.scan_sla().await {
                Ok(report) if report.at_risk + report.breached > 0 => {
                    tracing::info!(
                        at_risk = report.at_risk,
                        breached = report.breached,
                        "SLA scan"
                    );
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "SLA scan failed; will retry"),
            }
        }
    })
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

/// The request id of a request, if the middleware set one.
pub fn request_id_of<B>(req: &Request<B>) -> Option<String> {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

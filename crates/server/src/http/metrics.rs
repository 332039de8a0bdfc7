//! Prometheus metrics: request counts and latency histograms by route, method and status;
//! database pool gauges; build info.

use std::sync::OnceLock;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::Response;
use axum::middleware::Next;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds: fine below 10 ms, where most API calls land.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder (installed once, shared by every server in the process).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".to_owned()),
                    LATENCY_BUCKETS,
                )
                .ok()?
                .install_recorder()
                .ok()?;
            metrics::gauge!("meridian_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            Some(handle)
        })
        .as_ref()
}

/// Records count and latency of every request.
pub async fn track(req: Request, next: Next) -> Response<Body> {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "fallback".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

/// Renders the exposition text, after refreshing the pool gauges.
pub fn render(db: &kernel::Db) -> String {
    let stats = db.stats();
    let backend = db.backend().name();
    metrics::gauge!("db_pool_connections", "state" => "in_use", "backend" => backend)
        .set(f64::from(stats.in_use));
    metrics::gauge!("db_pool_connections", "state" => "idle", "backend" => backend)
        .set(f64::from(stats.idle));
    metrics::gauge!("db_pool_max_connections", "backend" => backend).set(f64::from(stats.max));
    handle().map(PrometheusHandle::render).unwrap_or_default()
}

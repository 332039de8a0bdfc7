//! Liveness, readiness and metrics endpoints.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use kernel::{ErrorCode, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;

/// Liveness answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: String,
    /// Server version.
    pub version: String,
}

/// Readiness answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// `ready`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}

/// Liveness: the process answers. Does not touch the database.
#[utoipa::path(get, path = "/health", tag = "system",
    responses((status = 200, description = "The process is alive", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// Readiness: the database answers a query within 2 seconds.
#[utoipa::path(get, path = "/ready", tag = "system",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json")))]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Readiness>, Problem> {
    match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => Ok(Json(Readiness {
            status: "ready".to_owned(),
            database: state.db.backend().name().to_owned(),
        })),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check failed");
            Err(
                Problem::new(ErrorCode::ServiceUnavailable).with_detail(format!(
                    "the {} database does not answer",
                    state.db.backend().name()
                )),
            )
        }
        Err(_) => Err(
            Problem::new(ErrorCode::ServiceUnavailable).with_detail(format!(
                "the {} database did not answer within 2 s",
                state.db.backend().name()
            )),
        ),
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        super::metrics::render(&state.db),
    )
}

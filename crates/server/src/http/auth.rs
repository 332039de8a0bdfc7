//! Authentication, below every handler: turns `Authorization: Bearer` into the caller's
//! [`TenantContext`] (or refuses the request), records where the request came from, and
//! writes an audit row whenever a caller is refused for lack of permission.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kernel::audit::{self, AuditEntry};
use kernel::tenancy::RequestMeta;
use kernel::{Problem, TenantContext};

use super::AppState;

fn request_meta(req: &Request) -> RequestMeta {
    let header_text = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect::<String>())
    };
    RequestMeta {
        ip: req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string()),
        user_agent: header_text(header::USER_AGENT),
        request_id: header_text(super::REQUEST_ID),
    }
}

fn needs_credentials(path: &str) -> bool {
    path.starts_with("/api/v1/")
        && path != "/api/v1/openapi.json"
        && !identity::routes::PUBLIC_PATHS.contains(&path)
}

/// The authentication middleware.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let meta = request_meta(&req);
    req.extensions_mut().insert(meta.clone());
    let path = req.uri().path().to_owned();
    let mut context: Option<TenantContext> = None;
    if needs_credentials(&path) {
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .map(str::to_owned);
        if let Some(token) = bearer {
            match state.identity.authenticate(&token, meta).await {
                Ok(ctx) => {
                    if let Err(limited) = state.rate_limit(&ctx.actor().label()) {
                        return limited.into_response();
                    }
                    req.extensions_mut().insert(ctx.clone());
                    context = Some(ctx);
                }
                Err(err) => return Problem::from(err).into_response(),
            }
        }
    }
    // Anonymous API calls (sign-in, refresh, missing credentials) are limited per IP.
    if context.is_none()
        && path.starts_with("/api/")
        && let Some(ip) = req
            .extensions()
            .get::<RequestMeta>()
            .and_then(|m| m.ip.clone())
        && let Err(limited) = state.rate_limit(&format!("ip:{ip}"))
    {
        return limited.into_response();
    }
    let method = req.method().clone();
    let response = next.run(req).await;
    if response.status() == StatusCode::FORBIDDEN
        && let Some(ctx) = context
    {
        let entry = AuditEntry::by(
            &ctx,
            "permission.denied",
            "route",
            Some(format!("{method} {path}")),
        )
        .with_changes(serde_json::json!({"method": method.as_str(), "path": path}));
        if let Err(err) = audit::append_now(&state.db, &state.clock, entry).await {
            tracing::error!(error = %err, "could not audit a permission denial");
        }
    }
    response
}

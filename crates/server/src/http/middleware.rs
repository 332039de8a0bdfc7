//! Cross-cutting middleware: request spans and access log, problem+json for every error,
//! panics, timeouts.

use std::any::Any;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, Response, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use kernel::problem::PROBLEM_CONTENT_TYPE;
use kernel::{ErrorCode, Problem};
use tracing::Span;

use super::REQUEST_ID;

/// Paths polled by load balancers and Prometheus: logged at debug level only.
fn is_probe(path: &str) -> bool {
    matches!(path, "/health" | "/ready" | "/metrics")
}

/// The span every log line of a request is recorded in; it carries the request id.
pub fn request_span(req: &Request<Body>) -> Span {
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let path = req.uri().path();
    if is_probe(path) {
        tracing::debug_span!("request", method = %req.method(), path = %path, request_id = %request_id)
    } else {
        tracing::info_span!("request", method = %req.method(), path = %path, request_id = %request_id)
    }
}

/// The access-log line written when a response starts.
pub fn log_response<B>(response: &Response<B>, latency: Duration, span: &Span) {
    if span.is_disabled() {
        return;
    }
    let status = response.status().as_u16();
    let latency_ms = latency.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(status, latency_ms, "request failed");
    } else {
        tracing::info!(status, latency_ms, "request finished");
    }
}

/// Ensures every error response is `application/problem+json` and carries the request
/// id and path: framework responses (405, 413, unknown routes) are rewritten; problems
/// from handlers get `request_id` and `instance` filled in.
pub async fn problem_responses(req: Request, next: Next) -> Response<Body> {
    let request_id = super::request_id_of(&req);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_CONTENT_TYPE.as_bytes()));
    let (mut parts, body) = response.into_parts();
    // Error bodies are small; anything larger than this is not ours to rewrite (a
    // rejected import lists up to 1,000 bad cells: ~150 KiB).
    let bytes = axum::body::to_bytes(body, 1024 * 1024)
        .await
        .unwrap_or_default();
    // A handler's problem keeps its extension members (RFC 9457 section 3.2), such as
    // the `{row, column, reason}` errors of a rejected import: only the request id and
    // the path are filled in.
    if is_problem
        && let Ok(serde_json::Value::Object(mut map)) =
            serde_json::from_slice::<serde_json::Value>(&bytes)
        && map.get("errors").is_some_and(|e| {
            e.as_array()
                .and_then(|a| a.first())
                .is_some_and(|first| first.get("field").is_none())
        })
    {
        if map.get("request_id").is_none_or(serde_json::Value::is_null) {
            map.insert("request_id".to_owned(), serde_json::json!(request_id));
        }
        if map.get("instance").is_none_or(serde_json::Value::is_null) {
            map.insert("instance".to_owned(), serde_json::json!(path));
        }
        let body = serde_json::to_vec(&map).unwrap_or_default();
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from(body));
    }
    let mut problem = if is_problem {
        match serde_json::from_slice::<Problem>(&bytes) {
            Ok(problem) => problem,
            Err(_) => Problem::new(ErrorCode::for_status(status)),
        }
    } else {
        framework_problem(status, &method, &path, &parts.headers, &bytes)
    };
    problem.request_id = problem.request_id.or(request_id);
    problem.instance = problem.instance.or(Some(path));
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

fn framework_problem(
    status: StatusCode,
    method: &Method,
    path: &str,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Problem {
    let code = ErrorCode::for_status(status);
    let mut problem = Problem::new(code);
    problem.status = status.as_u16();
    let detail = match code {
        ErrorCode::MethodNotAllowed => {
            let allowed = headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if allowed.is_empty() {
                format!("{method} is not allowed on {path}")
            } else {
                format!("{method} is not allowed on {path}; allowed: {allowed}")
            }
        }
        ErrorCode::NotFound => format!("nothing at {path}"),
        ErrorCode::PayloadTooLarge => "the request body exceeds the configured limit".to_owned(),
        _ => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() || text.len() > 500 {
                code.title().to_owned()
            } else {
                text.to_owned()
            }
        }
    };
    problem.with_detail(detail)
}

/// Turns a handler panic into a 500 problem; the panic itself was logged, with the request
/// id, by the panic hook installed at start.
pub fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    tracing::error!(panic = %message, "handler panicked");
    Problem::new(ErrorCode::Internal)
        .with_detail(
            "An unexpected error occurred; the server log has the details under this request id.",
        )
        .into_response()
}

/// Ends a handler that runs longer than `limit` with a 503 problem.
pub async fn timeout(limit: Duration, req: Request, next: Next) -> Response<Body> {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
            Problem::new(ErrorCode::Timeout)
                .with_detail(format!(
                    "the request did not finish within {} ms",
                    limit.as_millis()
                ))
                .into_response()
        }
    }
}

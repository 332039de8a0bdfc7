//! The web app: built assets embedded in the binary (or read from `--web-dir`), with
//! client-side-route fallback to `index.html`. Unknown `/api/...` paths are 404 problems,
//! never the app's HTML.

use std::borrow::Cow;
use std::path::{Component, Path};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, Response, StatusCode, Uri, header};
use axum::response::IntoResponse;
use kernel::{ErrorCode, Problem};
use rust_embed::RustEmbed;

use super::AppState;

/// `web/dist`, embedded at compile time in release builds (read from disk in debug builds).
#[derive(RustEmbed)]
// Relative to this crate's Cargo.toml (rust-embed does not expand variables here).
#[folder = "../../web/dist"]
#[allow_missing = true]
struct WebAssets;

/// Shown when the binary was built without the web app.
const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Meridian</title></head>\
<body><h1>Meridian</h1><p>The API is running. The web UI was not built into this binary: run \
<code>npm ci &amp;&amp; npm run build</code> in <code>web/</code> and rebuild, or start with \
<code>--web-dir web/dist</code>.</p><p><a href=\"/api/docs/\">API reference</a></p></body></html>";

/// Handles every path no route matched.
pub async fn fallback(State(state): State<AppState>, method: Method, uri: Uri) -> Response<Body> {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return Problem::new(ErrorCode::NotFound)
            .with_detail(format!("no API route {path}"))
            .into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return Problem::new(ErrorCode::MethodNotAllowed)
            .with_detail(format!("{method} is not allowed on {path}"))
            .into_response();
    }
    let requested = path.trim_start_matches('/');
    let relative = if requested.is_empty() {
        "index.html"
    } else {
        requested
    };
    if let Some(response) = load(&state, relative).await {
        return response;
    }
    let looks_like_file = Path::new(requested).extension().is_some();
    if looks_like_file {
        return Problem::not_found(&format!("file /{relative}")).into_response();
    }
    // A client-side route (/crm/deals/42): the app's router handles it.
    match load(&state, "index.html").await {
        Some(response) => response,
        None => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            NOT_BUILT,
        )
            .into_response(),
    }
}

async fn load(state: &AppState, relative: &str) -> Option<Response<Body>> {
    let (bytes, mime): (Cow<'static, [u8]>, String) = match &state.http.web_dir {
        Some(dir) => {
            // Refuse anything but plain relative components: no `..`, no absolute paths.
            let safe = Path::new(relative)
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
            if !safe {
                return None;
            }
            let file = dir.join(relative);
            let bytes = tokio::fs::read(&file).await.ok()?;
            let mime = mime_guess::from_path(&file)
                .first_or_octet_stream()
                .to_string();
            (Cow::Owned(bytes), mime)
        }
        None => {
            let file = WebAssets::get(relative)?;
            let mime = file.metadata.mimetype().to_owned();
            (file.data, mime)
        }
    };
    // Vite puts content-hashed files under assets/: cache them forever; revalidate the rest.
    let cache = if relative.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Some(response)
}

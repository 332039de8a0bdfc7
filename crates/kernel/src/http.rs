//! Request extractors that fail with problem+json naming the field, for every module's
//! routes.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::problem::{ErrorCode, FieldError, Problem};

/// A JSON body. Wrong content type → 415; too large → 413; not JSON → 400
/// `malformed_json` with line and column; wrong shape → 422 naming the field path.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

fn is_json_content_type(value: Option<&header::HeaderValue>) -> bool {
    let Some(Ok(text)) = value.map(|v| v.to_str()) else {
        return false;
    };
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json_content_type(req.headers().get(header::CONTENT_TYPE)) {
            return Err(Problem::new(ErrorCode::UnsupportedMediaType)
                .with_detail("expected Content-Type: application/json"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(ErrorCode::PayloadTooLarge)
                    .with_detail("the request body exceeds the configured limit")
            } else {
                Problem::new(ErrorCode::BadRequest).with_detail(rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON document into `T` with the same problems as [`ApiJson`].
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(value) => Ok(value),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                Err(Problem::new(ErrorCode::MalformedJson).with_detail(format!(
                    "invalid JSON at line {}, column {}: {inner}",
                    inner.line(),
                    inner.column()
                )))
            } else {
                // serde's message ends with " at line L column C"; the field already says where.
                let message = inner.to_string();
                let message = message
                    .rsplit_once(" at line ")
                    .map_or(message.as_str(), |(head, _)| head)
                    .to_owned();
                // "missing field `name`" names the field itself: report it on that field.
                let missing = message
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.strip_suffix('`'))
                    .map(str::to_owned);
                let error = match missing {
                    Some(name) => {
                        let field = if path == "." {
                            name
                        } else {
                            format!("{path}.{name}")
                        };
                        FieldError::new(field, "is required")
                    }
                    None => {
                        FieldError::new(if path == "." { "body".to_owned() } else { path }, message)
                    }
                };
                Err(Problem::validation(vec![error]))
            }
        }
    }
}

/// Query parameters; a parameter that does not parse → 400 naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        match serde_path_to_error::deserialize(deserializer) {
            Ok(value) => Ok(ApiQuery(value)),
            Err(err) => {
                let path = err.path().to_string();
                let field = if path == "." {
                    "query".to_owned()
                } else {
                    path
                };
                Err(Problem::bad_field(field, err.into_inner().to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Contact {
        name: String,
        age: u8,
    }

    #[test]
    fn syntax_errors_are_400_with_position() {
        let problem = parse_json::<Contact>(b"{\"name\": ").expect_err("eof");
        assert_eq!(problem.status, 400);
        assert_eq!(problem.code, "malformed_json");
        assert!(problem.detail.as_deref().unwrap_or("").contains("line 1"));
    }

    #[test]
    fn shape_errors_are_422_naming_the_field() {
        let problem = parse_json::<Contact>(br#"{"name": "Ann", "age": 300}"#).expect_err("range");
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "age");
        let problem = parse_json::<Contact>(br#"{"age": 3}"#).expect_err("missing");
        assert_eq!(problem.errors[0].field, "name");
        assert_eq!(problem.errors[0].message, "is required");
    }

    #[test]
    fn json_content_types() {
        let ok = |s: &'static str| is_json_content_type(Some(&header::HeaderValue::from_static(s)));
        assert!(ok("application/json"));
        assert!(ok("application/json; charset=utf-8"));
        assert!(ok("application/merge-patch+json"));
        assert!(!ok("text/plain"));
        assert!(!is_json_content_type(None));
    }
}

/// The `{id}` of a route, as a UUID. An id that is not a UUID cannot exist: 404, exactly
/// like an id that belongs to nobody (or to another organisation).
#[derive(Debug, Clone, Copy)]
pub struct IdPath(pub uuid::Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| Problem::new(ErrorCode::NotFound).with_detail("no such record"))?;
        uuid::Uuid::parse_str(&raw)
            .map(IdPath)
            .map_err(|_| Problem::new(ErrorCode::NotFound).with_detail("no such record"))
    }
}

/// The version in an `If-Match` header (`"3"`, `W/"3"` or `3`), if any.
#[derive(Debug, Clone, Copy, Default)]
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = value.to_str().unwrap_or("");
        let bare = text.trim().trim_start_matches("W/").trim_matches('"');
        bare.parse::<i64>()
            .map(|v| IfMatch(Some(v)))
            .map_err(|_| Problem::bad_field("If-Match", "must be the record's version, e.g. \"3\""))
    }
}

//! RFC 9457 problem details: the one shape every error leaves the server in.
//!
//! Every error has a stable [`ErrorCode`] (clients switch on `code`, never on `title` or
//! `detail`), an HTTP status and a title, registered in one table (the meilisearch
//! pattern). Crates map their own error type into a [`Problem`] once, at the HTTP edge.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Media type of problem responses.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The registry of error codes. Adding a variant is an API change: codes are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request is malformed in a way no more specific code describes.
    BadRequest,
    /// One or more fields failed validation; see `errors`.
    ValidationFailed,
    /// The body is not valid JSON or does not match the expected shape.
    MalformedJson,
    /// The body's content type is not accepted (expected `application/json`).
    UnsupportedMediaType,
    /// The body is larger than the configured limit.
    PayloadTooLarge,
    /// No authentication, or it is invalid.
    Unauthorized,
    /// The account has a second factor: send `totp_code` too.
    TotpRequired,
    /// Authenticated, but not allowed.
    Forbidden,
    /// No such resource (also answered for resources of other organisations).
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The request conflicts with the current state (e.g. a unique value taken).
    Conflict,
    /// `If-Match`/`version` does not match the current version.
    PreconditionFailed,
    /// The new record looks like existing ones (listed in `duplicates`); resend with
    /// `allow_duplicate` to create it anyway.
    PossibleDuplicate,
    /// The request is well-formed but refers to something that makes it impossible.
    UnprocessableEntity,
    /// Too many requests; see `Retry-After`.
    RateLimited,
    /// The handler did not finish within the request timeout.
    Timeout,
    /// A dependency (the database) is not available.
    ServiceUnavailable,
    /// A bug or an unexpected failure; details are in the server log under the request id.
    Internal,
}

impl ErrorCode {
    /// Stable machine-readable code.
    pub fn as_str(self) -> &'static str {
        self.entry().0
    }

    /// HTTP status of this code.
    pub fn status(self) -> StatusCode {
        self.entry().1
    }

    /// Short human title.
    pub fn title(self) -> &'static str {
        self.entry().2
    }

    fn entry(self) -> (&'static str, StatusCode, &'static str) {
        use ErrorCode::*;
        match self {
            BadRequest => ("bad_request", StatusCode::BAD_REQUEST, "Bad request"),
            ValidationFailed => (
                "validation_failed",
                StatusCode::UNPROCESSABLE_ENTITY,
                "Validation failed",
            ),
            MalformedJson => (
                "malformed_json",
                StatusCode::BAD_REQUEST,
                "Malformed JSON body",
            ),
            UnsupportedMediaType => (
                "unsupported_media_type",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
            ),
            PayloadTooLarge => (
                "payload_too_large",
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body too large",
            ),
            Unauthorized => (
                "unauthorized",
                StatusCode::UNAUTHORIZED,
                "Authentication required",
            ),
            TotpRequired => (
                "totp_required",
                StatusCode::UNAUTHORIZED,
                "Second factor required",
            ),
            Forbidden => ("forbidden", StatusCode::FORBIDDEN, "Forbidden"),
            NotFound => ("not_found", StatusCode::NOT_FOUND, "Not found"),
            MethodNotAllowed => (
                "method_not_allowed",
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
            ),
            Conflict => ("conflict", StatusCode::CONFLICT, "Conflict"),
            PossibleDuplicate => (
                "possible_duplicate",
                StatusCode::CONFLICT,
                "Possible duplicate",
            ),
            PreconditionFailed => (
                "precondition_failed",
                StatusCode::PRECONDITION_FAILED,
                "Version mismatch",
            ),
            UnprocessableEntity => (
                "unprocessable_entity",
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable entity",
            ),
            RateLimited => (
                "rate_limited",
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
            ),
            Timeout => (
                "timeout",
                StatusCode::SERVICE_UNAVAILABLE,
                "Request timed out",
            ),
            ServiceUnavailable => (
                "service_unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
            ),
            Internal => (
                "internal",
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
            ),
        }
    }

    /// The code whose status is `status`, for turning bare framework responses into problems.
    pub fn for_status(status: StatusCode) -> Self {
        use ErrorCode::*;
        match status.as_u16() {
            401 => Unauthorized,
            403 => Forbidden,
            404 => NotFound,
            405 => MethodNotAllowed,
            408 | 504 => Timeout,
            409 => Conflict,
            412 => PreconditionFailed,
            413 => PayloadTooLarge,
            415 => UnsupportedMediaType,
            422 => UnprocessableEntity,
            429 => RateLimited,
            503 => ServiceUnavailable,
            s if s >= 500 => Internal,
            _ => BadRequest,
        }
    }
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// The field, as the client named it (`email`, `lines[2].qty`, `sort`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// URI naming the problem type: `urn:meridian:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Stable machine-readable code (see the error code registry).
    pub code: String,
    /// Explanation specific to this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path this problem occurred on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The request id, to find the server's log lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Invalid fields, for validation problems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extra members specific to the problem (e.g. the current record on 412).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<serde_json::Value>,
    /// Existing records the submitted one looks like (`possible_duplicate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<serde_json::Value>,
    /// Seconds after which a retry may succeed; sent as `Retry-After` too.
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
}

impl Problem {
    /// A problem of `code` with its registered title and status.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            type_uri: format!("urn:meridian:problem:{}", code.as_str()),
            title: code.title().to_owned(),
            status: code.status().as_u16(),
            code: code.as_str().to_owned(),
            detail: None,
            instance: None,
            request_id: None,
            errors: Vec::new(),
            current: None,
            duplicates: None,
            retry_after_secs: None,
        }
    }

    /// Adds the occurrence-specific explanation.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds invalid fields.
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// A 422 naming each invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        Self::new(ErrorCode::ValidationFailed)
            .with_detail(detail)
            .with_errors(errors)
    }

    /// A 400 naming one field (query parameters, cursors).
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        Self::new(ErrorCode::BadRequest)
            .with_detail(format!("{}: {}", error.field, error.message))
            .with_errors(vec![error])
    }

    /// A 412 for a write based on a stale version, carrying the record as it is now.
    pub fn stale_version(current: serde_json::Value) -> Self {
        let mut problem = Self::new(ErrorCode::PreconditionFailed)
            .with_detail("the record changed since you read it; the current version is attached");
        problem.current = Some(current);
        problem
    }

    /// A 404 for `what` (never says whether it exists elsewhere).
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound).with_detail(format!("{what} not found"))
    }

    /// A 500 whose cause is logged, never shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal).with_detail(
            "An unexpected error occurred; the server log has the details under this request id.",
        )
    }

    /// Maps a driver error: unique violations → 409 naming the constraint, foreign-key
    /// violations → 422, pool exhaustion or lost connection → 503, anything else → 500.
    pub fn from_db(err: &sqlx::Error) -> Self {
        match err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                let constraint = db.constraint().unwrap_or("unique");
                Self::new(ErrorCode::Conflict).with_detail(format!(
                    "a record with the same value already exists ({constraint})"
                ))
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                Self::new(ErrorCode::UnprocessableEntity)
                    .with_detail("a referenced record does not exist")
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(error = %err, "database unavailable");
                Self::new(ErrorCode::ServiceUnavailable)
                    .with_detail("the database is not available")
            }
            other => Self::internal(other),
        }
    }

    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.title, self.status)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let retry_after = self.retry_after_secs;
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<sqlx::Error> for Problem {
    fn from(err: sqlx::Error) -> Self {
        Self::from_db(&err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_statuses_match() {
        use ErrorCode::*;
        let all = [
            BadRequest,
            ValidationFailed,
            MalformedJson,
            UnsupportedMediaType,
            PayloadTooLarge,
            Unauthorized,
            TotpRequired,
            Forbidden,
            NotFound,
            MethodNotAllowed,
            Conflict,
            PossibleDuplicate,
            PreconditionFailed,
            UnprocessableEntity,
            RateLimited,
            Timeout,
            ServiceUnavailable,
            Internal,
        ];
        let mut seen = std::collections::HashSet::new();
        for code in all {
            assert!(
                seen.insert(code.as_str()),
                "duplicate code {}",
                code.as_str()
            );
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
        assert_eq!(ErrorCode::for_status(StatusCode::NOT_FOUND), NotFound);
        assert_eq!(ErrorCode::for_status(StatusCode::IM_A_TEAPOT), BadRequest);
        assert_eq!(ErrorCode::for_status(StatusCode::BAD_GATEWAY), Internal);
    }

    #[test]
    fn validation_problem_names_fields() {
        let p = Problem::validation(vec![FieldError::new("email", "is required")]);
        let json = serde_json::to_value(&p).expect("serialise");
        assert_eq!(json["status"], 422);
        assert_eq!(json["type"], "urn:meridian:problem:validation_failed");
        assert_eq!(json["errors"][0]["field"], "email");
        assert_eq!(json["detail"], "email: is required");
        assert!(json.get("current").is_none());
    }

    #[test]
    fn response_has_problem_content_type_and_retry_after() {
        let mut p = Problem::new(ErrorCode::RateLimited);
        p.retry_after_secs = Some(30);
        let response = p.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            PROBLEM_CONTENT_TYPE
        );
        assert_eq!(response.headers()[header::RETRY_AFTER], "30");
    }
}

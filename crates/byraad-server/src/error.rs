//! The one place where errors become HTTP responses.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or has invalid values (400).
    #[error("{0}")]
    BadRequest(String),
    /// No valid bearer token where one is needed (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The request is authenticated but not allowed as made: a state-changing request with a
    /// session cookie and no valid CSRF token (403).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing with that id, or nothing the caller may see (404).
    #[error("{0}")]
    NotFound(String),
    /// The body is larger than allowed (413).
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The method is not allowed on this path (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request target is longer than allowed (414).
    #[error("the request target is longer than server.max_uri_bytes = {0} bytes")]
    UriTooLong(usize),
    /// The headers are larger than allowed (431).
    #[error("the request headers are larger than server.max_header_bytes = {0} bytes")]
    HeadersTooLarge(usize),
    /// The body did not arrive in time (408).
    #[error("the request body was not received within server.body_timeout_secs = {0} s")]
    BodyTimeout(u64),
    /// The principal made more requests than its rate allows (429, `Retry-After`).
    #[error("too many requests; try again in {} s", .0.as_secs().max(1))]
    RateLimited(std::time::Duration),
    /// Too much at once on the server (503, `Retry-After`).
    #[error("{0}")]
    Busy(String),
    /// A part of the service is not available here (503).
    #[error("{0}")]
    Unavailable(String),
    /// Something failed inside; the client sees a generic message (500).
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::UriTooLong(_) => (StatusCode::URI_TOO_LONG, "uri_too_long"),
            ApiError::HeadersTooLarge(_) => (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large"),
            ApiError::BodyTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            ApiError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl ApiError {
    /// The status and the JSON body, `{"error": {"code", "message"}}`; internal details are
    /// logged, not shown.
    pub(crate) fn status_and_body(&self) -> (StatusCode, serde_json::Value) {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(detail) = self {
            tracing::error!(%detail, "request failed");
        }
        (status, json!({"error": {"code": code, "message": self.to_string()}}))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.status_and_body();
        if status == StatusCode::UNAUTHORIZED {
            return (status, [(axum::http::header::WWW_AUTHENTICATE, "Bearer")], Json(body)).into_response();
        }
        let retry_after = match &self {
            ApiError::RateLimited(wait) => Some(wait.as_secs_f64().ceil().max(1.0) as u64),
            ApiError::Busy(_) => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after {
            return (status, [(axum::http::header::RETRY_AFTER, secs.to_string())], Json(body)).into_response();
        }
        (status, Json(body)).into_response()
    }
}

impl From<byraad_index::Error> for ApiError {
    fn from(e: byraad_index::Error) -> Self {
        match e {
            byraad_index::Error::Invalid(e) => ApiError::BadRequest(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::TooLarge(0);
        }
        match r {
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::BadRequest("expected a JSON body with Content-Type: application/json".into())
            }
            JsonRejection::JsonDataError(e) => ApiError::BadRequest(format!("invalid request: {}", e.body_text().trim_start_matches("Failed to deserialize the JSON body into the target type: "))),
            JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest(format!("malformed JSON: {}", e.body_text().trim_start_matches("Failed to parse the request body as JSON: "))),
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

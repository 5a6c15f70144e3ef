//! Request-level bounds: the request target and headers, a time limit per request, a rate per
//! principal, streams at once; and the rule that every error, the HTTP layer's own included,
//! is a JSON body naming the problem.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;

use crate::{ApiError, AppState};

/// The request-level bounds of `[server]`.
#[derive(Debug, Clone)]
pub struct RequestLimits {
    /// Longest request target, in bytes.
    pub max_uri_bytes: usize,
    /// Most bytes of headers.
    pub max_header_bytes: usize,
    /// Time to receive a body.
    pub body_timeout: Duration,
    /// Time until a response starts.
    pub request_timeout: Duration,
}

impl RequestLimits {
    /// The bounds configured in `[server]`.
    pub fn from_config(server: &byraad_core::config::ServerConfig) -> Self {
        Self {
            max_uri_bytes: server.max_uri_bytes,
            max_header_bytes: server.max_header_bytes,
            body_timeout: Duration::from_secs(server.body_timeout_secs),
            request_timeout: Duration::from_secs(server.request_timeout_secs),
        }
    }
}

/// Checks the request target, headers and declared body length before anything reads them,
/// bounds the time until the response starts, and turns any error response without a JSON body
/// (an extractor's rejection, say) into one; the pages' own error pages (HTML) stay pages.
pub(crate) async fn bounds(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limits = &state.request_limits;
    if let Err(e) = check_target(&req, limits) {
        return e.into_response();
    }
    // A declared length over the limit is refused before a byte of the body is read (so no
    // `100 Continue` is sent for it).
    if declared_length(&req).is_some_and(|n| n > state.max_body_bytes as u64) {
        return ApiError::TooLarge(state.max_body_bytes).into_response();
    }
    let resp = match tokio::time::timeout(limits.request_timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::Unavailable(format!("the request took longer than server.request_timeout_secs = {} s", limits.request_timeout.as_secs())).into_response(),
    };
    json_errors(resp).await
}

fn declared_length(req: &Request) -> Option<u64> {
    req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok())
}

/// Receives an authenticated request's body whole, within `server.max_body_bytes` and
/// `server.body_timeout_secs`, before any handler (MCP's included) reads it.
pub(crate) async fn receive(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match received(req, state.max_body_bytes, state.request_limits.body_timeout).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// `req` with its body received whole, within `max_bytes` and `timeout` (a declared length over
/// `max_bytes` was refused by [`bounds`]).
async fn received(req: Request, max_bytes: usize, timeout: Duration) -> Result<Request, ApiError> {
    if !(declared_length(&req).is_some_and(|n| n > 0) || req.headers().contains_key(header::TRANSFER_ENCODING)) {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    let bytes = match tokio::time::timeout(timeout, axum::body::to_bytes(body, max_bytes)).await {
        Err(_) => return Err(ApiError::BodyTimeout(timeout.as_secs())),
        Ok(Err(e)) if is_length_limit(&e) => return Err(ApiError::TooLarge(max_bytes)),
        Ok(Err(e)) => return Err(ApiError::BadRequest(format!("the request body could not be read: {e}"))),
        Ok(Ok(bytes)) => bytes,
    };
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

/// Whether reading a body failed on its length limit.
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

fn check_target(req: &Request, limits: &RequestLimits) -> Result<(), ApiError> {
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > limits.max_uri_bytes {
        return Err(ApiError::UriTooLong(limits.max_uri_bytes));
    }
    let headers: usize = req.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if headers > limits.max_header_bytes {
        return Err(ApiError::HeadersTooLarge(limits.max_header_bytes));
    }
    let decoded = percent_decode(req.uri().path().as_bytes());
    match String::from_utf8(decoded) {
        Err(_) => return Err(ApiError::BadRequest("the path is not valid UTF-8 once percent-decoded".into())),
        Ok(path) if path.chars().any(char::is_control) => return Err(ApiError::BadRequest("the path holds control characters".into())),
        Ok(_) => {}
    }
    if let Some(query) = req.uri().query()
        && String::from_utf8(percent_decode(query.as_bytes())).is_err()
    {
        return Err(ApiError::BadRequest("the query string is not valid UTF-8 once percent-decoded".into()));
    }
    Ok(())
}

fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// An error response whose body is not JSON, made `{"error": {"code", "message"}}` with its text
/// (or the status's reason) as the message.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let content_type = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !(status.is_client_error() || status.is_server_error()) || content_type.starts_with("application/json") || content_type.starts_with("text/event-stream") || content_type.starts_with("text/html") {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024).await.map(|b| String::from_utf8_lossy(&b).trim().to_string()).unwrap_or_default();
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_lowercase() } else { text };
    let body = serde_json::json!({"error": {"code": code_of(status), "message": message}});
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body.to_string()))
}

fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        408 => "request_timeout",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        431 => "headers_too_large",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "error",
    }
}

/// Requests per principal: a rate with a burst above it (GCRA, keyed by principal).
pub struct RateLimits {
    limiter: governor::DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
}

impl RateLimits {
    /// `per_minute` requests a minute with `burst` at once; `None` when `per_minute` is 0 (off).
    pub fn new(per_minute: u32, burst: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_minute)?;
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = governor::Quota::per_minute(rate).allow_burst(burst);
        Some(Self { limiter: governor::RateLimiter::keyed(quota), checks: AtomicU64::new(0) })
    }

    /// `Ok` when `key` may make a request now; else how long until it may.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        // Keys idle long enough to be back at a full burst are forgotten now and then.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&key.to_string()).map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_finds_invalid_utf8() {
        assert_eq!(percent_decode(b"/v1/documents/a%2Fb"), b"/v1/documents/a/b");
        assert!(String::from_utf8(percent_decode(b"/v1/documents/%FF%FE")).is_err());
        assert_eq!(percent_decode(b"%zz%4"), b"%zz%4");
    }

    #[test]
    fn a_principal_beyond_its_burst_waits_and_others_do_not() {
        let rate = RateLimits::new(60, 2).unwrap();
        assert!(rate.check("a").is_ok() && rate.check("a").is_ok());
        let wait = rate.check("a").unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1), "{wait:?}");
        assert!(rate.check("b").is_ok(), "keys are separate");
        assert!(RateLimits::new(0, 5).is_none());
    }
}

//! What several handlers share: the error body they document, the audit information a
//! response carries, the bridge from async handlers to the blocking services, and the audit of
//! an answer. Below the handlers (`routes`, `openai`, `pages`, `feedback`, `cases`, `mcp`,
//! `streaming`); it imports none of them.

use std::ops::ControlFlow;

use axum::response::{IntoResponse, Response};
use byraad_core::ChatResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{ApiError, AuditInfo, Event, Sink};

/// Error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// Error detail.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable code (`bad_request`, `not_found`, ...).
    code: String,
    /// What was wrong.
    message: String,
}

/// `response` carrying `info` for the audit log.
pub(crate) fn audited(info: AuditInfo, response: impl IntoResponse) -> Response {
    let mut resp = response.into_response();
    resp.extensions_mut().insert(info);
    resp
}

/// Runs blocking work (search, answers, the database) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(e.to_string()))?
}

/// What the audit log records of an answer.
pub(crate) fn chat_audit(question: String, resp: &ChatResponse) -> AuditInfo {
    let mut info = AuditInfo::query(question).cited(resp.citations.iter().map(|c| c.doc_id.as_str())).returned(resp.related.iter().map(|h| h.doc_id.as_str()));
    info.answer = Some(resp.answer.clone());
    info
}

/// A sink that keeps nothing: the whole response is returned at the end.
pub(crate) struct Discard;

impl Sink for Discard {
    fn send(&mut self, _: Event<'_>) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

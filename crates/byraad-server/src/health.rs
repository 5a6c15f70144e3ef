//! `/healthz` and `/readyz`: liveness with the size of the index the caller may read, and readiness.

use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use byraad_core::Principal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::handler::blocking;
use crate::{ApiError, AppState};

/// `/healthz` body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// "ok"; "draining" after SIGTERM while requests in flight finish; "degraded" while the
    /// audit log cannot be written.
    status: &'static str,
    /// Documents indexed.
    documents: u64,
    /// Chunks indexed.
    chunks: u64,
    /// Dense retrieval: `{"model": ..., "dim": ...}`, or null when off.
    #[schema(value_type = Option<Object>)]
    dense: Option<byraad_index::DenseStatus>,
    /// What is not working as configured, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
    /// The audit log: `{"ok": true}`, or `{"ok": false, "error": ...}` while it cannot be
    /// written (every API request is refused then).
    #[schema(value_type = Object)]
    audit: serde_json::Value,
}

/// Liveness, the size of the index the caller may read, and the audit log's state (503 while
/// the audit log cannot be written).
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health), (status = 503, body = Health)))]
pub(crate) async fn healthz(State(state): State<AppState>, Extension(principal): Extension<Principal>) -> Result<Response, ApiError> {
    let service = state.search.clone();
    let clearance = principal.clearance();
    let stats = blocking(move || Ok(service.stats(&clearance)?)).await?;
    let audit = state.audit.clone();
    let audit_error = blocking(move || Ok(audit.health())).await?;
    let healthy = audit_error.is_none();
    let phase = state.lifecycle.phase();
    let body = Health {
        status: if !healthy { "degraded" } else if phase == crate::Phase::Draining { "draining" } else { "ok" },
        documents: stats.documents,
        chunks: stats.chunks,
        dense: state.search.dense(),
        warning: state.search.warning(),
        audit: match audit_error {
            None => serde_json::json!({"ok": true}),
            Some(e) => serde_json::json!({"ok": false, "error": e}),
        },
    };
    let status = if healthy { axum::http::StatusCode::OK } else { axum::http::StatusCode::SERVICE_UNAVAILABLE };
    Ok((status, Json(body)).into_response())
}

/// Whether this server takes requests: 200 `{"status": "ready"}`, or 503 while the index loads
/// or the server drains (a load balancer stops sending then).
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "ready"), (status = 503, description = "loading or draining")))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let phase = state.lifecycle.phase();
    let status = if phase == crate::Phase::Ready { axum::http::StatusCode::OK } else { axum::http::StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(serde_json::json!({"status": phase.as_str()}))).into_response()
}

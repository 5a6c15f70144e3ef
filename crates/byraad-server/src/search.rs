//! `POST /v1/search`.

use axum::extract::{Extension, State};
use axum::response::Response;
use axum::Json;
use byraad_core::{Principal, SearchRequest, SearchResponse};

use crate::body::JsonObject;
use crate::handler::{ErrorBody, audited, blocking};
use crate::{ApiError, AppState, AuditInfo};

/// Searches the archive.
#[utoipa::path(post, path = "/v1/search", request_body = SearchRequest,
    responses((status = 200, body = SearchResponse), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    JsonObject(mut req): JsonObject<SearchRequest>,
) -> Result<Response, ApiError> {
    req.validate(state.max_limit).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    req.clearance = principal.clearance();
    let query = req.query.clone();
    let resp = blocking(move || Ok(state.search.search(&req)?)).await?;
    let info = AuditInfo::query(query).returned(resp.hits.iter().map(|h| h.doc_id.as_str()));
    Ok(audited(info, Json(resp)))
}

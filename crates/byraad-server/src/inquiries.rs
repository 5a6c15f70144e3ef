//! `POST /v1/inquiries/draft` and `GET /v1/inquiries/drafts/{file}`: drafting a forespørgsel, and a stored draft as its reader may read it.

use axum::extract::{Extension, Path, State};
use axum::response::Response;
use axum::Json;
use byraad_core::Principal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::body::JsonObject;
use crate::handler::{ErrorBody, audited, blocking};
use crate::{ApiError, AppState, AuditInfo};

/// A draft, its id and where its Word document is.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftReply {
    #[serde(flatten)]
    response: byraad_inquiry::DraftResponse,
    /// The draft's id.
    id: String,
    /// The draft as a Word document.
    docx_url: String,
}

/// Drafts a 10-dages forespørgsel from a member's own words.
#[utoipa::path(post, path = "/v1/inquiries/draft", request_body = byraad_inquiry::DraftRequest,
    responses((status = 200, body = DraftReply), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn draft_inquiry(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    JsonObject(mut req): JsonObject<byraad_inquiry::DraftRequest>,
) -> Result<Response, ApiError> {
    let date = req.validate(chrono::Local::now().date_naive()).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let Some(service) = state.inquiries.clone() else {
        return Err(ApiError::Unavailable("drafting is not configured on this server".into()));
    };
    let Some(drafts) = state.drafts.clone() else {
        return Err(ApiError::Unavailable("drafts are not stored on this server (no database)".into()));
    };
    req.clearance = principal.clearance();
    let (text, party) = (req.text.clone(), req.party.clone());
    let response = blocking(move || Ok(service.draft(&req, date)?)).await?;
    let id = drafts.put(&principal, &party, &response).await?;
    let info = AuditInfo::query(text).cited(response.related.iter().map(|r| r.doc_id.as_str()));
    Ok(audited(info, Json(DraftReply { docx_url: format!("/v1/inquiries/drafts/{id}.docx"), id, response })))
}

/// A stored draft, as the caller may read it: `{id}` as JSON, `{id}.docx` as a Word document.
/// Its author and the author's party read it; what it draws from documents the caller may not
/// read (now) is left out of both.
#[utoipa::path(get, path = "/v1/inquiries/drafts/{file}", params(("file" = String, Path, description = "{id} or {id}.docx")),
    responses((status = 200, body = DraftReply), (status = 200, description = "the Word document", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"), (status = 404, body = ErrorBody)))]
pub(crate) async fn stored_draft(State(state): State<AppState>, Extension(principal): Extension<Principal>, Path(file): Path<String>) -> Result<Response, ApiError> {
    let unknown = || ApiError::NotFound(format!("no draft {file:?}"));
    let (id, word) = match file.strip_suffix(".docx") {
        Some(id) => (id, true),
        None => (file.as_str(), false),
    };
    // Another party's draft is answered exactly like an unknown one.
    let drafts = state.drafts.clone().ok_or_else(unknown)?;
    let draft = drafts.get(id, &principal, state.search.clone()).await?.ok_or_else(unknown)?;
    let info = AuditInfo::query(id).cited(draft.related.iter().map(|r| r.doc_id.as_str())).returned(draft.sources());
    if !word {
        let reply = DraftReply { docx_url: format!("/v1/inquiries/drafts/{id}.docx"), id: id.to_string(), response: draft };
        return Ok(audited(info, Json(reply)));
    }
    let bytes = byraad_inquiry::docx::docx(&draft.draft, &draft.related).map_err(ApiError::Internal)?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.wordprocessingml.document".to_string()),
        (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"forespoergsel-{id}.docx\"")),
    ];
    Ok(audited(info, (headers, bytes)))
}

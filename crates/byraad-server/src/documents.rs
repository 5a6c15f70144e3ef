//! `GET /v1/documents/{doc_id}`: one whole document with the text its spans refer to.

use axum::extract::{Extension, Path, State};
use axum::response::Response;
use axum::Json;
use byraad_core::{Principal, Document, DocumentMeta};
use serde::Serialize;
use utoipa::ToSchema;

use crate::handler::{ErrorBody, audited, blocking};
use crate::{ApiError, AppState, AuditInfo};

/// A document with the text its spans refer to.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentResponse {
    #[serde(flatten)]
    meta: DocumentMeta,
    /// The whole document text.
    text: String,
    /// Sections: heading path, item, case, span.
    #[schema(value_type = Vec<Object>)]
    sections: Vec<byraad_core::Section>,
    /// Byte offsets where pages 2, 3, ... begin.
    page_breaks: Vec<usize>,
}

impl From<Document> for DocumentResponse {
    fn from(d: Document) -> Self {
        Self { meta: d.meta, text: d.text, sections: d.sections, page_breaks: d.page_breaks }
    }
}

/// One whole document.
#[utoipa::path(get, path = "/v1/documents/{doc_id}", params(("doc_id" = String, Path, description = "document id")),
    responses((status = 200, body = DocumentResponse), (status = 404, body = ErrorBody)))]
pub(crate) async fn document(State(state): State<AppState>, Extension(principal): Extension<Principal>, Path(doc_id): Path<String>) -> Result<Response, ApiError> {
    let id = doc_id.clone();
    let clearance = principal.clearance();
    let doc = blocking(move || Ok(state.search.document(&id, &clearance)?)).await?;
    // A document the caller may not read is answered exactly like an unknown one.
    let doc = doc.ok_or_else(|| ApiError::NotFound(format!("no document with id {doc_id:?}")))?;
    let info = AuditInfo::query(doc_id.clone()).returned([doc_id.as_str()]);
    Ok(audited(info, Json(DocumentResponse::from(doc))))
}

//! Route handlers: each extracts, calls one service method, maps the result.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use byraad_core::{AnswerMode, ChatRequest, ChatResponse, ChatRole, Citation, Document, DocumentMeta, Hit, Message, SearchRequest, SearchResponse, Span};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::{ApiError, AppState};

/// The OpenAPI description of the API, served at `/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "byråds-GPT", description = "Search the archive of Aarhus Byråd"),
    paths(healthz, search, chat, document),
    components(schemas(SearchRequest, SearchResponse, Hit, Span, DocumentMeta, DocumentResponse, Health, ErrorBody, ErrorDetail,
        ChatRequest, ChatResponse, Message, ChatRole, Citation, AnswerMode))
)]
pub struct ApiDoc;

/// All API routes.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/search", post(search))
        .route("/v1/chat", post(chat))
        .route("/v1/documents/{doc_id}", get(document))
        .route("/openapi.json", get(openapi))
}

/// `/healthz` body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always "ok" when the index is open.
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
}

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

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(e.to_string()))?
}

/// Liveness and index size.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let service = state.search.clone();
    let stats = blocking(move || Ok(service.stats()?)).await?;
    Ok(Json(Health {
        status: "ok",
        documents: stats.documents,
        chunks: stats.chunks,
        dense: state.search.dense(),
        warning: state.search.warning(),
    }))
}

/// Searches the archive.
#[utoipa::path(post, path = "/v1/search", request_body = SearchRequest,
    responses((status = 200, body = SearchResponse), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn search(
    State(state): State<AppState>,
    body: Result<Json<SearchRequest>, JsonRejection>,
) -> Result<Json<SearchResponse>, ApiError> {
    let Json(req) = body.map_err(|r| match ApiError::from(r) {
        ApiError::TooLarge(_) => ApiError::TooLarge(state.max_body_bytes),
        other => other,
    })?;
    req.validate(state.max_limit).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(blocking(move || Ok(state.search.search(&req)?)).await?))
}

/// Answers a question from the archive with cited passages, or abstains.
#[utoipa::path(post, path = "/v1/chat", request_body = ChatRequest,
    responses((status = 200, body = ChatResponse), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn chat(
    State(state): State<AppState>,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Result<Json<ChatResponse>, ApiError> {
    let Json(req) = body.map_err(|r| match ApiError::from(r) {
        ApiError::TooLarge(_) => ApiError::TooLarge(state.max_body_bytes),
        other => other,
    })?;
    req.validate().map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if req.stream {
        return Err(ApiError::BadRequest("stream: streamed answers are not available yet; send \"stream\": false".into()));
    }
    let Some(service) = state.chat.clone() else {
        return Err(ApiError::Unavailable("answers are not configured on this server".into()));
    };
    Ok(Json(blocking(move || Ok(service.chat(&req)?)).await?))
}

/// One whole document.
#[utoipa::path(get, path = "/v1/documents/{doc_id}", params(("doc_id" = String, Path, description = "document id")),
    responses((status = 200, body = DocumentResponse), (status = 404, body = ErrorBody)))]
async fn document(State(state): State<AppState>, Path(doc_id): Path<String>) -> Result<Json<DocumentResponse>, ApiError> {
    let id = doc_id.clone();
    let doc = blocking(move || Ok(state.search.document(&id)?)).await?;
    doc.map(|d| Json(d.into())).ok_or_else(|| ApiError::NotFound(format!("no document with id {doc_id:?}")))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

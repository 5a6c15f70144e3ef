//! Route handlers: each extracts, calls one service method, maps the result.

use std::convert::Infallible;
use std::ops::ControlFlow;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::response::sse::{self, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use byraad_core::{AnswerMode, ChatRequest, ChatResponse, ChatRole, Citation, Document, DocumentMeta, Hit, Message, SearchRequest, SearchResponse, Span};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use tokio::sync::mpsc;

use crate::{ApiError, AppState, ChatService, Event, Sink};

/// The OpenAPI description of the API, served at `/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "byråds-GPT", description = "Search the archive of Aarhus Byråd"),
    paths(healthz, search, chat, rules_lookup, draft_inquiry, draft_docx, document),
    components(schemas(SearchRequest, SearchResponse, Hit, Span, DocumentMeta, DocumentResponse, Health, ErrorBody, ErrorDetail,
        ChatRequest, ChatResponse, Message, ChatRole, Citation, AnswerMode, RulesResponse, byraad_rules::Provision,
        byraad_inquiry::DraftRequest, DraftReply, byraad_inquiry::Draft, byraad_inquiry::Addressee, byraad_inquiry::Related, byraad_inquiry::Warning))
)]
pub struct ApiDoc;

/// All API routes.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/search", post(search))
        .route("/v1/chat", post(chat))
        .route("/v1/rules/lookup", get(rules_lookup))
        .route("/v1/inquiries/draft", post(draft_inquiry))
        .route("/v1/inquiries/drafts/{file}", get(draft_docx))
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

/// Answers a question from the archive with cited passages, or abstains. With `"stream": true`
/// the answer comes as Server-Sent Events: `delta` (`{"text"}`), `citation` (a citation, before
/// the text that uses it), `done` (the whole response) or `error` (`{"error"}`).
#[utoipa::path(post, path = "/v1/chat", request_body = ChatRequest,
    responses((status = 200, body = ChatResponse, description = "the answer; text/event-stream when streamed"), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn chat(
    State(state): State<AppState>,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(|r| match ApiError::from(r) {
        ApiError::TooLarge(_) => ApiError::TooLarge(state.max_body_bytes),
        other => other,
    })?;
    req.validate().map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let Some(service) = state.chat.clone() else {
        return Err(ApiError::Unavailable("answers are not configured on this server".into()));
    };
    if req.stream {
        return Ok(stream_chat(service, req).into_response());
    }
    let resp = blocking(move || Ok(service.chat(&req, &mut Discard)?)).await?;
    resp.map(Json).map(IntoResponse::into_response).ok_or_else(|| ApiError::Internal("the answer stopped although the client listens".into()))
}

/// A sink that keeps nothing: the whole response is returned at the end.
struct Discard;

impl Sink for Discard {
    fn send(&mut self, _: Event<'_>) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// Hands answer pieces to the event stream of one client; stops when the client is gone.
struct ChannelSink(mpsc::Sender<sse::Event>);

impl Sink for ChannelSink {
    fn send(&mut self, event: Event<'_>) -> ControlFlow<()> {
        let event = match event {
            Event::Delta(text) => sse::Event::default().event("delta").json_data(serde_json::json!({ "text": text })),
            Event::Citation(c) => sse::Event::default().event("citation").json_data(c),
        };
        match event.map(|e| self.0.blocking_send(e)) {
            Ok(Ok(())) => ControlFlow::Continue(()),
            _ => ControlFlow::Break(()),
        }
    }

    fn listening(&self) -> bool {
        !self.0.is_closed()
    }
}

/// The answer as Server-Sent Events: `delta` (`{"text"}`), `citation` (each once, before the
/// text that uses it), then `done` (the whole response) or `error` (`{"error"}`). The answer
/// runs on a blocking thread; when the client disconnects, the stream's receiver is dropped,
/// the sink stops listening and the answer (and the language model's generation) stops.
fn stream_chat(service: Arc<dyn ChatService>, req: ChatRequest) -> Sse<impl futures_util::Stream<Item = Result<sse::Event, Infallible>>> {
    let (tx, rx) = mpsc::channel::<sse::Event>(64);
    tokio::task::spawn_blocking(move || {
        let mut sink = ChannelSink(tx.clone());
        let last = match service.chat(&req, &mut sink) {
            Ok(Some(resp)) => sse::Event::default().event("done").json_data(&resp),
            Ok(None) => {
                tracing::info!("client went away; answer stopped");
                return;
            }
            Err(e) => sse::Event::default().event("error").json_data(ApiError::from(e).status_and_body().1),
        };
        let last = last.unwrap_or_else(|e| sse::Event::default().event("error").data(format!("{{\"error\":{{\"code\":\"internal\",\"message\":\"{e}\"}}}}")));
        let _ = tx.blocking_send(last);
    });
    let events = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) });
    Sse::new(events).keep_alive(sse::KeepAlive::default())
}

/// Longest rules query accepted, in characters.
const MAX_RULES_QUERY: usize = 500;

/// `/v1/rules/lookup` parameters.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RulesQuery {
    /// A reference ("§ 20, stk. 6", "KL § 9") or a topic ("habilitet").
    q: Option<String>,
    /// Most provisions returned.
    limit: Option<usize>,
}

/// Provisions found.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesResponse {
    /// Best first: a named provision, then the provisions about the topic.
    results: Vec<byraad_rules::Provision>,
}

/// Looks up provisions of the law and the council's rules.
#[utoipa::path(get, path = "/v1/rules/lookup", params(RulesQuery),
    responses((status = 200, body = RulesResponse), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn rules_lookup(State(state): State<AppState>, query: Result<axum::extract::Query<RulesQuery>, axum::extract::rejection::QueryRejection>) -> Result<Json<RulesResponse>, ApiError> {
    let axum::extract::Query(params) = query.map_err(|r| ApiError::BadRequest(r.body_text()))?;
    let q = params.q.as_deref().map(str::trim).unwrap_or_default().to_string();
    if q.is_empty() {
        return Err(ApiError::BadRequest("q: give a reference (\"§ 20, stk. 6\") or a topic (\"habilitet\")".into()));
    }
    if q.chars().count() > MAX_RULES_QUERY {
        return Err(ApiError::BadRequest(format!("q: longer than {MAX_RULES_QUERY} characters")));
    }
    let limit = params.limit.unwrap_or(state.rules_limit);
    if limit == 0 || limit > state.max_limit {
        return Err(ApiError::BadRequest(format!("limit: must be in 1..={}", state.max_limit)));
    }
    let Some(rules) = state.rules.clone() else {
        return Err(ApiError::Unavailable("rules look-up is not configured on this server".into()));
    };
    let results = blocking(move || Ok(rules.lookup(&q, limit)?)).await?;
    Ok(Json(RulesResponse { results }))
}

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
async fn draft_inquiry(State(state): State<AppState>, body: Result<Json<byraad_inquiry::DraftRequest>, JsonRejection>) -> Result<Json<DraftReply>, ApiError> {
    let Json(req) = body.map_err(|r| match ApiError::from(r) {
        ApiError::TooLarge(_) => ApiError::TooLarge(state.max_body_bytes),
        other => other,
    })?;
    let date = req.validate(chrono::Local::now().date_naive()).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let Some(service) = state.inquiries.clone() else {
        return Err(ApiError::Unavailable("drafting is not configured on this server".into()));
    };
    let response = blocking(move || Ok(service.draft(&req, date)?)).await?;
    let id = state.drafts.put(response.clone());
    Ok(Json(DraftReply { docx_url: format!("/v1/inquiries/drafts/{id}.docx"), id, response }))
}

/// A draft as a Word document.
#[utoipa::path(get, path = "/v1/inquiries/drafts/{file}", params(("file" = String, Path, description = "{id}.docx")),
    responses((status = 200, description = "the Word document", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"), (status = 404, body = ErrorBody)))]
async fn draft_docx(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, ApiError> {
    let unknown = || ApiError::NotFound(format!("no draft {file:?}"));
    let id = file.strip_suffix(".docx").ok_or_else(unknown)?;
    let draft = state.drafts.get(id).ok_or_else(unknown)?;
    let bytes = byraad_inquiry::docx::docx(&draft.draft, &draft.related).map_err(ApiError::Internal)?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.wordprocessingml.document".to_string()),
        (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"forespoergsel-{id}.docx\"")),
    ];
    Ok((headers, bytes).into_response())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::body::Body;
    use axum::http::Request;
    use byraad_core::config::Config;
    use tower::ServiceExt;

    use super::*;
    use crate::{SearchService, app};

    /// A search service with nothing in it.
    struct Empty;

    impl SearchService for Empty {
        fn search(&self, _: &SearchRequest) -> byraad_index::Result<SearchResponse> {
            Ok(SearchResponse { hits: Vec::new(), took_ms: 0, mode: byraad_core::Mode::Lexical, warning: None })
        }
        fn document(&self, _: &str) -> byraad_index::Result<Option<Document>> {
            Ok(None)
        }
        fn stats(&self) -> byraad_index::Result<byraad_index::Stats> {
            Ok(byraad_index::Stats { documents: 0, chunks: 0 })
        }
        fn dense(&self) -> Option<byraad_index::DenseStatus> {
            None
        }
        fn warning(&self) -> Option<String> {
            None
        }
    }

    /// Answers with one sentence, then fails.
    struct Failing;

    impl ChatService for Failing {
        fn chat(&self, _: &ChatRequest, sink: &mut dyn Sink) -> byraad_index::Result<Option<ChatResponse>> {
            let _ = sink.send(Event::Delta("Første del."));
            Err(byraad_index::Error::Corrupt("chunk 7 of the secret index path /srv/x".into()))
        }
    }

    #[tokio::test]
    async fn a_failure_while_streaming_ends_with_an_error_event() {
        let state = AppState::new(Arc::new(Empty), &Config::default()).with_chat(Arc::new(Failing));
        let body = serde_json::json!({"messages": [{"role": "user", "content": "Hvad skete der?"}], "stream": true}).to_string();
        let request = Request::post("/v1/chat").header("content-type", "application/json").body(Body::from(body)).unwrap();
        let response = app(state).oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let delta = text.find("event: delta\ndata: {\"text\":\"Første del.\"}").unwrap_or_else(|| panic!("{text}"));
        let error = text.find("event: error\ndata: {\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}").unwrap_or_else(|| panic!("{text}"));
        assert!(delta < error, "{text}");
        assert!(!text.contains("secret"), "internal details are not shown: {text}");
        assert!(!text.contains("event: done"), "{text}");
    }
}

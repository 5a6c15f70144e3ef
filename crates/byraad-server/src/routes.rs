//! Route handlers: each extracts, calls one service method, maps the result.

use std::convert::Infallible;
use std::ops::ControlFlow;
use std::sync::Arc;

use axum::extract::{Extension, Path, State};
use axum::response::sse::{self, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use byraad_core::{AnswerMode, Principal, ChatRequest, ChatResponse, ChatRole, Citation, Document, DocumentMeta, Hit, Message, SearchRequest, SearchResponse, Span};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};


use crate::body::JsonObject;
use crate::handler::{Discard, ErrorBody, ErrorDetail, audited, blocking, chat_audit};
use crate::streaming::{self, Producer, StreamAudit};
use crate::{ApiError, AppState, AuditInfo, ChatService, Event, Sink};

/// The OpenAPI description of the API, served at `/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "byråds-GPT", description = "Search the archive of Aarhus Byråd"),
    modifiers(&BearerAuth, &McpEndpoint),
    security(("bearer" = [])),
    paths(healthz, readyz, crate::feedback::feedback, search, chat, rules_lookup, draft_inquiry, stored_draft, document, crate::cases::case, crate::pages::original, crate::pages::page, crate::openai::models, crate::openai::completions),
    components(schemas(crate::feedback::FeedbackRequest, crate::feedback::FeedbackReply, SearchRequest, SearchResponse, Hit, byraad_core::Treatment, byraad_core::CaseHistory, byraad_core::CaseTreatment, byraad_core::Kind, Span, DocumentMeta, DocumentResponse, Health, ErrorBody, ErrorDetail,
        ChatRequest, ChatResponse, Message, ChatRole, Citation, AnswerMode, RulesResponse, byraad_rules::Provision,
        byraad_inquiry::DraftRequest, DraftReply, byraad_inquiry::Draft, byraad_inquiry::Addressee, byraad_inquiry::Related, byraad_inquiry::Warning))
)]
pub struct ApiDoc;

/// `Authorization: Bearer <token>`: a static token or the single sign-on's JWT.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("a static token or an OIDC JWT; required when auth.required is set")).build();
        openapi.components.get_or_insert_with(Default::default).add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The MCP endpoint, which speaks JSON-RPC (the MCP specification describes its messages).
struct McpEndpoint;

impl utoipa::Modify for McpEndpoint {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
        use utoipa::openapi::{ContentBuilder, ResponseBuilder};
        let operation = |summary: &str| {
            OperationBuilder::new()
                .tag("mcp")
                .summary(Some(summary))
                .description(Some("MCP over Streamable HTTP (JSON-RPC 2.0; `Mcp-Session-Id` after `initialize`). Tools: search, fetch, ask, lookup_rule, search_inquiries, draft_inquiry, get_draft."))
                .response("200", ResponseBuilder::new().description("a JSON-RPC response, as JSON or an SSE stream").content("text/event-stream", ContentBuilder::new().build()).build())
                .response("401", ResponseBuilder::new().description("no valid token where one is required").build())
                .response("403", ResponseBuilder::new().description("an Origin that is not configured").build())
                .build()
        };
        let mut item = PathItem::new(HttpMethod::Post, operation("a JSON-RPC message"));
        item.get = Some(operation("the server's event stream of a session"));
        item.delete = Some(operation("ends a session"));
        openapi.paths.paths.insert("/mcp".to_string(), item);
    }
}

/// All API routes.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/", get(crate::web::index))
        .route("/assets/{file}", get(crate::web::asset))
        .route("/regler", get(crate::web::rules_page))
        .route("/sog", get(crate::web::search_page))
        .route("/forespoergsel", get(crate::web::draft_page))
        .route("/logind", get(crate::web::sign_in_page).post(crate::web::sign_in_with_token))
        .route("/logud", post(crate::web::sign_out))
        .route("/auth/login", get(crate::web::single_sign_on))
        .route("/auth/callback", get(crate::web::callback))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/v1/search", post(search))
        .route("/v1/chat", post(chat))
        .route("/v1/rules/lookup", get(rules_lookup))
        .route("/v1/inquiries/draft", post(draft_inquiry))
        .route("/v1/inquiries/drafts/{file}", get(stored_draft))
        .route("/v1/feedback", post(crate::feedback::feedback))
        .route("/v1/documents/{doc_id}", get(document))
        .route("/v1/cases/{case}", get(crate::cases::case))
        .route("/sager/{case}", get(crate::cases::case_page))
        .route("/v1/documents/{doc_id}/original", get(crate::pages::original))
        .route("/documents/{doc_id}", get(crate::pages::page))
        .route("/v1/models", get(crate::openai::models))
        .route("/v1/chat/completions", post(crate::openai::completions))
        .route("/openapi.json", get(openapi))
}

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

/// Liveness, the size of the index the caller may read, and the audit log's state (503 while
/// the audit log cannot be written).
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn healthz(State(state): State<AppState>, Extension(principal): Extension<Principal>) -> Result<Response, ApiError> {
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
async fn readyz(State(state): State<AppState>) -> Response {
    let phase = state.lifecycle.phase();
    let status = if phase == crate::Phase::Ready { axum::http::StatusCode::OK } else { axum::http::StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(serde_json::json!({"status": phase.as_str()}))).into_response()
}

/// Searches the archive.
#[utoipa::path(post, path = "/v1/search", request_body = SearchRequest,
    responses((status = 200, body = SearchResponse), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn search(
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

/// Answers a question from the archive with cited passages, or abstains. With `"stream": true`
/// the answer comes as Server-Sent Events: `delta` (`{"text"}`), `citation` (a citation, before
/// the text that uses it), `done` (the whole response) or `error` (`{"error"}`).
#[utoipa::path(post, path = "/v1/chat", request_body = ChatRequest,
    responses((status = 200, body = ChatResponse, description = "the answer; text/event-stream when streamed"), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn chat(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    JsonObject(mut req): JsonObject<ChatRequest>,
) -> Result<Response, ApiError> {
    req.validate().map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let Some(service) = state.chat.clone() else {
        return Err(ApiError::Unavailable("answers are not configured on this server".into()));
    };
    req.clearance = principal.clearance();
    let question = req.question_text().to_string();
    if req.stream {
        let permit = streaming::permit(&state)?;
        let done = StreamAudit::new(state.audit.clone(), &principal.name, "POST /v1/chat", question.clone());
        return Ok(audited(AuditInfo::query(question), stream_chat(service, req, done, permit)));
    }
    let resp = blocking(move || Ok(service.chat(&req, &mut Discard)?)).await?;
    let resp = resp.ok_or_else(|| ApiError::Internal("the answer stopped although the client listens".into()))?;
    Ok(audited(chat_audit(question, &resp), Json(resp)))
}

/// Hands answer pieces to the event stream of one client; stops when the client is gone.
struct ChannelSink(Producer);

impl Sink for ChannelSink {
    fn send(&mut self, event: Event<'_>) -> ControlFlow<()> {
        let (event, cited) = match event {
            Event::Delta(text) => (sse::Event::default().event("delta").json_data(serde_json::json!({ "text": text })), None),
            Event::Citation(c) => (sse::Event::default().event("citation").json_data(c), Some(c.doc_id.as_str())),
        };
        match event {
            Ok(event) => self.0.event(event, cited),
            Err(_) => ControlFlow::Break(()),
        }
    }

    fn listening(&self) -> bool {
        self.0.listening()
    }
}

/// The answer as Server-Sent Events: `delta` (`{"text"}`), `citation` (each once, before the
/// text that uses it), then `done` (the whole response) or `error` (`{"error"}`). The answer
/// runs on a blocking thread; when the client disconnects, the stream is dropped, the sink
/// stops listening and the answer (and the language model's generation) stops.
fn stream_chat(service: Arc<dyn ChatService>, req: ChatRequest, audit: StreamAudit, permit: tokio::sync::OwnedSemaphorePermit) -> Sse<impl futures_util::Stream<Item = Result<sse::Event, Infallible>>> {
    let (producer, events) = streaming::channel(audit, permit);
    tokio::task::spawn_blocking(move || {
        let mut sink = ChannelSink(producer);
        let error = |body: serde_json::Value| sse::Event::default().event("error").json_data(body).unwrap_or_else(|_| sse::Event::default().event("error").data("{}"));
        match service.chat(&req, &mut sink) {
            Ok(Some(resp)) => {
                let refused = error(ApiError::Unavailable("the audit log cannot be written; the answer is withheld".into()).status_and_body().1);
                match sse::Event::default().event("done").json_data(&resp) {
                    Ok(done) => sink.0.commit(resp, vec![done], refused),
                    Err(e) => sink.0.fail(error(ApiError::Internal(e.to_string()).status_and_body().1)),
                }
            }
            Ok(None) => {}
            Err(e) => sink.0.fail(error(ApiError::from(e).status_and_body().1)),
        }
    });
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
    /// Only this rules text, by name ("kommunestyrelsesloven", "KL", "forretningsorden"); an
    /// unknown name is a 400 naming the rules texts there are.
    law: Option<String>,
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
async fn rules_lookup(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: Result<axum::extract::Query<RulesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let axum::extract::Query(params) = query.map_err(|r| ApiError::BadRequest(r.body_text()))?;
    let q = params.q.as_deref().map(str::trim).unwrap_or_default().to_string();
    if q.is_empty() {
        return Err(ApiError::BadRequest("q: give a reference (\"§ 20, stk. 6\") or a topic (\"habilitet\")".into()));
    }
    if byraad_core::has_control(&q) {
        return Err(ApiError::BadRequest("q: holds control characters".into()));
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
    let clearance = principal.clearance();
    let asked = q.clone();
    let law = params.law.as_deref().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string);
    let results = blocking(move || Ok(rules.lookup(&q, limit, law.as_deref(), &clearance)?)).await?;
    let info = AuditInfo::query(asked).returned(results.iter().map(|p| p.doc_id.as_str()));
    Ok(audited(info, Json(RulesResponse { results })))
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
async fn draft_inquiry(
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
async fn stored_draft(State(state): State<AppState>, Extension(principal): Extension<Principal>, Path(file): Path<String>) -> Result<Response, ApiError> {
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

/// One whole document.
#[utoipa::path(get, path = "/v1/documents/{doc_id}", params(("doc_id" = String, Path, description = "document id")),
    responses((status = 200, body = DocumentResponse), (status = 404, body = ErrorBody)))]
async fn document(State(state): State<AppState>, Extension(principal): Extension<Principal>, Path(doc_id): Path<String>) -> Result<Response, ApiError> {
    let id = doc_id.clone();
    let clearance = principal.clearance();
    let doc = blocking(move || Ok(state.search.document(&id, &clearance)?)).await?;
    // A document the caller may not read is answered exactly like an unknown one.
    let doc = doc.ok_or_else(|| ApiError::NotFound(format!("no document with id {doc_id:?}")))?;
    let info = AuditInfo::query(doc_id.clone()).returned([doc_id.as_str()]);
    Ok(audited(info, Json(DocumentResponse::from(doc))))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::body::Body;
    use axum::http::Request;
    use byraad_core::config::Config;
    use tower::ServiceExt;

    use super::*;
    use crate::{SearchService, app};

    /// A search service with nothing in it (shared by the server's unit tests).
    pub(crate) struct Empty;

    impl SearchService for Empty {
        fn search(&self, _: &SearchRequest) -> byraad_index::Result<SearchResponse> {
            Ok(SearchResponse { hits: Vec::new(), took_ms: 0, mode: byraad_core::Mode::Lexical, warning: None })
        }
        fn document(&self, _: &str, _: &byraad_core::Clearance) -> byraad_index::Result<Option<Document>> {
            Ok(None)
        }
        fn stats(&self, _: &byraad_core::Clearance) -> byraad_index::Result<byraad_index::Stats> {
            Ok(byraad_index::Stats { documents: 0, chunks: 0 })
        }
        fn dense(&self) -> Option<byraad_index::DenseStatus> {
            None
        }
        fn warning(&self) -> Option<String> {
            None
        }
        fn bodies(&self, _: &byraad_core::Clearance) -> byraad_index::Result<Vec<String>> {
            Ok(Vec::new())
        }
        fn case_history(&self, case: &str, _: &byraad_core::Clearance) -> byraad_index::Result<byraad_core::CaseHistory> {
            Ok(byraad_core::CaseHistory { case: case.to_string(), treatments: Vec::new() })
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
        let data = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.data.dir = data.path().to_path_buf();
        let state = AppState::new(Arc::new(Empty), &config).with_chat(Arc::new(Failing));
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

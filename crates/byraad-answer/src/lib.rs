//! Cited answers for byråds-GPT.
//!
//! [`Answerer`] answers a member's question from the archive: it retrieves passages (hybrid
//! search, the request's filters applied inside), then either picks the sentences that answer
//! the question and quotes them verbatim (extractive, the default: deterministic, no language
//! model), or has a language model write the answer from the numbered passages and keeps only
//! what the passages support ([`verify`]). Every citation's `quote` is the document's text at
//! its `span`. When nothing answers the question it abstains and lists the nearest passages.
//! Answers can be streamed: [`Answerer::answer_to`] hands text and citations to a [`Sink`] as
//! they are ready.
//!
//! ```no_run
//! # fn run(retriever: std::sync::Arc<byraad_index::Retriever>) -> byraad_index::Result<()> {
//! use byraad_answer::{Answerer, AnswerConfig};
//! use byraad_core::ChatRequest;
//! let answerer = Answerer::new(retriever, AnswerConfig::default());
//! let answer = answerer.answer(&ChatRequest::question("Hvornår skal dagsordenen udsendes?"))?;
//! println!("{}", answer.answer);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod llm;
mod prompt;
mod sentences;
pub mod verify;

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Arc;

use byraad_core::{AnswerMode, ChatRequest, ChatResponse, Citation, Clearance, Hit, Kind, SearchRequest, SearchResponse, Span};
use byraad_index::{Retriever, analysis};

pub use llm::{LlmClient, LlmError, LlmMessage};
pub use prompt::SYSTEM as SYSTEM_PROMPT;
pub use sentences::sentences;

/// A piece of an answer being streamed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event<'a> {
    /// Text to append to the answer.
    Delta(&'a str),
    /// A citation, sent once, before the first text that uses it.
    Citation(&'a Citation),
}

/// Where a streamed answer goes.
pub trait Sink {
    /// Takes the next piece; `Break` when nobody listens any more, which stops the answer.
    fn send(&mut self, event: Event<'_>) -> ControlFlow<()>;
    /// Whether anyone still listens; asked while waiting for the language model.
    fn listening(&self) -> bool {
        true
    }
}

/// A sink that drops everything (answers returned whole).
struct Discard;

impl Sink for Discard {
    fn send(&mut self, _: Event<'_>) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// What a sentence is credited for a question word its passage's title or heading holds (a word
/// it holds itself counts 1).
const TOPIC_CREDIT: f32 = 0.7;
/// What a sentence is credited for a question word held elsewhere in its passage.
const PASSAGE_CREDIT: f32 = 0.3;
/// Score of a sentence holding the kind of fact the question asks for.
const KIND_WEIGHT: f32 = 0.2;
/// Score of coming from the first passage rather than the last.
const RANK_WEIGHT: f32 = 0.05;

/// Most sentences of a vote quoted together.
const MAX_VOTE_RUN: usize = 6;

/// What quoting two sentences instead of one costs in score.
const PAIR_COST: f32 = 0.1;

/// How answers are selected.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerConfig {
    /// Passages retrieved per question.
    pub passages: usize,
    /// Most sentences quoted in one answer.
    pub max_sentences: usize,
    /// Least share of the question's weight (idf of its content words) the best sentence must
    /// cover; below it the answer is an abstention.
    pub min_coverage: f32,
    /// A further sentence is quoted when it scores at least this share of the best one.
    pub companion_ratio: f32,
    /// Least share of a written sentence's content words its cited sources must hold (LLM mode).
    pub min_support: f32,
}

impl Default for AnswerConfig {
    fn default() -> Self {
        Self { passages: 6, max_sentences: 3, min_coverage: 0.37, companion_ratio: 0.8, min_support: 0.6 }
    }
}

/// Answers questions from the archive.
pub struct Answerer {
    retriever: Arc<Retriever>,
    config: AnswerConfig,
    llm: Option<LlmClient>,
    rules: Option<Arc<byraad_rules::Rules>>,
}

/// A content word of the question: its stemmed forms (the word's and its OCR-damaged
/// spellings') and its weight.
struct QueryTerm {
    stems: Vec<String>,
    weight: f32,
}

/// A candidate sentence.
#[derive(Clone)]
struct Candidate<'a> {
    hit: &'a Hit,
    rank: usize,
    /// Bytes within the hit's text.
    range: std::ops::Range<usize>,
    score: f32,
    coverage: f32,
    /// Whether this is one sentence (pairs are not evidence of an answer on their own).
    single: bool,
    /// Whether it holds the kind of fact the question asks for.
    typed: bool,
    /// Whether it only puts forward what the question asks the outcome of (a proposal, a
    /// recommendation, a nomination).
    proposed: bool,
}

impl Answerer {
    /// An extractive answerer over `retriever`.
    pub fn new(retriever: Arc<Retriever>, config: AnswerConfig) -> Self {
        Self { retriever, config, llm: None, rules: None }
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

    /// Answers the last message of `req`.
    pub fn answer(&self, req: &ChatRequest) -> byraad_index::Result<ChatResponse> {
        Ok(self.answer_to(req, &mut Discard)?.expect("a discarding sink never stops an answer"))
    }

    /// Answers the last message of `req`, handing the answer to `sink` piece by piece as it is
    /// ready: each citation before the first text that uses it. Returns the whole response, or
    /// `None` when the sink stopped listening (the answer was abandoned, the language model's
    /// connection closed).
    pub fn answer_to(&self, req: &ChatRequest, sink: &mut dyn Sink) -> byraad_index::Result<Option<ChatResponse>> {
        req.validate()?;
        let query = match &self.llm {
            Some(llm) if req.messages.len() > 1 => rewrite(llm, req).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "language model could not rewrite the follow-up; carrying earlier words forward");
                standalone(req)
            }),
            _ => standalone(req),
        };
        // What happened after a day is told by documents written after it (an undated one
        // cannot be known to be); the nearest of any date are still listed when none answers.
        let mut search = SearchRequest { query: query.clone(), limit: Some(self.config.passages), filters: req.filters.clone(), mode: None, clearance: req.clearance.clone() };
        let mut scope = Scope::default();
        if let Some(day) = after_day(req.question_text())
            && search.filters.date_from.as_ref().is_none_or(|from| *from < day)
        {
            tracing::debug!(%day, "question asks about what happened after a day");
            scope.unscoped = Some(search.clone());
            search.filters.date_from = Some(day.clone());
            scope.after = Some(day);
        }
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
        let mut warning = found.warning.clone();
        if let Some(llm) = &self.llm {
            match self.written(llm, req, &found, &scope, sink) {
                Ok(resp) => return Ok(resp),
                Err(e) => {
                    tracing::warn!(error = %e, "language model failed; answering extractively");
                    warning = join_warnings(warning, Some(format!("Sprogmodellen kunne ikke svare ({e}); svaret er i stedet udtrukket direkte fra kilderne.")));
                }
            }
        }
        let mut resp = self.extractive(req.question_text(), &search, found, named.len(), &scope)?;
        resp.warning = warning;
        if send_whole(&resp, sink).is_break() {
            return Ok(None);
        }
        Ok(Some(resp))
    }

    /// The language model's answer, checked sentence by sentence as it streams in; only kept
    /// sentences reach `sink`. Fails, with nothing sent, when the model fails before a sentence
    /// was kept; after that, a failure ends the answer early with a warning.
    fn written(&self, llm: &LlmClient, req: &ChatRequest, found: &SearchResponse, scope: &Scope, sink: &mut dyn Sink) -> Result<Option<ChatResponse>, LlmError> {
        let sources: Vec<verify::Source> = found.hits.iter().map(verify::Source::new).collect();
        let messages = prompt::messages(req, &sources);
        let mut verifier = verify::Verifier::new(&sources, self.config.min_support);
        let mut pending = String::new();
        let mut answer = String::new();
        let mut removed = 0usize;
        let mut stopped = false;
        let mut take = |sentence: &str, answer: &mut String, sink: &mut dyn Sink| -> ControlFlow<()> {
            match verifier.check(sentence.trim()) {
                Ok((text, fresh)) => {
                    for c in &fresh {
                        sink.send(Event::Citation(c))?;
                    }
                    // A sentence keeps the line breaks before it (the model's paragraphs, lists).
                    let lead = sentence.len() - sentence.trim_start().len();
                    let breaks = sentence[..lead].matches('\n').count();
                    let piece = match (answer.is_empty(), breaks) {
                        (true, _) => text,
                        (false, 0) => format!(" {text}"),
                        (false, 1) => format!("\n{text}"),
                        (false, _) => format!("\n\n{text}"),
                    };
                    answer.push_str(&piece);
                    sink.send(Event::Delta(&piece))
                }
                Err(verify::Rejection::Empty) => ControlFlow::Continue(()),
                Err(why) => {
                    tracing::debug!(?why, chars = sentence.chars().count(), "written sentence not supported by its sources; removed");
                    removed += 1;
                    ControlFlow::Continue(())
                }
            }
        };
        let outcome = llm.complete(&messages, &mut |piece| {
            if !sink.listening() {
                return ControlFlow::Break(());
            }
            pending.push_str(piece);
            while let Some(end) = verify::sentence_end(&pending, false) {
                let sentence: String = pending.drain(..end).collect();
                take(&sentence, &mut answer, sink)?;
            }
            ControlFlow::Continue(())
        });
        let mut notes: Vec<String> = Vec::new();
        match outcome {
            Ok(()) => {
                let rest = std::mem::take(&mut pending);
                if !rest.trim().is_empty() && take(rest.trim_end(), &mut answer, sink).is_break() {
                    stopped = true;
                }
            }
            Err(LlmError::Stopped) => stopped = true,
            Err(e) if answer.is_empty() => return Err(e),
            Err(e) => notes.push(format!("Svaret blev afbrudt: {e}.")),
        }
        if stopped {
            return Ok(None);
        }
        let citations = verifier.citations().to_vec();
        // An abstention says so itself (the model's "the sources do not answer" is not a claim).
        if removed > 0 && !citations.is_empty() {
            notes.push(format!("{removed} sætning(er) i sprogmodellens svar kunne ikke underbygges af kilderne og er fjernet."));
        }
        let warning = join_warnings(found.warning.clone(), (!notes.is_empty()).then(|| notes.join(" ")));
        if citations.is_empty() {
            // Nothing the model wrote is supported: the archive has no answer it could find.
            let resp = scope.abstain(&self.retriever, found, AnswerMode::Llm, false, warning);
            return Ok(send_whole(&resp, sink).is_continue().then_some(resp));
        }
        let cited: HashSet<&str> = citations.iter().map(|c| c.chunk_id.as_str()).collect();
        let related = found.hits.iter().filter(|h| !cited.contains(h.chunk_id.as_str())).cloned().collect();
        Ok(Some(ChatResponse { answer, abstained: false, mode: AnswerMode::Llm, citations, related, warning }))
    }

    /// The extractive answer to `question` from `found` (what `search` retrieved), whose first
    /// `named` hits are provisions the question names: those are the answer, quoted.
    fn extractive(&self, question: &str, search: &SearchRequest, found: SearchResponse, named: usize, scope: &Scope) -> byraad_index::Result<ChatResponse> {
        if named > 0 {
            let chosen: Vec<Candidate> = found.hits[..named.min(self.config.max_sentences)]
                .iter()
                .map(|hit| Candidate { hit, rank: 0, range: 0..clip_at_sentence(&hit.text, MAX_PROVISION_QUOTE), score: 1.0, coverage: 1.0, single: true, typed: true, proposed: false })
                .collect();
            let (answer, citations) = compose(&chosen.iter().collect::<Vec<_>>());
            let cited: HashSet<&str> = chosen.iter().map(|c| c.hit.chunk_id.as_str()).collect();
            let related = found.hits.iter().filter(|h| !cited.contains(h.chunk_id.as_str())).cloned().collect();
            return Ok(ChatResponse { answer, abstained: false, mode: AnswerMode::Extractive, citations, related, warning: found.warning.clone() });
        }
        let terms = self.query_terms(&search.query, &search.clearance)?;
        let kind = QuestionKind::of(question);
        let min = self.config.min_coverage;
        let candidates = rank(question, &terms, &found.hits);
        let whole = lead(&candidates, kind, min);
        // A question in two parts ("Hvor mange høringssvar kom der, og hvilke partier ...?") is
        // answered part by part: each part's best sentence, weighing its own words fully and
        // the other part's (who or what it is about) as context.
        let parts = two_parts(question);
        // Each part is also searched for on its own: the passage answering the second part may
        // not be among those answering the question as a whole.
        let mut part_hits: Vec<Vec<Hit>> = Vec::new();
        for part in parts.iter().flatten() {
            let mut hits = found.hits.clone();
            for hit in self.retriever.search(&SearchRequest { query: (*part).to_string(), ..search.clone() })?.hits {
                if !hits.iter().any(|h| h.doc_id == hit.doc_id && h.span.start < hit.span.end && hit.span.start < h.span.end) {
                    hits.push(hit);
                }
            }
            part_hits.push(hits);
        }
        let mut leads: Vec<Candidate> = Vec::new();
        if let Some(parts) = parts {
            for (i, (part, hits)) in parts.iter().zip(&part_hits).enumerate() {
                let own = stems_of(part);
                let weighted: Vec<QueryTerm> = terms
                    .iter()
                    .map(|t| QueryTerm { stems: t.stems.clone(), weight: if t.stems.iter().any(|s| own.contains(s)) { t.weight } else { t.weight * OTHER_PART } })
                    .collect();
                let ranked = rank(part, &weighted, hits);
                if let Some(best) = lead(&ranked, QuestionKind::of(part), min)
                    && !leads.iter().any(|l| overlap(l, best))
                {
                    leads.push(best.clone());
                }
                tracing::debug!(part = i + 1, answered = leads.len(), "two-part question");
            }
        }
        tracing::debug!(?kind, best = candidates.first().map(|c| c.score), answered = whole.is_some(), "extractive answer");
        if leads.is_empty() {
            leads.extend(whole.cloned());
        }
        if leads.is_empty() {
            // Say so when what would have answered was only proposed.
            let proposed = candidates.iter().any(|c| c.proposed && c.single && c.coverage >= min);
            return Ok(scope.abstain(&self.retriever, &found, AnswerMode::Extractive, proposed, found.warning.clone()));
        }
        // Further sentences scoring nearly as well as the best one for the whole question (not
        // what was only proposed, when the question asks what came of it).
        let mut chosen: Vec<&Candidate> = leads.iter().collect();
        if let Some(best) = whole {
            let floor = best.score * self.config.companion_ratio;
            for c in candidates.iter().take_while(|c| c.score >= floor) {
                if chosen.len() >= self.config.max_sentences {
                    break;
                }
                if !c.proposed && !chosen.iter().any(|o| overlap(o, c)) {
                    chosen.push(c);
                }
            }
        }
        let (answer, citations) = compose(&chosen);
        let cited: HashSet<&str> = chosen.iter().map(|c| c.hit.chunk_id.as_str()).collect();
        let related = found.hits.iter().filter(|h| !cited.contains(h.chunk_id.as_str())).cloned().collect();
        Ok(ChatResponse { answer, abstained: false, mode: AnswerMode::Extractive, citations, related, warning: found.warning.clone() })
    }

    /// The question's content words, weighted by their idf among the documents `clearance` reads.
    fn query_terms(&self, question: &str, clearance: &Clearance) -> byraad_index::Result<Vec<QueryTerm>> {
        let mut terms = content_terms(question);
        let heads: Vec<String> = terms.iter().map(|t| t.stems[0].clone()).collect();
        for (t, w) in terms.iter_mut().zip(self.retriever.lexical().idf(&heads, clearance)?) {
            t.weight = w;
        }
        Ok(terms)
    }
}

/// The content words of `question`, each once, not yet weighted.
fn content_terms(question: &str) -> Vec<QueryTerm> {
    let mut seen = HashSet::new();
    let mut terms: Vec<QueryTerm> = Vec::new();
    for w in analysis::content_words(question) {
        let stem = analysis::stem_term(&w.lower);
        if !seen.insert(stem.clone()) {
            continue;
        }
        let mut stems = vec![stem];
        stems.extend(analysis::ocr_variants(&w.lower).iter().map(|v| analysis::stem_term(v)));
        terms.push(QueryTerm { stems, weight: 1.0 });
    }
    terms
}

/// Every sentence of `hits` (and every pair of neighbouring sentences, and a vote's whole run)
/// scored as an answer to `question`, whose content words are `terms`; best first.
fn rank<'a>(question: &str, terms: &[QueryTerm], hits: &'a [Hit]) -> Vec<Candidate<'a>> {
    let kind = QuestionKind::of(question);
    let asked = asked(question);
    let outcome = asks_outcome(question);
    let names = names(question, terms);
    // The fact asked for counts as a word of the question, weighing as much as an average one:
    // "hvor mange elever" is covered by a sentence naming the pupils only with their number.
    let asked_weight = if kind.asks_quantity() { terms.iter().map(|t| t.weight).sum::<f32>() / terms.len().max(1) as f32 } else { 0.0 };
    let mut candidates: Vec<Candidate> = Vec::new();
    for (rank, hit) in hits.iter().enumerate() {
        let topic = stems_of(&format!("{} {}", hit.title, hit.heading));
        let passage = stems_of(&hit.text);
        // A passage about something else than what the question names ("Hvem er formand for
        // Teknisk Udvalg?" is not answered by a rule about chairs in general) does not answer
        // it: it names one of those things, in its title or heading or text.
        if !names.is_empty() && !names.iter().any(|n| n.held(|s| topic.contains(s) || passage.contains(s))) {
            continue;
        }
        // A sentence answers within its passage: question words its title or heading hold
        // (which item it is) or that its neighbours hold count for it too, for less than
        // its own.
        let context: Vec<f32> = terms
            .iter()
            .map(|t| {
                if t.stems.iter().any(|s| topic.contains(s)) {
                    TOPIC_CREDIT
                } else if t.stems.iter().any(|s| passage.contains(s)) {
                    PASSAGE_CREDIT
                } else {
                    0.0
                }
            })
            .collect();
        let total: f32 = terms.iter().map(|t| t.weight).sum::<f32>() + asked_weight;
        let heading_line = flow(hit.heading.rsplit(" › ").next().unwrap_or_default());
        let title = flow(&hit.title);
        // A heading run into the first sentence of its section (a long heading line is taken
        // for wrapped text) is not part of that sentence.
        let single: Vec<std::ops::Range<usize>> = sentences(&hit.text).into_iter().flat_map(|r| after_heading(&hit.text, r, &heading_line)).collect();
        let held: Vec<Vec<f32>> = single
            .iter()
            .map(|r| {
                let text = &hit.text[r.clone()];
                let mut held = holds(terms, &stems_of(text));
                // "Hvad koster ...?" is answered by an amount of money, whatever words
                // surround it.
                if MONEY.is_match(text) {
                    for (h, t) in held.iter_mut().zip(terms) {
                        if t.stems.iter().any(|s| cost_stems().contains(s)) {
                            *h = 1.0;
                        }
                    }
                }
                held
            })
            .collect();
        let mut windows: Vec<(usize, usize, f32)> = (0..single.len()).map(|i| (i, i, 0.0)).chain((1..single.len()).map(|i| (i - 1, i, PAIR_COST))).collect();
        // How members voted is told sentence by sentence ("A og B kunne tiltræde. C tog
        // forbehold. D kunne ikke tiltræde."): the whole run is the answer.
        if kind == QuestionKind::Vote {
            let votes: Vec<bool> = single
                .iter()
                .map(|r| {
                    let text = &hit.text[r.clone()];
                    kind.fact(text, &analysis::words(text), &asked) > 0.0
                })
                .collect();
            for (i, j) in runs(&votes) {
                // Its sentences are not quoted apart from it.
                windows.retain(|&(a, b, _)| b < i || a > j);
                windows.push((i, j, 0.0));
            }
        }
        for (a, b, cost) in windows {
            let range = single[a].start..single[b].end;
            let text = &hit.text[range.clone()];
            // A heading repeated in the text (however its lines wrap) names the item; it does
            // not answer.
            let flowing = flow(text);
            let repeats = |heading: &str| !heading.is_empty() && (flowing.starts_with(heading) || heading.starts_with(&flowing));
            if repeats(&heading_line) || repeats(&title) {
                continue;
            }
            // A list, or a question (a forespørgsel's "Spørgsmål 2: ...?"), is not an answer.
            if is_listing(text) || text.trim_end().ends_with('?') {
                continue;
            }
            // A sentence holding none of the question's words does not answer it.
            if !(0..terms.len()).any(|k| (a..=b).any(|s| held[s][k] > 0.0)) {
                continue;
            }
            let matched: f32 = terms.iter().enumerate().map(|(k, t)| t.weight * (a..=b).map(|s| held[s][k]).fold(context[k], f32::max)).sum();
            let words = analysis::words(text);
            let typed = kind.fact(text, &words, &asked);
            let coverage = if total > 0.0 { (matched + asked_weight * typed) / total } else { 0.0 };
            // Coverage decides; a sentence holding the kind of fact asked for (a number for
            // "hvor mange", a reason for "hvorfor", a vote for "hvordan stemte") and the
            // passage's rank weigh in.
            let rank_share = 1.0 - rank as f32 / hits.len().max(1) as f32;
            let score = coverage - cost + RANK_WEIGHT * rank_share + KIND_WEIGHT * typed;
            let proposed = outcome && only_proposed(hit, &words);
            candidates.push(Candidate { hit, rank, range, score, coverage, single: cost == 0.0, typed: typed > 0.0, proposed });
        }
    }
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.rank.cmp(&b.rank)).then(a.range.start.cmp(&b.range.start)));
    candidates
}

/// The sentence that leads the answer among `ranked` (best first), if the question is answered:
/// one sentence alone must cover `min` of it (two neighbouring sentences together match more
/// words of any question, answered or not), and a question asking how many or how much is not
/// answered by a sentence without a quantity, however many of its words it holds: such a
/// sentence leads. Nor is a question about an outcome answered by what was only proposed.
fn lead<'a, 'b>(ranked: &'b [Candidate<'a>], kind: QuestionKind, min: f32) -> Option<&'b Candidate<'a>> {
    let fits = |c: &Candidate| !c.proposed && (c.typed || !kind.asks_quantity());
    let answered = ranked.iter().any(|c| c.single && c.coverage >= min && fits(c));
    ranked.iter().find(|c| fits(c)).filter(|_| answered)
}

/// The sentences of `range` of `text` once the `heading` it begins with is taken off, numbering
/// aside ("4. Videreudvikling ..." heads the section; its sentence began "Videreudvikling ...
/// Udvalget drøftede ..."): what follows the heading is split again, its short lines (a case
/// number, a sub-title) now standing alone. Nothing when only the heading, or more of it, is left.
fn after_heading(text: &str, range: std::ops::Range<usize>, heading: &str) -> Vec<std::ops::Range<usize>> {
    let words: Vec<&str> = heading.split_whitespace().collect();
    // The heading's numbering ("4.", "Punkt 4:") may have been split off as a sentence of its own.
    let numbered = words.first().is_some_and(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()));
    let bare = if numbered { &words[1..] } else { &words[..] };
    let sentence = &text[range.clone()];
    for variant in [&words[..], bare] {
        if variant.len() < 2 || !sentence.split_whitespace().take(variant.len()).eq(variant.iter().copied()) {
            continue;
        }
        // Past the heading's words (whitespace-separated, so the rest begins at the next word).
        let mut rest = sentence;
        for _ in 0..variant.len() {
            rest = rest.trim_start();
            rest = &rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..];
        }
        let rest = rest.trim_start();
        // What goes on in lower case is the rest of a longer heading line.
        if rest.starts_with(char::is_lowercase) {
            return Vec::new();
        }
        let start = range.end - rest.len();
        return sentences(rest).into_iter().map(|r| start + r.start..start + r.end).collect();
    }
    vec![range]
}

/// Whether two candidates quote overlapping text of one document.
fn overlap(a: &Candidate, b: &Candidate) -> bool {
    a.hit.doc_id == b.hit.doc_id && {
        let (s, e) = (a.hit.span.start + a.range.start, a.hit.span.start + a.range.end);
        let (x, y) = (b.hit.span.start + b.range.start, b.hit.span.start + b.range.end);
        x < e && s < y
    }
}

/// The stems of the words of `text`.
fn stems_of(text: &str) -> HashSet<String> {
    analysis::words(text).iter().map(|w| analysis::stem_term(&w.lower)).collect()
}

/// What a word of the other part of a two-part question weighs, relative to its own.
const OTHER_PART: f32 = 0.3;

/// A question asking two things ("Hvor mange ..., og hvilke partier ...?"), split before the
/// second interrogative; `None` for one that asks one thing.
fn two_parts(question: &str) -> Option<[&str; 2]> {
    static SPLIT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        #[allow(clippy::expect_used)] // constant pattern
        regex::Regex::new(r"(?i),?\s+og\s+(hvad|hvor|hvem|hvilke|hvilken|hvilket|hvornår|hvordan|hvorfor)\b").expect("valid regex")
    });
    let m = SPLIT.find(question)?;
    let second = question[m.start()..].trim_start_matches([',', ' ']);
    let second = second.strip_prefix("og ").unwrap_or(second);
    let first = &question[..m.start()];
    (!analysis::content_words(first).is_empty() && !analysis::content_words(second).is_empty()).then_some([first, second])
}

/// An amount of money: "3,25 mio. kr.", "100.000 kr.", "5 mia. kroner".
static MONEY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    #[allow(clippy::expect_used)] // constant pattern
    regex::Regex::new(r"(?i)\d[\d.,]*\s*(mio\.?|mia\.?|millioner|milliarder|t\.)?\s*(kr\b|kroner)").expect("valid regex")
});

/// A date in figures: "29.09.2025", "1.10.25".
static NUMERIC_DATE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    #[allow(clippy::expect_used)] // constant pattern
    regex::Regex::new(r"\b\d{1,2}\.\d{1,2}\.\d{2,4}\b").expect("valid regex")
});

/// A time of day: "kl. 15.45", "kl 9".
static CLOCK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    #[allow(clippy::expect_used)] // constant pattern
    regex::Regex::new(r"(?i)\bkl\.?\s*\d{1,2}([.:]\d{2})?\b").expect("valid regex")
});

/// Words that put a question in the past ("Hvordan blev ...", "Hvad er der sket ...").
const PAST_WORDS: &[&str] = &["blev", "blevet", "var", "været", "har", "havde", "skete", "sket", "fik", "kom", "gik", "vedtog"];
/// Words that put it in the future ("Hvad skal der ske efter ...?"): plans are told before.
const FUTURE_WORDS: &[&str] = &["skal", "skulle", "vil", "ville", "forventes", "forventer", "forventet", "bliver", "kommer", "planlagt", "planlægges", "sker"];

/// A day the question, in the past tense, asks about what followed: "Hvordan blev ... efter
/// kommunalvalget den 18. november 2025", "Hvad er der sket siden 1.10.2025", "efter marts 2025"
/// (its first day); YYYY-MM-DD. A question about what will follow a day is not one: plans are
/// written before the day.
fn after_day(question: &str) -> Option<String> {
    let words = analysis::words(question);
    let past = any_of(&words, PAST_WORDS) || words.iter().any(|w| w.lower.chars().count() > 5 && w.lower.ends_with("ede"));
    if !past || any_of(&words, FUTURE_WORDS) {
        return None;
    }
    static AFTER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        #[allow(clippy::expect_used)] // constant pattern
        let months = MONTHS.join("|");
        regex::Regex::new(&format!(r"(?i)\b(?:efter|siden)\b[^?.;]{{0,40}}?(?:\b(\d{{1,2}})\.\s*({months})|\b({months})|\b(\d{{1,2}})\.(\d{{1,2}})\.)\s*(\d{{4}})\b"))
            .expect("valid regex")
    });
    let c = AFTER.captures(question)?;
    let month = |name: &str| MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name)).map(|i| i as u32 + 1);
    let number = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let (day, month) = match (c.get(2), c.get(3)) {
        (Some(name), _) => (number(1)?, month(name.as_str())?),
        (None, Some(name)) => (1, month(name.as_str())?),
        (None, None) => (number(4)?, number(5)?),
    };
    let year = number(6)?;
    chrono::NaiveDate::from_ymd_opt(year as i32, month, day).map(|d| d.format("%Y-%m-%d").to_string())
}

/// Something a question names: "Sundhedsråd Aarhus", "Unge, Job og Uddannelse".
struct Name {
    /// Its capitalised words that tell it apart (not those all over the archive), each as its
    /// stemmed forms (the word's and its OCR-damaged spellings').
    words: Vec<Vec<String>>,
    /// Its initials, stemmed, when it has two words or more ("uju").
    initials: Option<String>,
}

impl Name {
    /// Whether text holding the stems for which `has` is true names it: holds every word of it,
    /// or its initials.
    fn held(&self, has: impl Fn(&str) -> bool) -> bool {
        self.words.iter().all(|forms| forms.iter().any(|s| has(s))) || self.initials.as_deref().is_some_and(has)
    }
}

/// Least idf of a word that tells a name apart: one in more than about one passage in eight
/// ("Aarhus", "Byråd", "Kommune", "udvalg") names the archive's own council, which the laws it
/// follows do not name.
const NAME_IDF: f32 = 2.0;

/// The names in `question`, whose content words are `terms`: runs of capitalised words not
/// opening a sentence, with the short words between them ("Magistratsafdelingen for Sociale
/// Forhold", "Sundhed og Omsorg"); only those with a word that tells them apart.
fn names(question: &str, terms: &[QueryTerm]) -> Vec<Name> {
    let mut out = Vec::new();
    let mut run: Vec<analysis::Word> = Vec::new();
    let mut words = analysis::words(question).into_iter().peekable();
    let close = |run: &mut Vec<analysis::Word>, out: &mut Vec<Name>| {
        if run.is_empty() {
            return;
        }
        let initials = (run.len() > 1).then(|| analysis::stem_term(&run.iter().filter_map(|w| w.lower.chars().next()).collect::<String>()));
        let words: Vec<Vec<String>> = run
            .drain(..)
            .map(|w| analysis::stem_term(&w.lower))
            .filter_map(|stem| terms.iter().find(|t| t.stems[0] == stem && t.weight >= NAME_IDF).map(|t| t.stems.clone()))
            .collect();
        if !words.is_empty() {
            out.push(Name { words, initials });
        }
    };
    while let Some(w) = words.next() {
        if named(question, &w) {
            run.push(w);
        } else if !(NAME_JOINS.contains(&w.lower.as_str()) && !run.is_empty() && words.peek().is_some_and(|n| named(question, n))) {
            close(&mut run, &mut out);
        }
    }
    close(&mut run, &mut out);
    out
}

/// Whether `word` of `text` is written as a name: capitalised, not opening a sentence.
fn named(text: &str, word: &analysis::Word) -> bool {
    let opens = text[..word.from].trim_end().chars().last().is_none_or(|c| matches!(c, '.' | '?' | '!' | ':'));
    !opens && capitalised(text, word)
}

/// Short words within a name ("Sundhed og Omsorg", "Magistratsafdelingen for Sociale Forhold").
const NAME_JOINS: &[&str] = &["og", "for", "i", "af", "til"];

/// Words asking what came of something: who won, who was chosen or appointed, what was decided
/// or granted.
const OUTCOME_WORDS: &[&str] = &[
    "vandt", "vundet", "valgt", "valgte", "udpeget", "udpegede", "udnævnt", "udnævnte", "besluttede", "besluttet", "vedtog", "vedtaget", "godkendte", "godkendt",
    "tildelt", "tildelte", "afgjort", "udfaldet",
];
/// Words telling that something is only put forward: proposed, recommended, nominated.
const PROPOSAL_WORDS: &[&str] = &[
    "foreslår", "foreslås", "foreslået", "foreslog", "indstiller", "indstilles", "indstillet", "anbefaler", "anbefales", "nomineret", "nominerede", "nomineres",
    "kandidat", "kandidater",
];

/// Whether `question` asks what came of something ("Hvem vandt ...?", "Hvem er udpeget ...?",
/// "Hvornår vedtog byrådet ...?") rather than what was put forward ("Hvad foreslås ...?").
fn asks_outcome(question: &str) -> bool {
    let words = analysis::words(question);
    any_of(&words, OUTCOME_WORDS) && !any_of(&words, PROPOSAL_WORDS)
}

/// Whether a sentence of `hit` whose words are `words` tells of no outcome and only of something
/// put forward: it says so ("er nomineret til", "Rådmanden indstiller"), or it stands in an
/// agenda, whose items are proposals until the meeting decides them. A nomination does not say
/// who won, nor an agenda's recommendation whom the council appointed.
fn only_proposed(hit: &Hit, words: &[analysis::Word]) -> bool {
    !any_of(words, OUTCOME_WORDS) && (hit.kind == Kind::Dagsorden || any_of(words, PROPOSAL_WORDS))
}

/// Whether any of `words` is one of `list` (lower case).
fn any_of(words: &[analysis::Word], list: &[&str]) -> bool {
    words.iter().any(|w| list.contains(&w.lower.as_str()))
}

/// Whether `word` of `text` is written with a capital letter.
fn capitalised(text: &str, word: &analysis::Word) -> bool {
    text[word.from..word.to].chars().next().is_some_and(char::is_uppercase)
}

/// Words asking what something costs, stemmed.
fn cost_stems() -> &'static HashSet<String> {
    static STEMS: std::sync::OnceLock<HashSet<String>> = std::sync::OnceLock::new();
    STEMS.get_or_init(|| {
        ["koste", "koster", "kostede", "pris", "prisen", "beløb", "beløbet", "udgift", "udgifter", "udgiften", "omkostning", "omkostninger"].iter().map(|w| analysis::stem_term(w)).collect()
    })
}

/// Content words a question needs to stand alone; fewer, and it is read as a follow-up.
const STANDALONE_WORDS: usize = 4;

/// The question as a standalone query. A follow-up ("og hvad besluttede udvalget så?") names
/// too little to search on: it is completed with the content words of the member's earlier
/// questions, most recent first, until it has enough (or they run out). Extractive answers carry
/// the entities forward this way; the filters of the request apply to every turn.
pub fn standalone(req: &ChatRequest) -> String {
    let content = |text: &str| -> Vec<String> {
        analysis::content_words(text).into_iter().map(|w| text[w.from..w.to].to_string()).collect()
    };
    let question = req.question_text().to_string();
    let mut have = content(&question);
    if have.len() >= STANDALONE_WORDS {
        return question;
    }
    let mut extra: Vec<String> = Vec::new();
    let earlier = req.messages.iter().rev().skip(1).filter(|m| m.role == byraad_core::ChatRole::User);
    for m in earlier {
        for w in content(&m.content) {
            let lower = w.to_lowercase();
            if !have.iter().any(|h| h.to_lowercase() == lower) {
                have.push(w.clone());
                extra.push(w);
            }
        }
        if have.len() >= STANDALONE_WORDS {
            break;
        }
    }
    if extra.is_empty() { question } else { format!("{question} {}", extra.join(" ")) }
}

/// Sends a whole response: paragraph by paragraph, each preceded by the citations it is the
/// first to use.
fn send_whole(resp: &ChatResponse, sink: &mut dyn Sink) -> ControlFlow<()> {
    let mut sent: HashSet<usize> = HashSet::new();
    let paragraphs: Vec<&str> = resp.answer.split("\n\n").collect();
    for (i, p) in paragraphs.iter().enumerate() {
        for c in &resp.citations {
            if !sent.contains(&c.n) && p.contains(&format!("[{}]", c.n)) {
                sent.insert(c.n);
                sink.send(Event::Citation(c))?;
            }
        }
        let piece = if i == 0 { (*p).to_string() } else { format!("\n\n{p}") };
        sink.send(Event::Delta(&piece))?;
    }
    ControlFlow::Continue(())
}

fn join_warnings(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (a, b) => a.or(b),
    }
}

/// Longest standalone question taken from the language model.
const MAX_REWRITE_CHARS: usize = 500;

/// The conversation's last question rewritten by the language model to stand alone ("og hvad
/// besluttede udvalget så?" → "Hvad besluttede Teknisk Udvalg om ...?"), for retrieval.
fn rewrite(llm: &LlmClient, req: &ChatRequest) -> Result<String, LlmError> {
    let mut text = String::new();
    llm.complete(&prompt::rewrite_messages(req), &mut |piece| {
        text.push_str(piece);
        ControlFlow::Continue(())
    })?;
    let question = text.trim().trim_matches(['"', '»', '«', '“', '”']).trim().to_string();
    if question.is_empty() || question.chars().count() > MAX_REWRITE_CHARS || question.contains('\n') {
        return Err(LlmError::Malformed { url: llm.url().to_string(), message: format!("not one standalone question: {:?}", question.chars().take(80).collect::<String>()) });
    }
    tracing::debug!(%question, "follow-up rewritten");
    Ok(question)
}

/// What kind of fact a question asks for, from its interrogative and key words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuestionKind {
    /// "hvor mange", "hvor meget", "hvad koster": a number or amount.
    Amount,
    /// "hvornår": a date or time.
    When,
    /// "hvem": a person, a body or a party.
    Who,
    /// "hvad hedder", "hvad kaldes": a name.
    Name,
    /// "hvilke partier", "hvilket parti": party names or letters.
    Party,
    /// How members voted: "stemte", "fordelte", "forbehold", "tiltræde".
    Vote,
    /// What was decided: "besluttede", "vedtog", "udfaldet".
    Decision,
    /// "hvorfor": a reason.
    Why,
    /// Anything else.
    Other,
}

/// Words that number items rather than state amounts.
const NUMBERING_WORDS: &[&str] = &["punkt", "bilag", "slide", "side", "stk", "nr", "kapitel", "pkt", "anbefaling", "spor", "scenarie", "model", "fase"];

/// Words that give a reason.
const REASON_WORDS: &[&str] = &["fordi", "følge", "grund", "skyldes", "skyldtes", "derfor", "da", "idet", "årsag", "årsagen", "begrundelse", "begrundet", "pga"];

/// Words that report a vote or a reservation.
const VOTE_WORDS: &[&str] = &["tiltræde", "tiltrådte", "tiltrådt", "forbehold", "stemte", "stemmer", "imod", "undlod", "flertal", "mindretal", "enstemmigt", "anbefale", "anbefalede", "deltog", "forhindret"];
/// Words that report a decision.
const DECISION_WORDS: &[&str] = &[
    "besluttede", "besluttet", "beslutning", "vedtog", "vedtaget", "godkendte", "godkendt", "godkendes", "tiltrådt", "tiltrædes", "afvist", "afviste", "afvises", "indstillingen", "enige",
];
/// Danish parties by letter and name.
const PARTY_WORDS: &[&str] = &[
    "a", "b", "c", "f", "i", "k", "m", "o", "v", "ø", "å", "æ", "kf", "la", "df", "sf", "rv", "el", "dd", "socialdemokratiet", "venstre", "konservative",
    "radikale", "enhedslisten", "moderaterne", "alternativet", "liberal", "alliance", "danmarksdemokraterne", "socialistisk", "folkeparti",
];

impl QuestionKind {
    /// Whether the answer is a quantity ("hvor mange", "hvor meget", "hvad koster").
    fn asks_quantity(self) -> bool {
        self == Self::Amount
    }

    fn of(question: &str) -> Self {
        let q = question.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| q.contains(w));
        if has(&["hvilke partier", "hvilket parti", "hvilke af partierne"]) {
            Self::Party
        } else if has(&["stemte", "stemmer", "fordelte", "forbehold", "tiltræde", "tiltrådte", "imod"]) {
            Self::Vote
        } else if has(&["hvor mange", "hvor meget", "hvor stor", "koste", "beløb", "andel", "procent"]) {
            Self::Amount
        } else if has(&["hvornår", "hvilken dato", "frist"]) {
            Self::When
        } else if has(&["hvorfor"]) {
            Self::Why
        } else if has(&["hvem "]) {
            Self::Who
        } else if has(&["hvad hedder", "hvad hed ", "hvad kaldes", "hvad er navnet", "hvilket navn"]) {
            Self::Name
        } else if has(&["besluttede", "besluttet", "vedtog", "udfald", "beslutning", "enig"]) {
            Self::Decision
        } else {
            Self::Other
        }
    }

    /// 1 when `sentence` holds the kind of fact asked for (something the question does not
    /// already say), else 0.
    #[cfg(test)]
    fn bonus(self, sentence: &str, question: &str) -> f32 {
        self.fact(sentence, &analysis::words(sentence), &asked(question))
    }

    /// 1 when `sentence`, whose words are `words`, holds the kind of fact asked for and not among
    /// the question's words (`asked`, lower case), else 0.
    fn fact(self, sentence: &str, words: &[analysis::Word], asked: &HashSet<String>) -> f32 {
        let hit = match self {
            Self::Amount => quantity(sentence, words, asked),
            Self::When => time(sentence, words, asked),
            Self::Party => words.iter().any(|w| PARTY_WORDS.contains(&w.lower.as_str()) && capitalised(sentence, w)),
            Self::Vote => any_of(words, VOTE_WORDS),
            Self::Decision => any_of(words, DECISION_WORDS),
            Self::Why => any_of(words, REASON_WORDS),
            Self::Who | Self::Name => {
                // A name: two capitalised words in a row, not at the start, not asked about.
                words.windows(2).any(|p| p[0].from > 0 && [&p[0], &p[1]].iter().all(|w| capitalised(sentence, w) && !asked.contains(&w.lower)))
            }
            Self::Other => false,
        };
        if hit { 1.0 } else { 0.0 }
    }
}

/// The runs of three or more consecutive `true`s in `flags` (at most [`MAX_VOTE_RUN`] long), as
/// first and last index.
fn runs(flags: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        if !flags[i] {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < flags.len() && flags[j + 1] && j + 1 - i < MAX_VOTE_RUN {
            j += 1;
        }
        if j >= i + 2 {
            out.push((i, j));
        }
        i = j + 1;
    }
    out
}

/// Danish month names, which make a number a date.
const MONTHS: &[&str] = &["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober", "november", "december"];
/// Words that place something in time without a number.
const TIME_WORDS: &[&str] = &[
    "senest", "snarest", "primo", "medio", "ultimo", "foråret", "sommeren", "efteråret", "vinteren", "kvartal", "halvår", "årsskiftet", "straks", "løbende",
];
/// Units of time after a number ("inden 4 uger", "3-4 år").
const TIME_UNITS: &[&str] = &["dag", "dage", "dages", "hverdage", "uge", "uger", "ugers", "måned", "måneder", "måneders", "år", "års", "timer"];

/// The question's words, lower case: a fact the question itself gives is not an answer.
fn asked(question: &str) -> HashSet<String> {
    analysis::words(question).into_iter().map(|w| w.lower).collect()
}

/// Whether `word` lies inside a match of any of `spans` (byte ranges of `re` in the sentence).
fn inside(spans: &[std::ops::Range<usize>], word: &analysis::Word) -> bool {
    spans.iter().any(|m| m.start <= word.from && word.to <= m.end)
}

/// The byte ranges `re` matches in `text`.
fn matches(re: &regex::Regex, text: &str) -> Vec<std::ops::Range<usize>> {
    re.find_iter(text).map(|m| m.range()).collect()
}

/// Whether `sentence` (split into `words`) says when, beyond what the question (`asked`) says:
/// a date, a month, a year, a time of day, a span of time, a word like "senest" or "primo".
fn time(sentence: &str, words: &[analysis::Word], asked: &HashSet<String>) -> bool {
    let (dates, clocks) = (matches(&NUMERIC_DATE, sentence), matches(&CLOCK, sentence));
    words.iter().enumerate().any(|(i, w)| {
        if asked.contains(&w.lower) {
            return false;
        }
        let digits = !w.lower.is_empty() && w.lower.chars().all(|c| c.is_ascii_digit());
        let year = digits && w.lower.len() == 4 && (w.lower.starts_with("19") || w.lower.starts_with("20"));
        let span = digits && words.get(i + 1).is_some_and(|n| TIME_UNITS.contains(&n.lower.as_str()));
        MONTHS.contains(&w.lower.as_str()) || TIME_WORDS.contains(&w.lower.as_str()) || year || span || inside(&dates, w) || inside(&clocks, w)
    })
}

/// Words saying a number is about so many.
const APPROXIMATELY: &[&str] = &["ca", "cirka", "omkring", "over", "under", "knap", "godt", "næsten", "mindst", "højst", "alt"];
/// Number words that state a count.
const NUMBER_WORDS: &[&str] = &["to", "tre", "fire", "fem", "seks", "syv", "otte", "ni", "ti", "elleve", "tolv", "tyve", "hundrede", "tusind", "halvdelen"];

/// Whether `sentence` (split into `words`) states a quantity the question (`asked`) does not
/// give: a count, an amount, a share. Dates ("1. august 2026", "29.09.2025"), ordinals ("5.
/// årgang") and enumerators ("punkt 2", "§ 8", "1)") are not quantities.
fn quantity(sentence: &str, words: &[analysis::Word], asked: &HashSet<String>) -> bool {
    let (dates, clocks) = (matches(&NUMERIC_DATE, sentence), matches(&CLOCK, sentence));
    words.iter().enumerate().any(|(i, w)| {
        if asked.contains(&w.lower) {
            return false;
        }
        // A number word standing alone ("to gange", not "to-voksentimer").
        if NUMBER_WORDS.contains(&w.lower.as_str()) {
            return !sentence[w.to..].starts_with('-');
        }
        if !w.lower.chars().any(|c| c.is_ascii_digit()) {
            return false;
        }
        let after = &sentence[w.to..];
        let before = sentence[..w.from].trim_end();
        let prev = i.checked_sub(1).map(|p| words[p].lower.as_str());
        let next = words.get(i + 1).map(|n| n.lower.as_str());
        let ordinal = after.starts_with(".-") || after.strip_prefix('.').is_some_and(|r| r.starts_with(char::is_whitespace) && r.trim_start().starts_with(char::is_lowercase));
        // A year, unless it is said to be about so many ("ca. 2000 deltagere").
        let year = w.lower.len() == 4 && (w.lower.starts_with("19") || w.lower.starts_with("20")) && !prev.is_some_and(|p| APPROXIMATELY.contains(&p));
        let date = year || next.is_some_and(|n| MONTHS.contains(&n)) || prev.is_some_and(|p| MONTHS.contains(&p)) || inside(&dates, w);
        // Part of a name: "Pier 3", "Aarhus 2.0" (not "Små 30 timer" at the start).
        let named = i.checked_sub(1).is_some_and(|p| words[p].from > 0 && sentence[words[p].from..].starts_with(char::is_uppercase) && sentence[words[p].to..w.from].trim().is_empty());
        let clock = prev == Some("kl") || after.starts_with(':') || before.ends_with(':') || inside(&clocks, w);
        // "1." or "2)" opening a sentence numbers it; "17,4-udvalget", "2-årig" name things.
        let opening = before.chars().all(|c| !c.is_alphanumeric()) && after.starts_with(['.', ')']);
        let compound = after.strip_prefix('-').is_some_and(|r| r.starts_with(char::is_alphabetic));
        let numbering = opening || compound || after.starts_with(')') || prev.is_some_and(|p| NUMBERING_WORDS.contains(&p)) || before.ends_with('§');
        !(ordinal || date || clock || numbering || named)
    })
}

/// Longest quote of a named provision, in bytes; a longer one is cut at a sentence end.
const MAX_PROVISION_QUOTE: usize = 1200;

/// The end of the last sentence of `text` within `max` bytes (all of it when it fits; the first
/// sentence when even that is longer).
fn clip_at_sentence(text: &str, max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    let ends: Vec<usize> = sentences(text).into_iter().map(|r| r.end).collect();
    ends.iter().copied().rfind(|&e| e <= max).or(ends.first().copied()).unwrap_or(text.len())
}

/// Shortest part of a compound that counts as a question word.
const COMPOUND_MIN: usize = 6;
/// Credit for a question word found inside a compound of the sentence.
const PART_CREDIT: f32 = 0.7;
/// Credit for a compound question word holding a word of the sentence.
const WHOLE_CREDIT: f32 = 0.3;

/// How far `stems` (of a sentence) hold each question word: 1 the word itself (or an OCR
/// spelling); less when the word is part of a compound ("dispensation" in
/// "dispensationsansøgning") or a compound holds a word of the sentence.
fn holds(terms: &[QueryTerm], stems: &HashSet<String>) -> Vec<f32> {
    terms
        .iter()
        .map(|t| {
            if t.stems.iter().any(|s| stems.contains(s)) {
                1.0
            } else if t.stems.iter().any(|s| s.len() >= COMPOUND_MIN && stems.iter().any(|w| w.len() > s.len() && w.contains(s.as_str()))) {
                PART_CREDIT
            } else if t.stems.iter().any(|s| stems.iter().any(|w| w.len() >= COMPOUND_MIN && s.len() > w.len() && s.contains(w.as_str()))) {
                WHOLE_CREDIT
            } else {
                0.0
            }
        })
        .collect()
}

/// `text` with each run of whitespace one space, trimmed.
fn flow(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `text` lists rather than states: a table of contents (dotted leaders), a run of
/// slide or item numbers.
fn is_listing(text: &str) -> bool {
    if text.contains("....") || text.contains("…..") || text.contains("_____") {
        return true;
    }
    let words = analysis::words(text);
    // "3,25" and "2.5" are one number each ("15.000" is one word already).
    let continues_number = |w: &analysis::Word| {
        let before = &text.as_bytes()[..w.from];
        before.len() >= 2 && matches!(before[before.len() - 1], b'.' | b',') && before[before.len() - 2].is_ascii_digit()
    };
    let numbers = words.iter().filter(|w| w.lower.chars().all(|c| c.is_ascii_digit()) && !continues_number(w)).count();
    let words = words.iter().filter(|w| !continues_number(w)).count();
    words >= 20 && numbers * 5 >= words
}

/// The answer text and its citations: the chosen sentences quoted and grouped by document (in
/// the order of each document's best sentence), numbered in order of appearance.
fn compose(chosen: &[&Candidate]) -> (String, Vec<Citation>) {
    let mut groups: Vec<Vec<&Candidate>> = Vec::new();
    for c in chosen {
        match groups.iter_mut().find(|g| g[0].hit.doc_id == c.hit.doc_id) {
            Some(g) => g.push(c),
            None => groups.push(vec![c]),
        }
    }
    let mut paragraphs = Vec::new();
    let mut citations: Vec<Citation> = Vec::new();
    for group in groups {
        let first = group[0].hit;
        let same_item = group.iter().all(|c| c.hit.item == first.item);
        let mut header = first.title.clone();
        if same_item && let Some(item) = &first.item {
            header.push_str(&item_label(item));
        }
        // The answer reads a quote with its line breaks (wrapped lines of the source) as
        // spaces; the citation keeps it verbatim.
        let mut lines = Vec::new();
        for c in &group {
            let n = citations.len() + 1;
            let citation = cite(n, c);
            let label = match (&c.hit.item, same_item) {
                (Some(item), false) => format!("{}: ", item_name(item)),
                _ => String::new(),
            };
            lines.push(format!("{label}»{}« [{n}]", flow(&citation.quote)));
            citations.push(citation);
        }
        paragraphs.push(if lines.len() == 1 { format!("Ifølge {header}: {}", lines[0]) } else { format!("Ifølge {header}:\n- {}", lines.join("\n- ")) });
    }
    (paragraphs.join("\n\n"), citations)
}

/// The citation of a chosen sentence.
fn cite(n: usize, c: &Candidate) -> Citation {
    let hit = c.hit;
    Citation {
        n,
        doc_id: hit.doc_id.clone(),
        chunk_id: hit.chunk_id.clone(),
        title: hit.title.clone(),
        kind: hit.kind,
        body: hit.body.clone(),
        date: hit.date.clone(),
        item: hit.item.clone(),
        page: hit.page,
        source: hit.source.clone(),
        quote: hit.text[c.range.clone()].to_string(),
        span: Span::new(hit.span.start + c.range.start, hit.span.start + c.range.end),
    }
}

/// "Punkt 5" for an agenda item number, "§ 8, stk. 4" or "B1.4" as they are.
fn item_name(item: &str) -> String {
    if item.chars().all(|c| c.is_ascii_digit()) { format!("Punkt {item}") } else { item.to_string() }
}

/// ", punkt 5" for an agenda item number, ", § 8, stk. 4" or ", B1.4" as they are.
pub fn item_label(item: &str) -> String {
    if item.chars().all(|c| c.is_ascii_digit()) { format!(", punkt {item}") } else { format!(", {item}") }
}

/// The abstention text, naming the nearest documents; `proposed` when they only tell what was
/// put forward.
fn abstention(hits: &[Hit], after: Option<&str>, proposed: bool) -> String {
    let mut titles: Vec<&str> = Vec::new();
    for h in hits {
        if !titles.contains(&h.title.as_str()) {
            titles.push(&h.title);
        }
    }
    let none = match after {
        Some(day) => format!("Arkivet har ingen dokumenter fra {} eller senere, der svarer på spørgsmålet.", danish_day(day)),
        None if titles.is_empty() => return "Arkivet indeholder ikke et svar på spørgsmålet, og ingen dokumenter ligner det.".into(),
        None if proposed => "Arkivet siger ikke, hvad udfaldet blev: det nævner kun et forslag, en indstilling eller en nominering.".to_string(),
        None => "Arkivet indeholder ikke et klart svar på spørgsmålet.".to_string(),
    };
    if titles.is_empty() {
        return format!("{none} Ingen dokumenter ligner det.");
    }
    format!("{none} De nærmeste dokumenter er: {}.", titles.iter().take(3).copied().collect::<Vec<_>>().join("; "))
}

/// A day (YYYY-MM-DD) as Danish prose: "18. november 2025".
fn danish_day(day: &str) -> String {
    match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        Ok(d) => {
            use chrono::Datelike;
            format!("{}. {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
        }
        Err(_) => day.to_string(),
    }
}

/// Where an answer's evidence may come from, beyond the request's filters.
#[derive(Default)]
struct Scope {
    /// The evidence is limited to documents dated on or after this day (YYYY-MM-DD).
    after: Option<String>,
    /// The search without that limit: the nearest passages of any date are listed when nothing
    /// within it answers.
    unscoped: Option<SearchRequest>,
}

impl Scope {
    /// The abstention for a question nothing in `found` answers, listing the nearest passages
    /// (those of any date, searched for now, when the evidence was limited to later documents);
    /// `proposed` when what would have answered only puts forward what the question asks the
    /// outcome of.
    fn abstain(&self, retriever: &Retriever, found: &SearchResponse, mode: AnswerMode, proposed: bool, warning: Option<String>) -> ChatResponse {
        let nearest = self.unscoped.as_ref().and_then(|search| {
            retriever.search(search).map_err(|e| tracing::warn!(error = %e, "search for the nearest documents of any date failed")).ok()
        });
        let related = nearest.map_or_else(|| found.hits.clone(), |n| n.hits);
        ChatResponse { answer: abstention(&related, self.after.as_deref(), proposed), abstained: true, mode, citations: Vec::new(), related, warning }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use byraad_core::{ChatRole, Message};

    fn conversation(turns: &[(ChatRole, &str)]) -> ChatRequest {
        ChatRequest { messages: turns.iter().map(|(role, c)| Message { role: *role, content: (*c).to_string() }).collect(), ..ChatRequest::default() }
    }

    #[test]
    fn an_amount_of_money_answers_what_something_costs() {
        for amount in ["ca. 3,25 mio. kr. årligt", "100.000 kr. pr. år", "5 mia. kroner", "12 mio.kr."] {
            assert!(MONEY.is_match(amount), "{amount}");
        }
        for not in ["5 gange", "25 medlemmer", "kr. 5"] {
            assert!(!MONEY.is_match(not), "{not}");
        }
        for word in ["koste", "koster", "udgifterne", "prisen"] {
            assert!(cost_stems().contains(&analysis::stem_term(word)), "{word}");
        }
        assert!(!cost_stems().contains(&analysis::stem_term("medlemmer")));
    }

    #[test]
    fn quantities_are_counts_and_amounts_not_dates_or_numbering() {
        let q = "Hvor mange elever forventes at gå på skolen, når den åbner i august 2026?";
        assert_eq!(QuestionKind::of(q), QuestionKind::Amount);
        for yes in [
            "Skolen får plads til 700 elever.",
            "Der er indkommet i alt 1149 høringssvar.",
            "Forbruget nedbringes med 1,9% årligt.",
            "Det koster ca. 3,25 mio. kr. om året.",
            "Udvalget mødes to gange årligt.",
            "Omkring 75 — 80 % af arrangementerne godkendes.",
            "Et arrangement med ca. 2000 deltagere.",
            "Små 30 timer har byrådet brugt.",
        ] {
            assert_eq!(QuestionKind::Amount.bonus(yes, q), 1.0, "{yes}");
        }
        for no in [
            "Når skolen åbner 1. august 2026, flytter Elev Skole ind.",
            "Skolen har elever på 0.-5. årgang.",
            "Beslutningsforslag V, KF og DD 29.09.2025",
            "Mødet begynder kl. 16:00 i byrådssalen.",
            "Referat 1. oktober 2025 kl. 15.45",
            "Det fremgår af punkt 4 og bilag 2.",
            "Sagen behandles efter § 11 i loven.",
            "At 1) Byrådet godkender planen.",
            "Skolen åbner i august 2026.",
            "Som en del af budgetforlig 2024 blev det vedtaget.",
            "Der er grønne områder på Pier 3.",
            "1. I forbindelse med introduktionen har §17,4-udvalget haft fokus på byrådet.",
            "Skolerne får flere to-voksentimer.",
        ] {
            assert_eq!(QuestionKind::Amount.bonus(no, q), 0.0, "{no}");
        }
    }

    #[test]
    fn times_are_dates_spans_and_deadlines_not_counts() {
        let q = "Hvornår får Havnens Perle en permanent placering?";
        assert_eq!(QuestionKind::of(q), QuestionKind::When);
        for yes in [
            "Den 9. april 2025 behandlede byrådet forslaget.",
            "Tidsplan: første delrapport inden 4 uger.",
            "Beslutningsforslag V, KF og DD 29.09.2025",
            "Efter 3-4 år oplever flere, at det bliver vanskeligt.",
            "Dagsordenen udsendes senest 4 hverdage før mødet.",
            "Mødet begynder kl. 16:00.",
        ] {
            assert_eq!(QuestionKind::When.bonus(yes, q), 1.0, "{yes}");
        }
        for no in ["Havnens Perle er blevet smidt rundt 5 gange", "Model C er en 51 meter lang bro.", "Havnens Perle skal have en permanent placering."] {
            assert_eq!(QuestionKind::When.bonus(no, q), 0.0, "{no}");
        }
    }

    #[test]
    fn questions_in_two_parts_are_split_before_the_second_interrogative() {
        assert_eq!(
            two_parts("Hvor mange høringssvar kom der til planen, og hvilke partier har stillet et ændringsforslag?"),
            Some(["Hvor mange høringssvar kom der til planen", "hvilke partier har stillet et ændringsforslag?"])
        );
        assert_eq!(two_parts("Hvem er han i dialog med og hvor langt ud i fremtiden rækker det?"), Some(["Hvem er han i dialog med", "hvor langt ud i fremtiden rækker det?"]));
        assert_eq!(two_parts("Hvad besluttede byrådet om Havnens Perle og Pier 3?"), None, "one question about two things");
        assert_eq!(two_parts("Hvornår og hvordan?"), None, "no words to answer either part with");
    }

    #[test]
    fn a_question_about_what_followed_a_day_names_it() {
        assert_eq!(after_day("Hvordan blev mandatfordelingen efter kommunalvalget den 18. november 2025?").as_deref(), Some("2025-11-18"));
        assert_eq!(after_day("Hvad er der sket siden 1.10.2025?").as_deref(), Some("2025-10-01"));
        assert_eq!(after_day("Hvad besluttede udvalget efter marts 2025?").as_deref(), Some("2025-03-01"));
        assert_eq!(after_day("Hvad besluttede byrådet den 27. august 2025?"), None, "on the day, not after it");
        assert_eq!(after_day("Hvad skal der ske efterfølgende, og hvornår var mødet den 2. juni 2025?"), None);
        assert_eq!(after_day("Hvad sker der efter udskrivelse? Mødet var den 2. juni 2025."), None, "the day belongs to another sentence");
        assert_eq!(after_day("Hvad skete der efter den 31. februar 2025?"), None, "no such day");
        assert_eq!(after_day("Hvad besluttede udvalget efter mødet den 2. juni 2025?").as_deref(), Some("2025-06-02"));
        assert_eq!(after_day("Hvad skal der ske med skolen efter 1. august 2026?"), None, "plans are written before the day");
        assert_eq!(after_day("Hvad sker der med eleverne efter 1. august 2026?"), None);
        assert_eq!(after_day("Hvordan bliver mandatfordelingen efter valget den 18. november 2025?"), None);
        assert_eq!(danish_day("2025-11-18"), "18. november 2025");
        assert_eq!(danish_day("2026-01-05"), "5. januar 2026");
    }

    #[test]
    fn runs_are_three_or_more_in_a_row() {
        assert_eq!(runs(&[true, true, false, true, true, true, false, true]), vec![(3, 5)]);
        assert_eq!(runs(&[false, true, true, true, true]), vec![(1, 4)]);
        assert_eq!(runs(&[true; 8]), vec![(0, MAX_VOTE_RUN - 1)]);
        assert!(runs(&[]).is_empty());
    }

    #[test]
    fn follow_ups_carry_the_earlier_question_forward() {
        let req = conversation(&[
            (ChatRole::User, "Hvad foreslog Dansk Folkeparti om Havnens Perle?"),
            (ChatRole::Assistant, "Ifølge referatet ... [1]"),
            (ChatRole::User, "og hvad besluttede byrådet så?"),
        ]);
        let q = standalone(&req);
        assert!(q.starts_with("og hvad besluttede byrådet så?"), "{q}");
        assert!(q.contains("Havnens") && q.contains("Perle"), "{q}");
        assert!(!q.contains("referatet"), "the assistant's turns are not carried: {q}");
    }

    #[test]
    fn question_kinds_reward_the_fact_asked_for() {
        let q = "Hvor mange gange er Havnens Perle blevet flyttet?";
        assert_eq!(QuestionKind::of(q), QuestionKind::Amount);
        assert_eq!(QuestionKind::Amount.bonus("Havnens Perle er blevet smidt rundt 5 gange", q), 1.0);
        assert_eq!(QuestionKind::Amount.bonus("Havnens Perle er blevet smidt rundt", q), 0.0);
        let q = "Hvorfor skal projektet ændres?";
        assert_eq!(QuestionKind::of(q), QuestionKind::Why);
        assert_eq!(QuestionKind::Why.bonus("Ændringen sker som følge af, at projektet er sat på pause.", q), 1.0);
        let q = "Hvordan fordelte udvalgets medlemmer sig?";
        assert_eq!(QuestionKind::of(q), QuestionKind::Vote);
        assert_eq!(QuestionKind::Vote.bonus("Jakob Søgaard Clausen tog forbehold.", q), 1.0);
        let q = "Hvem hos Bricks er han i dialog med?";
        assert_eq!(QuestionKind::Who.bonus("Jeg har en fin dialog med Martin Busk fra Bricks.", q), 1.0);
        assert_eq!(QuestionKind::Who.bonus("Dialogen med Bricks er god.", q), 0.0);
        let q = "Hvad hedder velkomstarrangementet for nye borgere?";
        assert_eq!(QuestionKind::of(q), QuestionKind::Name);
        assert_eq!(QuestionKind::Name.bonus("Aarhus City Welcome. Et arrangement med ca. 2000 deltagere.", q), 1.0);
        assert_eq!(QuestionKind::Name.bonus("Et arrangement med ca. 2000 deltagere.", q), 0.0);
        assert_eq!(QuestionKind::of("Hvilke partier står bag forslaget?"), QuestionKind::Party);
        assert_eq!(QuestionKind::Party.bonus("Forslag fra V, KF og LA.", "Hvilke partier står bag forslaget?"), 1.0);
    }

    fn hit(kind: Kind, title: &str, text: &str) -> Hit {
        Hit {
            chunk_id: format!("c-{}", text.len()),
            doc_id: format!("d-{title}"),
            title: title.into(),
            kind,
            body: String::new(),
            date: None,
            item: None,
            case: None,
            page: None,
            heading: String::new(),
            source: String::new(),
            text: text.into(),
            snippet: String::new(),
            score: 1.0,
            span: Span { start: 0, end: text.len() },
            retrievers: Vec::new(),
            merged: Vec::new(),
        }
    }

    /// The content words of `question` weighted as in an archive where the council's own name
    /// is everywhere and other words are rare.
    fn weighted(question: &str) -> Vec<QueryTerm> {
        let everywhere = ["aarhus", "byråd", "byråds", "kommune", "udvalg"].map(analysis::stem_term);
        content_terms(question).into_iter().map(|t| QueryTerm { weight: if everywhere.contains(&t.stems[0]) { 1.0 } else { 3.0 }, ..t }).collect()
    }

    /// The quote leading the answer to `question` from `hits`, if answered.
    fn leading(question: &str, hits: &[Hit]) -> Option<String> {
        let ranked = rank(question, &weighted(question), hits);
        lead(&ranked, QuestionKind::of(question), AnswerConfig::default().min_coverage).map(|c| c.hit.text[c.range.clone()].to_string())
    }

    #[test]
    fn questions_about_an_outcome_are_not_answered_by_a_proposal() {
        for q in ["Hvem vandt prisen for årets byrum?", "Hvem er udpeget som formand for ældrerådet?", "Hvornår vedtog byrådet planen?"] {
            assert!(asks_outcome(q), "{q}");
        }
        for q in ["Hvilke byer er nomineret til prisen for årets byrum?", "Hvem foreslås som formand?", "Hvad koster planen?"] {
            assert!(!asks_outcome(q), "{q}");
        }
        let minutes = |text: &str| hit(Kind::Referat, "Referat, Kulturudvalget", text);
        let q = "Hvem vandt prisen for årets byrum?";
        let nominated = minutes("Udvalget blev orienteret om, at Aarhus og Odense er nomineret til prisen for årets byrum.");
        assert_eq!(leading(q, std::slice::from_ref(&nominated)), None);
        let won = minutes("Prisen for årets byrum blev vundet af Odense.");
        assert_eq!(leading(q, &[nominated.clone(), won]).as_deref(), Some("Prisen for årets byrum blev vundet af Odense."));
        // What an agenda recommends is not yet decided; what it reports as decided is.
        let q = "Hvem er udpeget som formand for ældrerådet?";
        let agenda = |text: &str| hit(Kind::Dagsorden, "Dagsorden, Aarhus Byråd", text);
        assert_eq!(leading(q, &[agenda("At rådmanden for Sundhed og Omsorg er formand for ældrerådet.")]), None);
        let reported = "Byrådet udpegede i 2024 rådmanden for Sundhed og Omsorg som formand for ældrerådet.";
        assert_eq!(leading(q, &[agenda(reported)]).as_deref(), Some(reported));
        // A question about the proposal itself is answered by it.
        let q = "Hvilke byer er nomineret til prisen for årets byrum?";
        assert!(leading(q, &[nominated]).is_some());
    }

    #[test]
    fn what_a_question_names_its_answer_names_too() {
        let law = hit(Kind::Lov, "Kommunestyrelsesloven", "Formanden for et stående udvalg vælges af udvalgets medlemmer.");
        let q = "Hvem er formand for Teknisk Udvalg?";
        assert_eq!(leading(q, std::slice::from_ref(&law)), None, "a rule about chairs in general does not say who chairs Teknisk Udvalg");
        let minutes = hit(Kind::Referat, "Referat, Teknisk Udvalg", "Formanden bød velkommen, og udvalget konstituerede sig.");
        assert!(leading(q, &[law.clone(), minutes]).is_some_and(|l| l.starts_with("Formanden bød")), "its passage's title names it");
        // Written in lower case, nothing is asked by name.
        assert!(leading("hvem er formand for et stående udvalg?", &[law]).is_some());
        // The council's own name is everywhere in its archive; the laws it follows do not name it.
        let law = hit(Kind::Lov, "Kommunestyrelsesloven", "Dagsordenen udsendes senest 4 hverdage før mødet til kommunalbestyrelsens medlemmer.");
        assert!(leading("Hvornår udsendes dagsordenen til Aarhus Byråds medlemmer?", std::slice::from_ref(&law)).is_some());
        assert_eq!(leading("Hvornår udsendes dagsordenen til Silkeborg Byråds medlemmer?", &[law]), None);
        // A name may be written by its initials.
        let initials = |q: &str| names(q, &weighted(q)).into_iter().map(|n| n.initials).collect::<Vec<_>>();
        assert_eq!(initials("Hvad skal Unge, Job og Uddannelse undersøge med Borgmesterens Afdeling?"), [Some("uju".to_string()), Some("ba".to_string())]);
        assert_eq!(initials("Hvad mener Randers og i Odense?"), [None, None], "a short word joins only capitalised words next to it");
        let note = hit(Kind::Notat, "Notat", "UJU undersøger vejledningen af de unge.");
        assert!(leading("Hvad skal Unge, Job og Uddannelse undersøge?", &[note]).is_some());
    }

    #[test]
    fn compounds_hold_their_parts() {
        let terms: Vec<QueryTerm> = ["dispensation", "asbestoprydningen", "metro"]
            .iter()
            .map(|w| QueryTerm { stems: vec![analysis::stem_term(w)], weight: 1.0 })
            .collect();
        let stems = |t: &str| -> HashSet<String> { analysis::words(t).iter().map(|w| analysis::stem_term(&w.lower)).collect() };
        assert_eq!(holds(&terms, &stems("Der sendes en dispensationsansøgning om asbesten")), vec![PART_CREDIT, WHOLE_CREDIT, 0.0]);
        assert_eq!(holds(&terms, &stems("Metroen koster 20 mia. kr.")), vec![0.0, 0.0, 1.0]);
        assert_eq!(holds(&terms, &stems("metrostationer")), vec![0.0, 0.0, 0.0], "parts shorter than six letters do not count");
    }

    #[test]
    fn a_heading_run_into_its_first_sentence_is_taken_off() {
        let split = |text: &str, heading: &str| -> Vec<String> {
            sentences(text).into_iter().flat_map(|r| after_heading(text, r, heading)).map(|r| text[r].to_string()).collect()
        };
        let text = "4. Videreudvikling af prøvehandlinger i arbejdsgrupper\nUdvalget drøftede i plenum de to prøvehandlinger. Følgende kom frem.";
        assert_eq!(split(text, "4. Videreudvikling af prøvehandlinger i arbejdsgrupper"), ["Udvalget drøftede i plenum de to prøvehandlinger.", "Følgende kom frem."]);
        let text = "Punkt 33: Forslag fra V, KF, LA og DD om konsekvenser af lukning af Vesterbro Torv\nEMN-2025-010810\nBESLUTNINGSFORSLAG FRA V, KF, LA OG DD\nVenstre foreslår en evaluering af lukningen.";
        assert_eq!(
            split(text, "Punkt 33: Forslag fra V, KF, LA og DD om konsekvenser af lukning af Vesterbro Torv"),
            ["EMN-2025-010810", "BESLUTNINGSFORSLAG FRA V, KF, LA OG DD", "Venstre foreslår en evaluering af lukningen."]
        );
        assert!(split("Drøftelse af den erhvervsrettede vejledning (30 min)", "Drøftelse af den").is_empty(), "the rest of a longer heading line");
        assert_eq!(split("Udvalget drøftede sagen grundigt.", "4. Aktuelt"), ["Udvalget drøftede sagen grundigt."]);
    }

    #[test]
    fn listings_are_not_answers() {
        assert!(is_listing("Bro mellem Dokk1 og Balticagade.........................17"));
        assert!(is_listing("- 23 Styrkelse af det sociale område - 23 Belysning A - 24 Styrkelse af socialområdet - 24 Belysning A - 25 Ældre - 25 Belysning A - 26 Ny model"));
        assert!(!is_listing("Med Budget 2024 videreføres og udbredes Opgang til Opgang til også at omfatte Viby og Tilst."));
        assert!(!is_listing("De samlede udgifter i Familiecentret er dog steget fra 148 mio. kr. til 161 mio. kr. pr. kvartal."));
        assert!(!is_listing("Pga. nedgang i budgettet/besparelse er det maksimale belgb nedsat fra tidligere 15.000 kr. til nu 5.000 kr."));
    }

    #[test]
    fn standalone_questions_are_left_alone() {
        let req = conversation(&[
            (ChatRole::User, "Hvad foreslog Dansk Folkeparti om Havnens Perle?"),
            (ChatRole::Assistant, "..."),
            (ChatRole::User, "Hvornår skal dagsordenen til kommunalbestyrelsens møder udsendes?"),
        ]);
        assert_eq!(standalone(&req), "Hvornår skal dagsordenen til kommunalbestyrelsens møder udsendes?");
        assert_eq!(standalone(&ChatRequest::question("habilitet")), "habilitet");
    }
}

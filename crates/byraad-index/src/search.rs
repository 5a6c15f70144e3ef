//! Query construction and execution.
//!
//! A query's words are analysed like the text. Each remaining word contributes, as optional
//! clauses: its stemmed term in the text (weight 1), its exact folded form (a small bonus, so the
//! word as typed ranks above its inflections and OCR repairs), the same term in section headings
//! and the title, and its OCR-damaged spellings that occur in the index ([`ocr_variants`]),
//! weighted below the word itself. Neighbouring query words found near each other add a phrase
//! bonus; a case number in the query matches the section's case. Filters are required clauses of
//! the same query, scored zero, so they restrict the search rather than its results.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::LazyLock;
use std::time::Instant;

use byraad_core::{Clearance, Hit, Kind, Mode, SearchRequest, SearchResponse, Span};
use regex::Regex;
use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::query::{Bm25StatisticsProvider, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DateTime, Searcher, TantivyDocument, Term};

use crate::analysis::{self, DanishTokenizer, ocr_variants};
use crate::schema::REC_CHUNK;
use crate::{Error, LexicalIndex, Result};

/// Weight of a word's exact (unstemmed) form on top of its stem.
const EXACT_BONUS: f32 = 0.3;
/// Characters in a snippet.
const SNIPPET_CHARS: usize = 240;

#[allow(clippy::expect_used)] // constant pattern
static CASE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\bEMN-\d{4}-\d{6}\b").expect("valid regex"));

type Clauses = Vec<(Occur, Box<dyn Query>)>;
/// A scoring query (none when the text has no searchable word) and the terms to highlight.
type Scoring = (Option<Box<dyn Query>>, BTreeMap<String, f32>);

fn boosted(q: impl Query, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(Box::new(q), boost))
}

impl LexicalIndex {
    /// Runs a lexical search. The request is validated against the configured limits first.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse> {
        let started = Instant::now();
        req.validate(self.config.max_limit)?;
        let hits = self.lexical_hits(req, req.limit())?;
        Ok(SearchResponse { hits, took_ms: elapsed_ms(started), mode: Mode::Lexical, warning: None })
    }

    /// Inverse document frequency of each stemmed term (`analysis::stem_term`) among chunk
    /// texts: `ln(1 + (N - n + 0.5) / (n + 0.5))`, BM25's idf.
    /// Counted over the chunks `clearance` may read, so that what it cannot read does not
    /// shape its answers.
    pub fn idf(&self, terms: &[String], clearance: &Clearance) -> Result<Vec<f32>> {
        let searcher = self.reader.searcher();
        let stats = ReadableStatistics::new(&searcher, self.readable(clearance))?;
        let n = stats.count(&crate::term_query(self.fields.rec, crate::schema::REC_CHUNK))? as f32;
        terms
            .iter()
            .map(|t| {
                let df = stats.doc_freq(&Term::from_field_text(self.fields.text, t))? as f32;
                Ok((1.0 + (n - df + 0.5) / (df + 0.5)).ln())
            })
            .collect()
    }

    /// The best `limit` chunks for `req` by BM25 over the Danish analysis, filters applied.
    pub fn lexical_hits(&self, req: &SearchRequest, limit: usize) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        let stats = ReadableStatistics::new(&searcher, self.readable(&req.clearance))?;
        let (scoring, highlight) = self.scoring_query(&stats, &req.query)?;
        let Some(scoring) = scoring else { return Ok(Vec::new()) };
        let mut clauses: Clauses = vec![(Occur::Must, scoring)];
        for filter in self.filter_queries(req)? {
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
        }
        let query = BooleanQuery::new(clauses);
        let top = searcher.search_with_statistics_provider(&query, &TopDocs::with_limit(limit).order_by_score(), &stats)?;
        let snippets = self.snippets(highlight);
        top.into_iter()
            .map(|(score, address)| {
                let stored: TantivyDocument = searcher.doc(address)?;
                self.hit(&stored, score, &snippets, "lexical")
            })
            .collect()
    }

    /// Hits for chunk ids found by another retriever, in the given order, scored as given, with
    /// snippets highlighting the words of `req.query`. Ids unknown to the index (a vector written
    /// for a version whose commit never happened) are skipped, and so are chunks the caller may
    /// not read (the other retriever filtered them already; this keeps it so whatever it did).
    pub fn hits_for_chunks(&self, req: &SearchRequest, chunks: &[(String, f32)], retriever: &str) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        let stats = ReadableStatistics::new(&searcher, self.readable(&req.clearance))?;
        let (_, highlight) = self.scoring_query(&stats, &req.query)?;
        let snippets = self.snippets(highlight);
        let readable = self.readable(&req.clearance);
        let mut out = Vec::with_capacity(chunks.len());
        for (chunk_id, score) in chunks {
            let mut must = vec![crate::term_query(self.fields.rec, REC_CHUNK), crate::term_query(self.fields.chunk_id, chunk_id)];
            must.extend(readable.as_ref().map(|q| q.box_clone()));
            let query = BooleanQuery::intersection(must);
            if let Some((_, address)) = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?.into_iter().next() {
                let stored: TantivyDocument = searcher.doc(address)?;
                out.push(self.hit(&stored, *score, &snippets, retriever)?);
            }
        }
        Ok(out)
    }

    fn snippets(&self, highlight: BTreeMap<String, f32>) -> SnippetGenerator {
        SnippetGenerator::new(highlight, TextAnalyzer::from(DanishTokenizer::stemming()), self.fields.text, SNIPPET_CHARS)
    }

    /// The scoring part of a query, and the terms to highlight with their weights.
    fn scoring_query(&self, stats: &ReadableStatistics<'_>, text: &str) -> Result<Scoring> {
        let f = &self.fields;
        let c = &self.config;
        let words: Vec<_> = analysis::content_words(text);
        let mut clauses: Clauses = Vec::new();
        let mut highlight = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for w in &words {
            let stem = analysis::stem_term(&w.lower);
            if !seen.insert(stem.clone()) {
                continue;
            }
            let term = |field| Term::from_field_text(field, &stem);
            clauses.push((Occur::Should, Box::new(TermQuery::new(term(f.text), IndexRecordOption::WithFreqs))));
            clauses.push((Occur::Should, boosted(TermQuery::new(Term::from_field_text(f.text_exact, &analysis::exact_term(&w.lower)), IndexRecordOption::WithFreqs), EXACT_BONUS)));
            clauses.push((Occur::Should, boosted(TermQuery::new(term(f.heading), IndexRecordOption::WithFreqs), c.heading_boost)));
            clauses.push((Occur::Should, boosted(TermQuery::new(term(f.title), IndexRecordOption::WithFreqs), c.title_boost)));
            highlight.insert(stem.clone(), 1.0);
            for variant in ocr_variants(&w.lower) {
                let v = analysis::stem_term(&variant);
                if v == stem || !seen.insert(v.clone()) {
                    continue;
                }
                let vt = Term::from_field_text(f.text, &v);
                if stats.doc_freq(&vt)? == 0 {
                    continue;
                }
                clauses.push((Occur::Should, boosted(TermQuery::new(vt, IndexRecordOption::WithFreqs), c.ocr_variant_boost)));
                highlight.insert(v, c.ocr_variant_boost);
            }
        }
        // Neighbouring content words near each other in the text.
        if c.phrase_boost > 0.0 {
            for pair in words.windows(2) {
                let (a, b) = (analysis::stem_term(&pair[0].lower), analysis::stem_term(&pair[1].lower));
                if a == b {
                    continue;
                }
                let gap = pair[1].position - pair[0].position;
                let phrase = PhraseQuery::new_with_offset_and_slop(
                    vec![(0, Term::from_field_text(f.text, &a)), (gap, Term::from_field_text(f.text, &b))],
                    c.phrase_slop,
                );
                clauses.push((Occur::Should, boosted(phrase, c.phrase_boost)));
            }
        }
        for case in CASE.find_iter(text) {
            let term = Term::from_field_text(f.case, &case.as_str().to_uppercase());
            clauses.push((Occur::Should, boosted(TermQuery::new(term, IndexRecordOption::Basic), c.case_boost)));
        }
        if clauses.is_empty() {
            return Ok((None, highlight));
        }
        Ok((Some(Box::new(BooleanQuery::new(clauses))), highlight))
    }

    /// Required clauses: chunk records only, those the caller may read, and the request's
    /// filters.
    fn filter_queries(&self, req: &SearchRequest) -> Result<Vec<Box<dyn Query>>> {
        let f = &self.fields;
        let filters = &req.filters;
        let mut out: Vec<Box<dyn Query>> = vec![crate::term_query(f.rec, REC_CHUNK)];
        out.extend(self.readable(&req.clearance));
        let any_of = |field, values: Vec<String>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                values
                    .into_iter()
                    .map(|v| (Occur::Should, crate::term_query(field, &v)))
                    .collect(),
            ))
        };
        if !filters.kind.is_empty() {
            out.push(any_of(f.kind, filters.kind.iter().map(|k: &Kind| k.as_str().to_string()).collect()));
        }
        if !filters.body.is_empty() {
            out.push(any_of(f.body, filters.body.iter().map(|b| b.to_lowercase()).collect()));
        }
        let (from, to) = (filters.date_from()?, filters.date_to()?);
        if from.is_some() || to.is_some() {
            let bound = |d: Option<chrono::NaiveDate>, inclusive: fn(Term) -> Bound<Term>| {
                d.and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|t| inclusive(Term::from_field_date_for_search(f.date, DateTime::from_timestamp_secs(t.and_utc().timestamp()))))
                    .unwrap_or(Bound::Unbounded)
            };
            out.push(Box::new(RangeQuery::new(bound(from, Bound::Included), bound(to, Bound::Included))));
        }
        if let Some(case) = &filters.case {
            out.push(crate::term_query(f.case, &case.trim().to_uppercase()));
        }
        Ok(out)
    }

    fn hit(&self, d: &TantivyDocument, score: f32, snippets: &SnippetGenerator, retriever: &str) -> Result<Hit> {
        let f = &self.fields;
        let get = |field| d.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let meta: serde_json::Value = serde_json::from_str(&get(f.meta)).map_err(|e| Error::Corrupt(format!("chunk metadata: {e}")))?;
        let text = get(f.text);
        let span: Span = serde_json::from_value(meta["span"].clone()).map_err(|e| Error::Corrupt(format!("chunk span: {e}")))?;
        let kind = get(f.kind).parse::<Kind>()?;
        let snippet = snippets.snippet(&text);
        let snippet_html = if snippet.fragment().is_empty() {
            html_escape(&text.chars().take(SNIPPET_CHARS).collect::<String>())
        } else {
            snippet.to_html()
        };
        Ok(Hit {
            chunk_id: get(f.chunk_id),
            doc_id: get(f.doc_id),
            title: meta["title"].as_str().unwrap_or_default().to_string(),
            kind,
            body: get(f.body),
            date: meta["date"].as_str().map(str::to_string),
            item: meta["item"].as_str().map(str::to_string),
            case: d.get_first(f.case).and_then(|v| v.as_str()).map(str::to_string),
            page: meta["page"].as_u64().and_then(|p| u32::try_from(p).ok()),
            heading: get(f.heading),
            source: get(f.source),
            text,
            snippet: snippet_html,
            score,
            span,
            retrievers: vec![retriever.to_string()],
            merged: Vec::new(),
            ocr: meta["ocr"].as_bool().unwrap_or(false),
            also: Vec::new(),
        })
    }
}

/// BM25's statistics over the records a clearance may read.
///
/// Scores weigh a word by how rare it is among the documents (idf) and a text by its length
/// against the average. Counted over the whole index, restricted documents would shift the
/// scores, and so the order, of what a principal without their groups can see, and a crafted
/// query could tell whether a closed document uses a word. Document counts, term counts and
/// token totals are therefore those of the readable records (token totals from the stored field
/// norms, which are exact for short texts and within a few per cent for long ones).
pub(crate) struct ReadableStatistics<'a> {
    searcher: &'a Searcher,
    readable: Option<Box<dyn Query>>,
    docs: u64,
    /// Readable records per segment, collected when a token total is first asked for (only
    /// scoring needs them; idf and highlighting do not).
    records: std::cell::OnceCell<Vec<Vec<tantivy::DocId>>>,
}

impl<'a> ReadableStatistics<'a> {
    pub(crate) fn new(searcher: &'a Searcher, readable: Option<Box<dyn Query>>) -> Result<Self> {
        let all = Self { searcher, readable: None, docs: Bm25StatisticsProvider::total_num_docs(searcher)?, records: std::cell::OnceCell::new() };
        let Some(q) = readable else { return Ok(all) };
        let docs = searcher.search(q.as_ref(), &Count)? as u64;
        // Everything is readable (no restricted record, or the principal reads them all): the
        // index's own statistics are the readable ones.
        if docs == searcher.num_docs() {
            return Ok(all);
        }
        Ok(Self { readable: Some(q), docs, ..all })
    }

    /// Readable records matching `query`.
    pub(crate) fn count(&self, query: &dyn Query) -> tantivy::Result<u64> {
        match &self.readable {
            None => Ok(self.searcher.search(query, &Count)? as u64),
            Some(r) => Ok(self.searcher.search(&BooleanQuery::intersection(vec![query.box_clone(), r.box_clone()]), &Count)? as u64),
        }
    }

    fn records(&self, readable: &dyn Query) -> tantivy::Result<&[Vec<tantivy::DocId>]> {
        if let Some(r) = self.records.get() {
            return Ok(r);
        }
        let mut records = vec![Vec::new(); self.searcher.segment_readers().len()];
        for a in self.searcher.search(readable, &DocSetCollector)? {
            records[a.segment_ord as usize].push(a.doc_id);
        }
        Ok(self.records.get_or_init(|| records))
    }
}

impl Bm25StatisticsProvider for ReadableStatistics<'_> {
    fn total_num_tokens(&self, field: tantivy::schema::Field) -> tantivy::Result<u64> {
        let Some(readable) = &self.readable else {
            return Bm25StatisticsProvider::total_num_tokens(self.searcher, field);
        };
        let mut total = 0u64;
        for (segment, docs) in self.searcher.segment_readers().iter().zip(self.records(readable.as_ref())?) {
            let norms = segment.get_fieldnorms_reader(field)?;
            total += docs.iter().map(|&d| u64::from(norms.fieldnorm(d))).sum::<u64>();
        }
        Ok(total)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.docs)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        match &self.readable {
            None => Bm25StatisticsProvider::doc_freq(self.searcher, term),
            Some(_) => self.count(&TermQuery::new(term.clone(), IndexRecordOption::Basic)),
        }
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

pub(crate) fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

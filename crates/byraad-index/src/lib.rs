//! The lexical index of byråds-GPT: tantivy with Danish, OCR-tolerant analysis.
//!
//! ```no_run
//! use byraad_core::{config::Config, SearchRequest};
//! use byraad_index::LexicalIndex;
//! let config = Config::default();
//! let index = LexicalIndex::open(&config.data.dir, config.search.clone()).unwrap();
//! let req = SearchRequest { query: "habilitet".into(), ..Default::default() };
//! for hit in index.search(&req).unwrap().hits {
//!     println!("{} {}", hit.title, hit.snippet);
//! }
//! ```
#![warn(missing_docs)]

pub mod analysis;
pub mod context;
mod dense;
mod error;
mod ingest;
mod retriever;
mod schema;
mod search;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use byraad_core::config::SearchConfig;
use tantivy::directory::MmapDirectory;
use tantivy::schema::Value;
use tantivy::tokenizer::{LowerCaser, RawTokenizer, TextAnalyzer};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, Term};
use tantivy::query::{BooleanQuery, Occur, Query};

pub use error::{Error, Result};
pub use dense::{Dense, PASSAGE_VERSION, PassageVectors, passage_text};
pub use ingest::{FileFailure, FileReport, IngestEvent, IngestOptions, IngestReport};
pub use retriever::{DenseStatus, Retriever};
pub use schema::Fields;

use analysis::DanishTokenizer;

/// Bumped whenever analysis or the schema changes what is indexed; part of every file's
/// fingerprint, so the next ingest re-indexes everything.
pub const INDEX_VERSION: u32 = 3;

/// Sub-directory of the data directory holding the tantivy index.
const INDEX_DIR: &str = "tantivy";

/// Counts shown by `/healthz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Documents in the index.
    pub documents: u64,
    /// Chunks in the index.
    pub chunks: u64,
}

/// The index on disk, opened for reading and (through [`LexicalIndex::ingest`]) writing.
pub struct LexicalIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    config: SearchConfig,
    dir: PathBuf,
    /// Documents read for passages, for the searcher generation they were read from.
    documents: Mutex<DocumentCache>,
}

/// Searcher generation → parsed documents (`None`: no such document).
type DocumentCache = (u64, HashMap<String, Option<Arc<byraad_core::Document>>>);

/// Most documents kept parsed between searches.
const CACHED_DOCUMENTS: usize = 64;

impl LexicalIndex {
    /// Opens the index under `data_dir`, creating it if absent.
    pub fn open(data_dir: &Path, config: SearchConfig) -> Result<Self> {
        let dir = data_dir.join(INDEX_DIR);
        std::fs::create_dir_all(&dir).map_err(|source| Error::DataDir { path: dir.clone(), source })?;
        let (schema, fields) = schema::build();
        let mmap = MmapDirectory::open(&dir).map_err(|e| Error::DataDir { path: dir.clone(), source: std::io::Error::other(e) })?;
        let index = Index::open_or_create(mmap, schema)?;
        register_analyzers(&index);
        let reader = index.reader_builder().reload_policy(ReloadPolicy::OnCommitWithDelay).try_into()?;
        Ok(Self { index, reader, fields, config, dir, documents: Mutex::new((0, HashMap::new())) })
    }

    /// Where the index lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Copies the index's last commit into `to` while holding the writer lock, so no ingest
    /// commits or merges meanwhile (one that tries fails with "locked" and can be run again);
    /// readers, a serving process among them, go on. Returns the files copied.
    pub fn backup_to(&self, to: &Path, also: impl FnOnce() -> std::io::Result<()>) -> Result<Vec<PathBuf>> {
        let _lock = self.index.writer_with_num_threads::<TantivyDocument>(1, 15_000_000)?;
        std::fs::create_dir_all(to).map_err(|source| Error::DataDir { path: to.to_path_buf(), source })?;
        let mut copied = Vec::new();
        let entries = std::fs::read_dir(&self.dir).map_err(|source| Error::DataDir { path: self.dir.clone(), source })?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::DataDir { path: self.dir.clone(), source })?;
            let name = entry.file_name();
            // Lock files belong to the processes holding them.
            if name.to_string_lossy().ends_with(".lock") || !entry.path().is_file() {
                continue;
            }
            let target = to.join(&name);
            std::fs::copy(entry.path(), &target).map_err(|source| Error::DataDir { path: entry.path(), source })?;
            copied.push(target);
        }
        // What must not change while the index cannot (the vectors) is copied under the lock too.
        also().map_err(|source| Error::DataDir { path: to.to_path_buf(), source })?;
        Ok(copied)
    }

    /// Counts of the documents and chunks of the last commit that `clearance` may read.
    pub fn stats(&self, clearance: &byraad_core::Clearance) -> Result<Stats> {
        let searcher = self.reader.searcher();
        let readable = search::ReadableStatistics::new(&searcher, self.readable(clearance))?;
        let count = |rec: &str| readable.count(term_query(self.fields.rec, rec).as_ref());
        Ok(Stats { documents: count(schema::REC_DOC)?, chunks: count(schema::REC_CHUNK)? })
    }

    /// The whole document with this id, or `None` when there is none or `clearance` may not
    /// read it: a forbidden document is answered exactly like an unknown one.
    pub fn document(&self, doc_id: &str, clearance: &byraad_core::Clearance) -> Result<Option<byraad_core::Document>> {
        Ok(self.read_document(doc_id)?.filter(|d| clearance.may_read(d.meta.access, &d.meta.groups)))
    }

    /// The required clause that keeps records `clearance` may not read out of a query: public
    /// ones, or restricted ones sharing a group. `None` when it reads everything.
    pub(crate) fn readable(&self, clearance: &byraad_core::Clearance) -> Option<Box<dyn Query>> {
        let groups = clearance.restricted_to()?;
        let mut any: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, term_query(self.fields.access, byraad_core::Access::Public.as_str()))];
        any.extend(groups.iter().map(|g| (Occur::Should, term_query(self.fields.groups, g))));
        Some(Box::new(BooleanQuery::new(any)))
    }

    fn read_document(&self, doc_id: &str) -> Result<Option<byraad_core::Document>> {
        let searcher = self.reader.searcher();
        let query = BooleanQuery::intersection(vec![term_query(self.fields.rec, schema::REC_DOC), term_query(self.fields.doc_id, doc_id)]);
        let top = searcher.search(&query, &tantivy::collector::TopDocs::with_limit(1).order_by_score())?;
        let Some((_, address)) = top.into_iter().next() else { return Ok(None) };
        let stored: TantivyDocument = searcher.doc(address)?;
        let json = stored.get_first(self.fields.document).and_then(|v| v.as_str()).ok_or_else(|| Error::Corrupt(format!("document {doc_id} has no body")))?;
        serde_json::from_str(json).map(Some).map_err(|e| Error::Corrupt(format!("document {doc_id}: {e}")))
    }

    /// Ids of the documents of these kinds that `clearance` may read, in id order.
    pub fn documents_of_kind(&self, kinds: &[byraad_core::Kind], clearance: &byraad_core::Clearance) -> Result<Vec<String>> {
        let searcher = self.reader.searcher();
        let kinds: Vec<(Occur, Box<dyn Query>)> = kinds.iter().map(|k| (Occur::Should, term_query(self.fields.kind, k.as_str()))).collect();
        let mut clauses = vec![(Occur::Must, term_query(self.fields.rec, schema::REC_DOC)), (Occur::Must, Box::new(BooleanQuery::new(kinds)) as Box<dyn Query>)];
        clauses.extend(self.readable(clearance).map(|q| (Occur::Must, q)));
        let mut ids = Vec::new();
        for address in searcher.search(&BooleanQuery::new(clauses), &tantivy::collector::DocSetCollector)? {
            let stored: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = stored.get_first(self.fields.doc_id).and_then(|v| v.as_str()) {
                ids.push(id.to_string());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Every meeting `clearance` may read that treated `case`, in date order (then by body).
    pub fn case_history(&self, case: &str, clearance: &byraad_core::Clearance) -> Result<byraad_core::CaseHistory> {
        let searcher = self.reader.searcher();
        let mut clauses = vec![(Occur::Must, term_query(self.fields.rec, schema::REC_CHUNK)), (Occur::Must, term_query(self.fields.case, case))];
        clauses.extend(self.readable(clearance).map(|q| (Occur::Must, q)));
        let mut ids = std::collections::BTreeSet::new();
        for address in searcher.search(&BooleanQuery::new(clauses), &tantivy::collector::DocSetCollector)? {
            let stored: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = stored.get_first(self.fields.doc_id).and_then(|v| v.as_str()) {
                ids.insert(id.to_string());
            }
        }
        let mut treatments = Vec::new();
        for id in ids {
            // The chunk query kept unreadable records out; the document is checked again.
            if let Some(doc) = self.shared_document(&id)?.filter(|d| clearance.may_read(d.meta.access, &d.meta.groups)) {
                treatments.extend(byraad_core::case::treatments(&doc, case));
            }
        }
        treatments.sort_by(|a, b| (&a.date, &a.body, &a.doc_id).cmp(&(&b.date, &b.body, &b.doc_id)));
        Ok(byraad_core::CaseHistory { case: case.to_string(), treatments })
    }

    /// The bodies (councils, committees) of the documents `clearance` may read, sorted, each once.
    pub fn bodies(&self, clearance: &byraad_core::Clearance) -> Result<Vec<String>> {
        let searcher = self.reader.searcher();
        let mut clauses = vec![(Occur::Must, term_query(self.fields.rec, schema::REC_DOC))];
        clauses.extend(self.readable(clearance).map(|q| (Occur::Must, q)));
        let mut bodies = std::collections::BTreeSet::new();
        for address in searcher.search(&BooleanQuery::new(clauses), &tantivy::collector::DocSetCollector)? {
            let stored: TantivyDocument = searcher.doc(address)?;
            if let Some(body) = stored.get_first(self.fields.body).and_then(|v| v.as_str()).filter(|b| !b.is_empty()) {
                bodies.insert(body.to_string());
            }
        }
        Ok(bodies.into_iter().collect())
    }

    /// The document with this id, parsed once per index generation: passages read the text of
    /// the same few documents on every search, and a document's JSON is its whole text. No
    /// clearance is checked: callers hold an id from a search or listing that checked it.
    pub fn shared_document(&self, doc_id: &str) -> Result<Option<Arc<byraad_core::Document>>> {
        let generation = self.reader.searcher().generation().generation_id();
        {
            let cache = self.documents.lock().map_err(|_| Error::Corrupt("document cache poisoned".into()))?;
            if cache.0 == generation
                && let Some(doc) = cache.1.get(doc_id)
            {
                return Ok(doc.clone());
            }
        }
        let doc = self.read_document(doc_id)?.map(Arc::new);
        let mut cache = self.documents.lock().map_err(|_| Error::Corrupt("document cache poisoned".into()))?;
        if cache.0 != generation || cache.1.len() >= CACHED_DOCUMENTS {
            *cache = (generation, HashMap::new());
        }
        cache.1.insert(doc_id.to_string(), doc.clone());
        Ok(doc)
    }

    /// The generation of the index searches read now: it changes with every commit made visible.
    pub fn generation(&self) -> u64 {
        self.reader.searcher().generation().generation_id()
    }

    /// Makes the last commit visible to searches now (tests, the CLI after ingest).
    pub fn reload(&self) -> Result<()> {
        Ok(self.reader.reload()?)
    }
}

fn term_query(field: tantivy::schema::Field, text: &str) -> Box<dyn tantivy::query::Query> {
    Box::new(tantivy::query::TermQuery::new(
        Term::from_field_text(field, text),
        tantivy::schema::IndexRecordOption::Basic,
    ))
}

fn register_analyzers(index: &Index) {
    let tokenizers = index.tokenizers();
    tokenizers.register(analysis::DANISH, TextAnalyzer::from(DanishTokenizer::stemming()));
    tokenizers.register(analysis::DANISH_EXACT, TextAnalyzer::from(DanishTokenizer::exact()));
    tokenizers.register(analysis::KEYWORD, TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser).build());
}

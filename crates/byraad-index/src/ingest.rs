//! Incremental, idempotent ingestion of a corpus into the index.
//!
//! Each source file's records carry its fingerprint (bytes, manifest entry, parser version,
//! chunk sizes). A file whose fingerprint is unchanged is skipped without parsing; a changed one
//! has its records replaced; a file gone from the corpus has its records deleted. Work is
//! committed in batches of whole files (every `commit_files` files or `commit_secs` seconds):
//! a killed ingest keeps every batch it committed, a reader never sees part of a file, and the
//! next run continues where it stopped (committed files are unchanged). A file that fails to
//! read or parse is reported, keeps whatever version the index had, and stops nothing else.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use byraad_core::{Chunk, Document};
use byraad_ingest::{Chunker, Corpus};
use serde_json::json;
use tantivy::collector::DocSetCollector;
use tantivy::schema::Value;
use tantivy::{DateTime, TantivyDocument, Term, doc};

use crate::dense::{Dense, PassageVectors};
use crate::schema::{REC_CHUNK, REC_DOC};
use crate::{LexicalIndex, Result, term_query};

/// A file that could not be ingested.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileFailure {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// What one file gave.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileReport {
    /// Corpus-relative path.
    pub path: String,
    /// `indexed`, `unchanged` or `failed`.
    pub status: &'static str,
    /// Its size.
    pub bytes: u64,
    /// Documents (meetings) it holds.
    pub documents: usize,
    /// Pages, for a paged source (PDF); 0 otherwise.
    pub pages: usize,
    /// Pages without text.
    pub empty_pages: usize,
    /// Pages read by OCR (scans).
    pub ocr_pages: usize,
    /// Characters of text extracted.
    pub chars: usize,
    /// Letters among them (a scan's stray marks are characters, not text).
    pub letters: usize,
    /// Sections found (items, §§, headings).
    pub sections: usize,
    /// Chunks indexed.
    pub chunks: usize,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl FileReport {
    fn of(path: &str, bytes: u64, docs: &[(Document, Vec<Chunk>)]) -> Self {
        let mut r = FileReport { path: path.to_string(), status: "indexed", bytes, documents: docs.len(), ..Default::default() };
        r.ocr_pages = docs.iter().map(|(d, _)| d.ocr_pages.len()).max().unwrap_or(0);
        for (doc, chunks) in docs {
            r.chars += doc.text.chars().count();
            r.letters += doc.text.chars().filter(|c| c.is_alphabetic()).count();
            r.sections += doc.sections.len();
            r.chunks += chunks.len();
            if !doc.page_breaks.is_empty() {
                // Parts of one file keep the file's page numbers: a part starting on page 5 has
                // four breaks at 0 before its own.
                r.pages = r.pages.max(doc.page_breaks.len() + 1);
                let mut starts = vec![0];
                starts.extend(doc.page_breaks.iter().copied().filter(|&b| b > 0));
                starts.push(doc.text.len());
                r.empty_pages += starts.windows(2).filter(|w| doc.text.get(w[0]..w[1]).is_none_or(|t| t.trim().is_empty())).count();
            }
        }
        r
    }

    fn failed(path: &str, bytes: u64, reason: &str) -> Self {
        FileReport { path: path.to_string(), status: "failed", bytes, reason: Some(reason.to_string()), ..Default::default() }
    }
}

/// What one ingest did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IngestReport {
    /// Files (and other paths: links, FIFOs) in the corpus.
    pub files: usize,
    /// Files parsed and (re)indexed.
    pub changed: usize,
    /// Files skipped because nothing changed.
    pub unchanged: usize,
    /// Sources removed because their files are gone.
    pub removed: usize,
    /// Files that failed.
    pub failures: Vec<FileFailure>,
    /// Each file: what it gave, or why it failed.
    pub per_file: Vec<FileReport>,
    /// Documents written.
    pub documents: usize,
    /// Chunks written.
    pub chunks: usize,
    /// Bytes of the files parsed.
    pub bytes: u64,
    /// Passages embedded (with vectors on).
    pub passages_embedded: usize,
    /// Passages whose vector was reused: the same text met earlier in the same ingest.
    pub passages_reused: usize,
    /// Wall time.
    #[serde(with = "millis")]
    pub elapsed: Duration,
}

mod millis {
    pub fn serialize<S: serde::Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// How an ingest runs.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Mixed into every fingerprint: what else makes a file's records stale (chunk sizes, index
    /// version, embedding model).
    pub salt: String,
    /// Index writer memory, in MiB.
    pub writer_memory_mib: usize,
    /// Commit after this many changed files…
    pub commit_files: usize,
    /// …or this many seconds, whichever comes first.
    pub commit_secs: u64,
}

impl IngestOptions {
    /// Options with `salt` and the default writer memory and commit batches.
    pub fn new(salt: &str) -> Self {
        Self { salt: salt.to_string(), writer_memory_mib: 64, commit_files: 16, commit_secs: 30 }
    }
}

/// Progress reported while ingesting.
#[derive(Debug, Clone)]
pub enum IngestEvent<'a> {
    /// About to look at the corpus's files.
    Start {
        /// How many.
        files: usize,
    },
    /// One file done.
    File {
        /// Corpus-relative path.
        rel: &'a str,
        /// Its size.
        bytes: u64,
        /// Chunks it yielded (0 when unchanged or failed).
        chunks: usize,
        /// Whether it was parsed (not skipped as unchanged).
        parsed: bool,
        /// The failure, if it failed.
        error: Option<&'a str>,
    },
    /// A batch committed: searches now see it.
    Committed {
        /// Files changed so far, all committed.
        changed: usize,
    },
}

impl LexicalIndex {
    /// Ingests `corpus`, calling `progress` as it goes.
    pub fn ingest(
        &self,
        corpus: &Corpus,
        chunker: &Chunker,
        options: &IngestOptions,
        dense: Option<&Dense>,
        mut progress: impl FnMut(IngestEvent<'_>),
    ) -> Result<IngestReport> {
        let started = Instant::now();
        let mut report = IngestReport { files: corpus.files().len() + corpus.skipped().len(), ..Default::default() };
        for skipped in corpus.skipped() {
            let reason = skipped.reason.clone();
            tracing::warn!(path = %skipped.path.display(), %reason, "path not ingested");
            report.failures.push(FileFailure { path: skipped.path.clone(), reason });
        }
        let indexed = self.fingerprints()?;
        let mut known = indexed.clone();
        if let Some(dense) = dense {
            // A source counts as indexed only when both halves hold the same version: after a
            // crash between the vector writes and the tantivy commit, or with vectors of another
            // model, the file is processed again and both are rewritten.
            let vectors = dense.store.sources()?;
            known.retain(|source, fp| vectors.get(source).is_some_and(|v| v.len() == 1 && &v[0] == fp));
            for stale in vectors.keys().filter(|s| !corpus.files().iter().any(|f| &f.rel == *s)) {
                dense.store.delete_source(stale, None)?;
            }
        }
        let mut writer = self.index.writer::<TantivyDocument>(options.writer_memory_mib * 1024 * 1024)?;
        let f = &self.fields;
        let mut dirty = false;
        let mut batch = (0usize, Instant::now());
        let salt = options.salt.as_str();
        progress(IngestEvent::Start { files: corpus.files().len() });

        let mut seen = BTreeSet::new();
        let mut held = PassageVectors::default();
        for file in corpus.files() {
            seen.insert(file.rel.clone());
            let bytes = match corpus.read(file) {
                Ok(b) => b,
                Err(e) => {
                    let reason = e.to_string();
                    progress(IngestEvent::File { rel: &file.rel, bytes: 0, chunks: 0, parsed: false, error: Some(&reason) });
                    report.per_file.push(FileReport::failed(&file.rel, 0, &reason));
                    report.failures.push(FileFailure { path: file.path.clone(), reason });
                    continue;
                }
            };
            let size = bytes.len() as u64;
            let fingerprint = corpus.fingerprint(file, &bytes, salt);
            if known.get(&file.rel) == Some(&fingerprint) {
                report.unchanged += 1;
                report.per_file.push(FileReport { path: file.rel.clone(), status: "unchanged", bytes: size, ..Default::default() });
                progress(IngestEvent::File { rel: &file.rel, bytes: size, chunks: 0, parsed: false, error: None });
                continue;
            }
            let docs = match corpus.parse(file, &bytes) {
                Ok(docs) => docs,
                Err(e) => {
                    let reason = e.to_string();
                    tracing::warn!(path = %file.path.display(), %reason, "file not ingested");
                    progress(IngestEvent::File { rel: &file.rel, bytes: size, chunks: 0, parsed: true, error: Some(&reason) });
                    report.per_file.push(FileReport::failed(&file.rel, size, &reason));
                    report.failures.push(FileFailure { path: file.path.clone(), reason });
                    continue;
                }
            };
            let docs: Vec<(Document, Vec<Chunk>)> = docs.into_iter().map(|d| {
                let chunks = chunker.chunks(&d);
                (d, chunks)
            }).collect();
            let mut file_report = FileReport::of(&file.rel, size, &docs);
            if file_report.chunks == 0 || file_report.letters == 0 {
                // Nothing to find it by: a failure with its reason, never a silent success.
                let reason = format!("no text to index ({} pages, {} of them empty, {} characters)", file_report.pages, file_report.empty_pages, file_report.chars);
                tracing::warn!(path = %file.path.display(), %reason, "file not ingested");
                progress(IngestEvent::File { rel: &file.rel, bytes: size, chunks: 0, parsed: true, error: Some(&reason) });
                file_report.status = "failed";
                file_report.reason = Some(reason.clone());
                report.per_file.push(file_report);
                report.failures.push(FileFailure { path: file.path.clone(), reason });
                continue;
            }
            // Vectors first: they are invisible to search until the tantivy commit below makes
            // their chunks exist.
            if let Some(dense) = dense {
                dense.write(&file.rel, &fingerprint, &docs, &mut held)?;
            }
            writer.delete_term(Term::from_field_text(f.source, &file.rel));
            let mut chunks_of_file = 0;
            for (doc, chunks) in &docs {
                chunks_of_file += chunks.len();
                self.add_document(&writer, doc, chunks, &fingerprint)?;
            }
            dirty = true;
            report.changed += 1;
            report.documents += docs.len();
            report.chunks += chunks_of_file;
            report.bytes += size;
            report.per_file.push(file_report);
            progress(IngestEvent::File { rel: &file.rel, bytes: size, chunks: chunks_of_file, parsed: true, error: None });
            batch.0 += 1;
            if batch.0 >= options.commit_files.max(1) || batch.1.elapsed() >= Duration::from_secs(options.commit_secs) {
                self.commit(&mut writer, dense)?;
                progress(IngestEvent::Committed { changed: report.changed });
                batch = (0, Instant::now());
                dirty = false;
            }
        }
        for gone in indexed.keys().filter(|k| !seen.contains(*k)) {
            writer.delete_term(Term::from_field_text(f.source, gone));
            if let Some(dense) = dense {
                dense.store.delete_source(gone, None)?;
            }
            report.removed += 1;
            dirty = true;
        }
        if dirty {
            self.commit(&mut writer, dense)?;
            progress(IngestEvent::Committed { changed: report.changed });
        }
        writer.wait_merging_threads()?;
        if let Some(dense) = dense
            && (report.changed > 0 || report.removed > 0)
        {
            // Points replaced or removed leave space behind until the store is compacted.
            dense.store.compact()?;
        }
        report.passages_embedded = held.embedded;
        report.passages_reused = held.reused;
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Makes the batch durable: the vectors first (a crash between the two leaves vectors whose
    /// files the next run processes again, replacing them), then the tantivy commit.
    fn commit(&self, writer: &mut tantivy::IndexWriter<TantivyDocument>, dense: Option<&Dense>) -> Result<()> {
        if let Some(dense) = dense {
            dense.store.flush()?;
        }
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Source path → fingerprint, from the document records.
    fn fingerprints(&self) -> Result<BTreeMap<String, String>> {
        let searcher = self.reader.searcher();
        let addresses = searcher.search(&*term_query(self.fields.rec, REC_DOC), &DocSetCollector)?;
        let mut out = BTreeMap::new();
        for address in addresses {
            let d: TantivyDocument = searcher.doc(address)?;
            let get = |field| d.get_first(field).and_then(|v| v.as_str()).map(str::to_string);
            if let (Some(source), Some(fp)) = (get(self.fields.source), get(self.fields.fingerprint)) {
                out.insert(source, fp);
            }
        }
        Ok(out)
    }

    fn add_document(
        &self,
        writer: &tantivy::IndexWriter<TantivyDocument>,
        doc: &Document,
        chunks: &[Chunk],
        fingerprint: &str,
    ) -> Result<()> {
        let f = &self.fields;
        let m = &doc.meta;
        let date = m.date.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| DateTime::from_timestamp_secs(t.and_utc().timestamp()));
        let document_json = serde_json::to_string(doc).map_err(|e| crate::Error::Corrupt(e.to_string()))?;
        let mut record = doc!(
            f.rec => REC_DOC,
            f.source => m.source.as_str(),
            f.fingerprint => fingerprint,
            f.doc_id => m.doc_id.as_str(),
            f.kind => m.kind.as_str(),
            f.body => m.body.as_str(),
            f.access => m.access.as_str(),
            f.document => document_json,
        );
        if let Some(date) = date {
            record.add_date(f.date, date);
        }
        for g in &m.groups {
            record.add_text(f.groups, g);
        }
        writer.add_document(record)?;

        for c in chunks {
            let section = &doc.sections[c.section];
            let meta = json!({
                "item": section.item,
                "page": c.page,
                "span": c.span,
                "heading": section.heading,
                "date": m.date.map(|d| d.to_string()),
                "title": m.title,
                "ocr": doc.ocr_at(c.span.start),
            });
            let mut record = doc!(
                f.rec => REC_CHUNK,
                f.source => m.source.as_str(),
                f.doc_id => m.doc_id.as_str(),
                f.chunk_id => c.chunk_id.as_str(),
                f.title => m.title.as_str(),
                f.heading => section.heading.join(" › "),
                f.text => c.text.as_str(),
                f.text_exact => c.text.as_str(),
                f.kind => m.kind.as_str(),
                f.body => m.body.as_str(),
                f.access => m.access.as_str(),
                f.meta => meta.to_string(),
            );
            if let Some(date) = date {
                record.add_date(f.date, date);
            }
            if let Some(case) = &section.case {
                record.add_text(f.case, case);
            }
            for g in &m.groups {
                record.add_text(f.groups, g);
            }
            writer.add_document(record)?;
        }
        Ok(())
    }
}

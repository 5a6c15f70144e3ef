//! Reads a corpus directory into [`Document`]s and [`Chunk`]s.
//!
//! ```no_run
//! use byraad_ingest::{ChunkSizes, Chunker, Corpus};
//! let corpus = Corpus::open("corpus".as_ref()).unwrap();
//! let chunker = Chunker::new(ChunkSizes { min_chars: 500, max_chars: 1000, overlap_chars: 200 }).unwrap();
//! for file in corpus.files() {
//!     let bytes = file.read().unwrap();
//!     for doc in corpus.parse(file, &bytes).unwrap() {
//!         println!("{} has {} chunks", doc.meta.title, chunker.chunks(&doc).len());
//!     }
//! }
//! ```
#![warn(missing_docs)]

pub mod agenda;
mod chunk;
pub mod declared;
mod error;
pub mod extract;
pub mod manifest;
pub mod normalize;
pub mod segment;

use std::path::{Path, PathBuf};

use byraad_core::{Access, Document, DocumentMeta, Kind, Section, Span};
use sha2::{Digest, Sha256};

pub use chunk::{ChunkSizes, Chunker};
pub use error::{Error, Result};
pub use extract::{Format, Limits};
pub use manifest::{Entry, Manifest};

/// Bumped whenever parsing changes what a file yields, so that re-ingest redoes every file.
pub const PARSER_VERSION: u32 = 2;

/// One file of the corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the corpus root, `/`-separated.
    pub rel: String,
    /// Absolute (or as given) path.
    pub path: PathBuf,
    /// The id of its document (its parts': this and `.m1`, `.m2`, ...), unique in the corpus.
    pub doc_id: String,
}

impl SourceFile {
    /// The file's bytes.
    pub fn read(&self) -> Result<Vec<u8>> {
        std::fs::read(&self.path).map_err(|source| Error::Io { path: self.path.clone(), source })
    }

    /// The file's bytes when there are at most `max` of them; a larger file is refused before
    /// any of it is read.
    pub fn read_at_most(&self, max: u64) -> Result<Vec<u8>> {
        use std::io::Read;
        let io = |source| Error::Io { path: self.path.clone(), source };
        let file = std::fs::File::open(&self.path).map_err(io)?;
        let too_large = |size: u64| Error::TooLarge { path: self.path.clone(), size, max };
        let size = file.metadata().map_err(io)?.len();
        if size > max {
            return Err(too_large(size));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        // The file may grow between the check and the read.
        file.take(max + 1).read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() as u64 > max {
            return Err(too_large(bytes.len() as u64));
        }
        Ok(bytes)
    }
}

/// A path under the corpus that is not ingested, and why (an unreadable directory, a symbolic
/// link, a FIFO).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The path.
    pub path: PathBuf,
    /// Why it is not ingested.
    pub reason: String,
}

/// The file in the corpus root listing where `byraad sync` fetches documents from (not a document).
pub const SOURCES_FILE: &str = "sources.toml";

/// A corpus directory: its manifest and the files to ingest.
#[derive(Debug, Clone)]
pub struct Corpus {
    root: PathBuf,
    manifest: Manifest,
    files: Vec<SourceFile>,
    skipped: Vec<Skipped>,
    limits: Limits,
}

impl Corpus {
    /// Reads the manifest and lists the files under `root` (sorted; hidden files, manifests,
    /// `sources.toml` and the manifests' `exclude` lists skipped). What cannot be listed (an unreadable
    /// directory) and what is not a regular file (symbolic links are not followed: they may lead
    /// out of the corpus) is kept in [`Corpus::skipped`]; it stops nothing else.
    pub fn open(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(Error::Io {
                path: root.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
            });
        }
        let manifest = Manifest::load(root)?;
        // Without a manifest of its own, a README at the root describes the folder (as the
        // agenda system's recorded archive's does); with one, its `exclude` decides.
        let readme_describes = !root.join(manifest::MANIFEST_FILE).exists();
        let (mut files, mut skipped) = (Vec::new(), Vec::new());
        for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let path = e.path().map_or_else(|| root.to_path_buf(), Path::to_path_buf);
                    let reason = match e.io_error() {
                        Some(io) => format!("cannot read: {io}"),
                        None => "directory loop".to_string(),
                    };
                    skipped.push(Skipped { path, reason });
                    continue;
                }
            };
            let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
            let rel: String = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            if rel.is_empty() || entry.file_type().is_dir() {
                continue;
            }
            if Manifest::is_manifest(&rel) || rel == SOURCES_FILE || agenda::is_listing(&rel) || (readme_describes && rel == "README.md") || rel.split('/').any(|c| c.starts_with('.')) || manifest.excludes(&rel) {
                continue;
            }
            let ty = entry.file_type();
            if !ty.is_file() {
                let reason = if ty.is_symlink() {
                    "a symbolic link, not followed (copy the file into the corpus)"
                } else {
                    "not a regular file (a FIFO, socket or device)"
                };
                skipped.push(Skipped { path: entry.path().to_path_buf(), reason: reason.to_string() });
                continue;
            }
            files.push(SourceFile { doc_id: String::new(), rel, path: entry.path().to_path_buf() });
        }
        assign_doc_ids(&mut files);
        Ok(Self { root: root.to_path_buf(), manifest, files, skipped, limits: Limits::default() })
    }

    /// The same corpus read within `limits`.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits files are read within.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Paths under the root that are not ingested, and why.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// `file`'s bytes, refused when the file is larger than the limits allow.
    pub fn read(&self, file: &SourceFile) -> Result<Vec<u8>> {
        file.read_at_most(self.limits.max_file_bytes)
    }

    /// The corpus root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The files to ingest.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// A fingerprint of everything that decides what `file` yields: its bytes, its manifest
    /// entry, the parser version and `salt` (the chunk sizes, say).
    pub fn fingerprint(&self, file: &SourceFile, bytes: &[u8], salt: &str) -> String {
        let mut h = Sha256::new();
        h.update(PARSER_VERSION.to_le_bytes());
        h.update(salt.as_bytes());
        let entry = self.manifest.get(&file.rel);
        h.update(described(entry).as_bytes());
        // Rules texts and forespørgsler in plain formats are segmented by their structure (§ and
        // stk.; question and answer) since this version.
        if entry.is_some_and(|e| matches!(e.kind, Kind::Lov | Kind::Haandbog | Kind::Forespoergsel)) {
            h.update(b"structured-segmentation-2");
        }
        // A file whose id had to be told apart from another's is indexed again under it.
        if file.doc_id != doc_id_for(&file.rel) {
            h.update(format!("doc-id {}", file.doc_id).as_bytes());
        }
        h.update(bytes);
        hex::encode(&h.finalize()[..16])
    }

    /// Parses one file into its documents (several when it concatenates meetings).
    pub fn parse(&self, file: &SourceFile, bytes: &[u8]) -> Result<Vec<Document>> {
        let format = Format::of(&file.path)?;
        if format == Format::Agenda {
            let mut doc = agenda::document(file, bytes)?;
            // A manifest entry may still say who reads it.
            if let Some(e) = self.manifest.get(&file.rel) {
                doc.meta.access = e.access;
                doc.meta.groups = e.groups.clone();
            }
            return Ok(vec![doc]);
        }
        // Access the source declares itself (front matter, HTML <meta>); the front matter is not
        // part of the text.
        let text = std::str::from_utf8(bytes).ok();
        let (declared, bytes) = match (format, text) {
            (Format::Text | Format::Markdown, Some(t)) => match declared::front_matter(t) {
                Some((d, len)) => (Some(d), &bytes[len..]),
                None => (None, bytes),
            },
            (Format::Html, Some(t)) => {
                // Too deep a page is refused before any parser sees it.
                extract::check_html_depth(&file.path, t, &self.limits)?;
                (declared::html_meta(t), bytes)
            }
            _ => (None, bytes),
        };
        let extracted = extract::extract(&file.path, bytes, format, &self.limits)?;
        let norm = normalize::normalize(&extracted.text);
        let entry = self.manifest.get(&file.rel);
        let mut base = detect_meta(file, entry, &norm.text);
        let entry_case = entry.and_then(|e| e.case.clone());
        if let Some(d) = &declared {
            d.apply(&mut base);
        }
        let parts = match format {
            Format::Markdown => segment::segment_markdown(&norm.text),
            _ if matches!(base.kind, Kind::Lov | Kind::Haandbog) => segment::segment_rules(&norm.text),
            _ if base.kind == Kind::Forespoergsel => segment::segment_inquiry(&norm.text),
            _ => {
                let meetings = matches!(base.kind, Kind::Referat | Kind::Dagsorden);
                segment::segment_plain(&norm.text, &norm.page_breaks, meetings)
            }
        };
        let many = parts.len() > 1;
        let docs = parts
            .into_iter()
            .enumerate()
            .map(|(k, part)| {
                let mut meta = base.clone();
                if many {
                    meta.doc_id = format!("{}.m{}", base.doc_id, k + 1);
                    let when = part.date.map_or_else(|| format!("del {}", k + 1), |d| format!("møde {}", d.format("%d-%m-%Y")));
                    meta.title = format!("{} – {when}", base.title);
                    meta.date = part.date.or(base.date);
                } else {
                    meta.date = base.date.or(part.date);
                }
                let (s, e) = (part.span.start, part.span.end);
                let sections = part
                    .sections
                    .into_iter()
                    .map(|d| Section { heading: d.heading, item: d.item, case: d.case.or_else(|| entry_case.clone()), span: Span::new(d.span.start - s, d.span.end - s), closed: false })
                    .collect();
                let page_breaks = norm.page_breaks.iter().filter(|&&b| b > s && b < e).map(|b| b - s).collect();
                // Page numbers stay those of the file: a part starting on page 5 keeps page 5.
                let first_page = norm.page_breaks.partition_point(|&b| b <= s);
                let mut doc = Document { meta, text: norm.text[s..e].to_string(), page_breaks, sections, ocr_pages: extracted.ocr_pages.clone() };
                if first_page > 0 {
                    doc.page_breaks = std::iter::repeat_n(0, first_page).chain(doc.page_breaks).collect();
                }
                doc
            })
            .collect();
        Ok(docs)
    }
}

/// A manifest entry as the fingerprint sees it: the fields of the first manifest format printed
/// as they always were, the later optional ones only when set, so that a new optional field does
/// not make every indexed file look changed (and re-embed the archive).
fn described(entry: Option<&Entry>) -> String {
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Entry<'a> {
        path: &'a str,
        title: &'a str,
        kind: Kind,
        body: &'a str,
        date: Option<chrono::NaiveDate>,
        access: byraad_core::Access,
        groups: &'a [String],
    }
    let mut out = format!(
        "{:?}",
        entry.map(|e| Entry { path: &e.path, title: &e.title, kind: e.kind, body: &e.body, date: e.date, access: e.access, groups: &e.groups })
    );
    if let Some(case) = entry.and_then(|e| e.case.as_deref()) {
        out.push_str(&format!(" case {case}"));
    }
    if let Some(url) = entry.and_then(|e| e.source_url.as_deref()) {
        out.push_str(&format!(" source {url}"));
    }
    out
}

/// Gives each file its document id: [`doc_id_for`] its path, unless another file's path gives
/// the same (`x y.txt`, `X Y.txt`, `x-y.md`): then each of them gets that id and `~` and the first
/// eight hex digits of its path's SHA-256, which tell them apart whichever came first or last
/// and stay the same as long as the file keeps its path. An id a file's parts (`.m1`, ...)
/// could take is kept apart the same way.
fn assign_doc_ids(files: &mut [SourceFile]) {
    let mut by_id: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for f in files.iter() {
        *by_id.entry(doc_id_for(&f.rel)).or_default() += 1;
    }
    // "a/m1.txt" takes "a.m1", the id of the first part of "a.txt" when it holds several meetings.
    let part_of_another = |id: &str| id.rsplit_once(".m").is_some_and(|(stem, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && by_id.contains_key(stem));
    let shared: Vec<bool> = files.iter().map(|f| {
        let id = doc_id_for(&f.rel);
        by_id[&id] > 1 || part_of_another(&id)
    }).collect();
    for (f, shared) in files.iter_mut().zip(shared) {
        let id = doc_id_for(&f.rel);
        f.doc_id = if shared { format!("{id}~{}", &hex::encode(Sha256::digest(f.rel.as_bytes()))[..8]) } else { id };
    }
}

/// A doc id from a corpus-relative path: lowercase, safe in URLs. Several paths can give one
/// id; [`Corpus::open`] tells them apart (see [`SourceFile::doc_id`]).
pub fn doc_id_for(rel: &str) -> String {
    let stem = rel.rsplit_once('.').map_or(rel, |(s, _)| s);
    stem.chars()
        .map(|c| match c {
            '/' => '.',
            c if c.is_ascii_alphanumeric() || c == '-' || c == '_' => c.to_ascii_lowercase(),
            'æ' | 'Æ' => 'e',
            'ø' | 'Ø' => 'o',
            'å' | 'Å' => 'a',
            _ => '-',
        })
        .collect()
}

/// Metadata from the manifest entry, or detected from the path and text.
fn detect_meta(file: &SourceFile, entry: Option<&Entry>, text: &str) -> DocumentMeta {
    let doc_id = file.doc_id.clone();
    if let Some(e) = entry {
        return DocumentMeta {
            doc_id,
            source: file.rel.clone(),
            title: e.title.clone(),
            kind: e.kind,
            body: e.body.clone(),
            date: e.date,
            access: e.access,
            groups: e.groups.clone(),
        };
    }
    let head: String = text.chars().take(600).collect();
    let title = text
        .lines()
        .map(|l| l.trim_start_matches('#').trim())
        .find(|l| !l.is_empty())
        .map_or_else(|| file.rel.clone(), |l| l.chars().take(120).collect());
    let probe = format!("{} {}", file.rel.to_lowercase(), head.to_lowercase());
    let kind = [
        ("forespørgsel", Kind::Forespoergsel),
        ("forespoergsel", Kind::Forespoergsel),
        ("referat", Kind::Referat),
        ("dagsorden", Kind::Dagsorden),
        ("betænkning", Kind::Betaenkning),
        ("lov om", Kind::Lov),
        ("håndbog", Kind::Haandbog),
        ("henvendelse", Kind::Henvendelse),
        ("bilag", Kind::Bilag),
    ]
    .into_iter()
    .find(|(word, _)| probe.contains(word))
    .map_or(Kind::Notat, |(_, k)| k);
    DocumentMeta {
        doc_id,
        source: file.rel.clone(),
        title,
        kind,
        body: "Aarhus Kommune".into(),
        date: segment::find_date(&file.rel).or_else(|| segment::find_date(&head)),
        access: Access::Public,
        groups: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_whose_paths_give_one_id_are_told_apart_and_others_keep_theirs() {
        let names = ["x y.txt", "X Y.txt", "x-y.txt", "x-y.md", "x-y.html", "referat.txt", "a.txt", "a/m1.txt", "b/c.txt"];
        let mut files: Vec<SourceFile> = names.iter().map(|n| SourceFile { rel: n.to_string(), path: PathBuf::from(n), doc_id: String::new() }).collect();
        assign_doc_ids(&mut files);
        let ids: Vec<&str> = files.iter().map(|f| f.doc_id.as_str()).collect();
        let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), names.len(), "{ids:?}");
        for id in &ids[..5] {
            assert!(id.starts_with("x-y~") && id.len() == "x-y~".len() + 8, "{id}");
        }
        assert_eq!(&ids[5..], ["referat", "a", &format!("a.m1~{}", &hex::encode(Sha256::digest(b"a/m1.txt"))[..8]), "b.c"]);
        // The same path gives the same id whatever else is in the corpus.
        let mut alone = vec![SourceFile { rel: "x y.txt".into(), path: PathBuf::from("x y.txt"), doc_id: String::new() }, files[2].clone()];
        assign_doc_ids(&mut alone);
        assert_eq!(alone[0].doc_id, ids[0]);
    }

    #[test]
    fn fingerprints_of_entries_without_the_later_fields_are_as_before() {
        let text = "[[document]]\npath = \"a.txt\"\ntitle = \"T\"\nkind = \"referat\"\nbody = \"B\"\ndate = \"2025-08-27\"\n";
        let m = Manifest::parse(text, Path::new("m.toml")).unwrap();
        // The derived Debug of the first manifest format, which fingerprints of indexed files hold.
        assert_eq!(
            described(m.get("a.txt")),
            r#"Some(Entry { path: "a.txt", title: "T", kind: Referat, body: "B", date: Some(2025-08-27), access: Public, groups: [] })"#
        );
        assert_eq!(described(None), "None");
        let with_case = Manifest::parse(&format!("{text}case = \"EMN-2025-000001\"\n"), Path::new("m.toml")).unwrap();
        assert_ne!(described(with_case.get("a.txt")), described(m.get("a.txt")), "a case changes the fingerprint");
    }
}

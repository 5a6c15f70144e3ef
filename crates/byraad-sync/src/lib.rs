//! Keeps a folder of the corpus in step with the sources `sources.toml` lists: single pages and
//! files, and index pages whose links lead to meeting pages and their attachments.
//!
//! Every request is conditional on what the last run got (ETag, Last-Modified), robots.txt is
//! read once per host and obeyed, and requests to one host are spaced by the configured delay (or
//! the host's Crawl-delay). Each copy gets a manifest entry (title, kind, body, date, case,
//! `source_url`) in the folder's own `manifest.toml`. A source that answers 404 or 410, or is no
//! longer listed or linked, is removed with its entry; one that fails otherwise (a timeout, a
//! 5xx) keeps its last copy and is reported. The ingest then takes the folder as it takes any
//! other part of the corpus.

mod error;
mod fetch;
pub mod firstagenda;
pub mod page;
pub mod sources;
mod state;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use byraad_core::Kind;
use byraad_ingest::{Entry, Manifest};
use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use error::{Error, Result};
pub use sources::{SOURCES_FILE, Sources};
pub use state::STATE_FILE;

use fetch::{Fetched, Fetcher, Validators};
use page::Link;
use sources::Describe;
use state::{Record, State, write_atomically};

/// What a run did, per address.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Addresses fetched for the first time.
    pub new: Vec<String>,
    /// Addresses whose content changed.
    pub changed: Vec<String>,
    /// Addresses unchanged (304, or the same bytes).
    pub unchanged: Vec<String>,
    /// Addresses removed (404, 410, or no longer listed or linked), with their copies.
    pub removed: Vec<String>,
    /// Addresses robots.txt does not allow.
    pub disallowed: Vec<String>,
    /// Addresses that failed, with why; their last copies are kept.
    pub failed: Vec<Failure>,
    /// Requests sent, robots.txt included.
    pub requests: usize,
    /// Bytes received.
    pub bytes: u64,
}

/// An address that could not be fetched.
#[derive(Debug, Serialize)]
pub struct Failure {
    /// The address.
    pub url: String,
    /// Why.
    pub reason: String,
}

/// What the manifest entry of a fetched copy is made from.
struct Describing<'a> {
    describe: &'a Describe,
    kind: Kind,
    /// Whether a page's own title may make it a referat or dagsorden.
    kind_from_title: bool,
    title: Option<String>,
    date: Option<NaiveDate>,
    case: Option<String>,
}

/// One run over a corpus folder.
struct Run<'a> {
    folder: PathBuf,
    settings: &'a sources::Settings,
    fetcher: Fetcher,
    state: State,
    seen: HashSet<String>,
    report: Report,
}

/// Fetches what `sources` lists into `corpus`'s sync folder and rewrites the folder's manifest.
pub fn sync(corpus: &Path, sources: &Sources) -> Result<Report> {
    let folder = corpus.join(&sources.settings.folder);
    std::fs::create_dir_all(&folder).map_err(|source| Error::Io { path: folder.clone(), source })?;
    let mut run = Run {
        state: State::load(&folder),
        fetcher: Fetcher::new(&sources.settings).map_err(Error::Client)?,
        folder,
        settings: &sources.settings,
        seen: HashSet::new(),
        report: Report::default(),
    };
    for s in &sources.sources {
        let Some(url) = parse(&s.url) else { continue };
        let describing = Describing { describe: &s.describe, kind: s.describe.kind, kind_from_title: false, title: s.title.clone(), date: s.date, case: s.case.clone() };
        run.visit(&url, Some(describing));
    }
    let recheck = i64::try_from(sources.settings.recheck_attachments_days.saturating_mul(86_400)).unwrap_or(i64::MAX);
    for (index, pages, attachments) in &sources.indexes {
        let Some(url) = parse(&index.url) else { continue };
        let (listed, _) = run.visit(&url, None);
        let meetings = listed.iter().filter(|l| pages.is_match(&l.url) && l.url != index.url).take(run.settings.max_pages);
        for meeting in meetings.cloned().collect::<Vec<_>>() {
            let Some(meeting_url) = parse(&meeting.url) else { continue };
            let describing = Describing { describe: &index.describe, kind: index.describe.kind, kind_from_title: true, title: None, date: None, case: None };
            let (links, page_unchanged) = run.visit(&meeting_url, Some(describing));
            let Some(attachments) = attachments else { continue };
            for a in links.iter().filter(|l| attachments.is_match(&l.url) && !pages.is_match(&l.url)) {
                let Some(attachment_url) = parse(&a.url) else { continue };
                // An unchanged page's attachments, held and checked recently, are not asked again:
                // an archive of thousands of attachments at one request a second would otherwise
                // take hours per run.
                if page_unchanged && run.held_since(&attachment_url, recheck) {
                    continue;
                }
                let title = (!a.text.is_empty()).then(|| a.text.clone());
                let case = page::find_case(&[&a.text, &a.url]);
                let describing = Describing { describe: &index.describe, kind: index.attachment_kind, kind_from_title: false, title, date: None, case };
                run.visit(&attachment_url, Some(describing));
            }
        }
    }
    for system in &sources.agenda_systems {
        run.agenda_system(system, recheck);
    }
    run.finish()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn parse(u: &str) -> Option<url::Url> {
    url::Url::parse(u).ok()
}

impl Run<'_> {
    /// Whether `r` should have a copy on disk and has none (deleted by hand).
    fn copy_missing(&self, r: &Record) -> bool {
        r.entry.as_ref().is_some_and(|e| !self.folder.join(&e.path).is_file())
    }

    /// Whether a copy of `url` is held and was checked within `secs`; if so it counts as seen
    /// and unchanged without a request.
    fn held_since(&mut self, url: &url::Url, secs: i64) -> bool {
        let key = url.to_string();
        let Some(r) = self.state.records.get(&key) else { return false };
        if r.entry.is_none() || self.copy_missing(r) || now() - r.checked >= secs {
            return false;
        }
        if self.seen.insert(key.clone()) {
            self.report.unchanged.push(key);
        }
        true
    }

    /// Fetches `url` (conditionally) and keeps a copy when `describing` says what it is (an
    /// index page is read for its links only). Returns the page's same-host links — fresh, or
    /// those of the last run when it is unchanged or could not be fetched — and whether it is
    /// unchanged since the last run.
    fn visit(&mut self, url: &url::Url, describing: Option<Describing>) -> (Vec<Link>, bool) {
        let key = url.to_string();
        if !self.seen.insert(key.clone()) {
            return (self.state.records.get(&key).map(|r| r.links.clone()).unwrap_or_default(), false);
        }
        let previous = self.state.records.get(&key).cloned();
        // Validators only for a copy still on disk: a copy deleted by hand is fetched whole.
        let held = previous.as_ref().is_some_and(|r| !self.copy_missing(r));
        let validators = match (&previous, held) {
            (Some(r), true) => Validators { etag: r.etag.clone(), last_modified: r.last_modified.clone() },
            _ => Validators::default(),
        };
        match self.fetcher.get(url, &validators) {
            Fetched::NotModified => {
                self.report.unchanged.push(key.clone());
                let links = previous.as_ref().map(|r| r.links.clone()).unwrap_or_default();
                if let Some(mut r) = previous {
                    r.checked = now();
                    self.state.records.insert(key, r);
                }
                (links, true)
            }
            Fetched::Body { bytes, content_type, etag, last_modified } => {
                let html = content_type.as_deref().is_some_and(|c| c.contains("html")) || url.path().ends_with(".html") || url.path().ends_with(".htm");
                let (page_title, links) = if html { page::read_html(&bytes, url) } else { (None, Vec::new()) };
                let sha256 = hex::encode(Sha256::digest(&bytes));
                let mut record = Record { etag, last_modified, sha256, links: links.clone(), entry: None, checked: now(), ..Record::default() };
                let same_bytes = previous.as_ref().is_some_and(|p| p.sha256 == record.sha256);
                if let Some(d) = describing {
                    let Some(path) = page::local_path(url, content_type.as_deref()) else {
                        let reason = format!("not a format the ingest reads (content type {})", content_type.as_deref().unwrap_or("none"));
                        self.report.failed.push(Failure { url: key.clone(), reason });
                        return (links, false);
                    };
                    let unchanged = held && previous.as_ref().is_some_and(|p| p.sha256 == record.sha256 && p.entry.as_ref().is_some_and(|e| e.path == path));
                    if !unchanged {
                        if let Err(e) = write_atomically(&self.folder.join(&path), &bytes) {
                            self.report.failed.push(Failure { url: key.clone(), reason: e.to_string() });
                            return (links, false);
                        }
                        if let Some(old) = previous.as_ref().and_then(|p| p.entry.as_ref()).filter(|e| e.path != path) {
                            self.remove_copy(&old.path);
                        }
                    }
                    record.entry = Some(entry(url, path, page_title, d));
                    match (&previous, unchanged) {
                        (_, true) => self.report.unchanged.push(key.clone()),
                        (Some(_), false) => self.report.changed.push(key.clone()),
                        (None, false) => self.report.new.push(key.clone()),
                    }
                } else {
                    if same_bytes { &mut self.report.unchanged } else if previous.is_some() { &mut self.report.changed } else { &mut self.report.new }.push(key.clone());
                }
                self.state.records.insert(key, record);
                (links, same_bytes)
            }
            Fetched::Gone if previous.is_none() => {
                self.report.failed.push(Failure { url: key, reason: "not found (HTTP 404 or 410)".into() });
                (Vec::new(), false)
            }
            Fetched::Gone => {
                if let Some(e) = previous.and_then(|p| p.entry) {
                    self.remove_copy(&e.path);
                }
                self.state.records.remove(&key);
                self.report.removed.push(key);
                (Vec::new(), false)
            }
            Fetched::Disallowed => {
                self.report.disallowed.push(key);
                (previous.map(|r| r.links).unwrap_or_default(), false)
            }
            Fetched::Failed(reason) => {
                self.report.failed.push(Failure { url: key, reason });
                (previous.map(|r| r.links).unwrap_or_default(), false)
            }
        }
    }

    fn remove_copy(&self, rel: &str) {
        let path = self.folder.join(rel);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove a copy whose source is gone");
        }
    }

    /// Removes what no source lists or links any more, writes the manifest and the state.
    fn finish(mut self) -> Result<Report> {
        let gone: Vec<String> = self.state.records.keys().filter(|k| !self.seen.contains(*k)).cloned().collect();
        for key in gone {
            if let Some(e) = self.state.records.remove(&key).and_then(|r| r.entry) {
                self.remove_copy(&e.path);
            }
            self.report.removed.push(key);
        }
        let entries: Vec<Entry> = self.state.records.values().filter_map(|r| r.entry.clone()).collect();
        write_atomically(&self.folder.join(byraad_ingest::manifest::MANIFEST_FILE), Manifest::render(&entries).as_bytes())?;
        self.state.save(&self.folder)?;
        self.report.requests = self.fetcher.requests;
        self.report.bytes = self.fetcher.bytes;
        Ok(self.report)
    }
}

/// The manifest entry of a copy at `path` (relative to the sync folder).
fn entry(url: &url::Url, path: String, page_title: Option<String>, d: Describing) -> Entry {
    let title = d.title.or(page_title).unwrap_or_else(|| page::file_name(url));
    let lower = title.to_lowercase();
    let kind = match () {
        _ if d.kind_from_title && lower.contains("referat") => Kind::Referat,
        _ if d.kind_from_title && lower.contains("dagsorden") => Kind::Dagsorden,
        _ => d.kind,
    };
    let address = page::file_name(url);
    Entry {
        path,
        date: d.date.or_else(|| byraad_ingest::segment::find_date(&title)).or_else(|| byraad_ingest::segment::find_date(&address)),
        case: d.case.or_else(|| page::find_case(&[&title, url.as_str()])),
        title,
        kind,
        body: d.describe.body.clone(),
        access: d.describe.access,
        groups: d.describe.groups.clone(),
        source_url: Some(url.to_string()),
    }
}

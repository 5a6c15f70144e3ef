//! `sources.toml`: what `byraad sync` fetches, and how politely.
//!
//! ```toml
//! [sync]
//! folder = "hentet"          # the corpus subfolder fetched files go to
//! delay_ms = 1000            # between two requests to one host (a longer Crawl-delay wins)
//! timeout_secs = 30
//! recheck_attachments_days = 30   # an unchanged page's attachments are not asked again sooner
//!
//! [[source]]                 # one page or file
//! url = "https://example.org/referat-2025-08-27.pdf"
//! kind = "referat"
//! body = "Aarhus Byråd"
//!
//! [[index]]                  # a page whose links lead to meeting pages and their attachments
//! url = "https://example.org/byraadet"
//! pages = "/(dagsorden|referat)/"   # same-host links from the index to follow
//! attachments = "/bilag/|\\.pdf$"   # same-host links from those pages to fetch
//! kind = "dagsorden"                # a page titled "Referat …" is a referat
//! body = "Aarhus Byråd"
//!
//! [[firstagenda]]            # the agenda system's own API: committees, meetings, attachments
//! url = "https://dagsordener.example.dk"
//! committees = []            # all; or their names as the system gives them
//! ```

use std::path::Path;

use byraad_core::{Access, Kind};
use chrono::NaiveDate;
use regex::Regex;
use serde::Deserialize;

use crate::{Error, Result};

/// The file's name in the corpus root.
pub const SOURCES_FILE: &str = byraad_ingest::SOURCES_FILE;

/// `[sync]`: where fetched files go and how requests are paced.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The corpus subfolder fetched files (and their manifest) go to; sync owns it.
    pub folder: String,
    /// The User-Agent sent, and matched against robots.txt.
    pub user_agent: String,
    /// Least time between two requests to one host (robots.txt's Crawl-delay wins when longer).
    pub delay_ms: u64,
    /// Timeout of one request, connecting and reading included.
    pub timeout_secs: f64,
    /// Largest file fetched; a larger one is a failure naming its size.
    pub max_file_mib: u64,
    /// Most pages one index leads to in a run.
    pub max_pages: usize,
    /// The attachments of an unchanged meeting page are not asked for again until this many
    /// days after they were last checked (agenda systems add material by changing the page).
    pub recheck_attachments_days: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            folder: "hentet".into(),
            user_agent: format!("byraad-gpt/{}", env!("CARGO_PKG_VERSION")),
            delay_ms: 1000,
            timeout_secs: 30.0,
            max_file_mib: 64,
            max_pages: 500,
            recheck_attachments_days: 30,
        }
    }
}

/// What the manifest says of what a source yields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Describe {
    /// Kind of document.
    pub kind: Kind,
    /// Council body or committee.
    pub body: String,
    /// Access level.
    #[serde(default)]
    pub access: Access,
    /// Who may read a restricted document.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// `[[source]]`: one page or file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Its address.
    pub url: String,
    /// Title; else the page's own, or the file's name.
    #[serde(default)]
    pub title: Option<String>,
    /// Date; else one found in the title, address or text.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Case number; else one found in the title or address.
    #[serde(default)]
    pub case: Option<String>,
    /// Kind, body and access.
    #[serde(flatten)]
    pub describe: Describe,
}

/// `[[index]]`: a page listing meetings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// The index page's address.
    pub url: String,
    /// Links (on the same host) from the index that are meeting pages.
    pub pages: String,
    /// Links (on the same host) from a meeting page that are attachments to fetch.
    #[serde(default)]
    pub attachments: Option<String>,
    /// Kind of an attachment.
    #[serde(default = "default_attachment_kind")]
    pub attachment_kind: Kind,
    /// Kind, body and access of the meeting pages (a page titled as a referat or dagsorden is
    /// that kind) and their attachments.
    #[serde(flatten)]
    pub describe: Describe,
}

fn default_attachment_kind() -> Kind {
    Kind::Bilag
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    sync: Settings,
    #[serde(default)]
    source: Vec<Source>,
    #[serde(default)]
    index: Vec<Index>,
    #[serde(default)]
    firstagenda: Vec<FirstAgenda>,
}

/// The parsed file, with its patterns compiled.
#[derive(Debug, Clone)]
pub struct Sources {
    /// `[sync]`.
    pub settings: Settings,
    /// `[[source]]` entries.
    pub sources: Vec<Source>,
    /// `[[index]]` entries with their compiled patterns (pages, attachments).
    pub indexes: Vec<(Index, Regex, Option<Regex>)>,
    /// `[[firstagenda]]` entries: agenda systems followed through their own API.
    pub agenda_systems: Vec<FirstAgenda>,
}

impl Sources {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        Self::parse(&text, path)
    }

    /// Parses `text`; `path` names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let err = |message: String| Error::Sources { path: path.to_path_buf(), message };
        let raw: Raw = toml::from_str(text).map_err(|e| err(e.message().to_string()))?;
        let folder = raw.sync.folder.trim_matches('/');
        if folder.is_empty() || folder.split('/').any(|c| c.is_empty() || c == ".." || c.starts_with('.')) {
            return Err(err(format!("[sync] folder {:?} must be a plain subfolder of the corpus", raw.sync.folder)));
        }
        if raw.sync.timeout_secs.is_nan() || raw.sync.timeout_secs <= 0.0 {
            return Err(err("[sync] timeout_secs must be positive".into()));
        }
        let check_url = |what: &str, u: &str| -> Result<()> {
            match url::Url::parse(u) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some() => Ok(()),
                Ok(_) => Err(err(format!("{what} {u:?}: only http and https addresses are fetched"))),
                Err(e) => Err(err(format!("{what} {u:?}: {e}"))),
            }
        };
        let check_describe = |what: &str, d: &Describe| -> Result<()> {
            if d.access == Access::Restricted && d.groups.is_empty() {
                return Err(err(format!("{what}: a restricted source needs at least one group")));
            }
            Ok(())
        };
        for s in &raw.source {
            check_url("source", &s.url)?;
            check_describe(&format!("source {}", s.url), &s.describe)?;
        }
        let mut indexes = Vec::new();
        for i in raw.index {
            check_url("index", &i.url)?;
            check_describe(&format!("index {}", i.url), &i.describe)?;
            let compile = |what: &str, p: &str| Regex::new(p).map_err(|e| err(format!("index {}: {what} pattern: {e}", i.url)));
            let pages = compile("pages", &i.pages)?;
            let attachments = i.attachments.as_deref().map(|p| compile("attachments", p)).transpose()?;
            indexes.push((i, pages, attachments));
        }
        for a in &raw.firstagenda {
            check_url("firstagenda", &a.url)?;
            if a.access == Access::Restricted && a.groups.is_empty() {
                return Err(err(format!("firstagenda {}: a restricted source needs at least one group", a.url)));
            }
        }
        Ok(Self { settings: Settings { folder: folder.to_string(), ..raw.sync }, sources: raw.source, indexes, agenda_systems: raw.firstagenda })
    }
}

/// `[[firstagenda]]` in `sources.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstAgenda {
    /// The system's base address ("https://dagsordener.greve.dk").
    pub url: String,
    /// Only these committees (their names as the system gives them); all when empty.
    #[serde(default)]
    pub committees: Vec<String>,
    /// Fetch the attachments' PDFs too.
    #[serde(default = "yes")]
    pub attachments: bool,
    /// Access level of what is fetched.
    #[serde(default)]
    pub access: Access,
    /// Who may read it when restricted.
    #[serde(default)]
    pub groups: Vec<String>,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[sync]
folder = "hentet"
delay_ms = 10

[[source]]
url = "https://example.org/a.pdf"
kind = "referat"
body = "Aarhus Byråd"

[[firstagenda]]
url = "https://dagsordener.example.org"
committees = ["Økonomiudvalget"]

[[index]]
url = "https://example.org/byraadet"
pages = "/møde/"
attachments = "\\.pdf$"
kind = "dagsorden"
body = "Aarhus Byråd"
"#;

    #[test]
    fn parses_sources_and_indexes() {
        let s = Sources::parse(GOOD, Path::new("sources.toml")).unwrap();
        assert_eq!(s.settings.folder, "hentet");
        assert_eq!(s.settings.delay_ms, 10);
        assert_eq!(s.settings.timeout_secs, 30.0);
        assert_eq!(s.sources[0].describe.kind, Kind::Referat);
        let (index, pages, attachments) = &s.indexes[0];
        assert_eq!(index.attachment_kind, Kind::Bilag);
        assert!(pages.is_match("/møde/12") && attachments.as_ref().unwrap().is_match("/b/1.pdf"));
        assert_eq!(s.agenda_systems[0].url, "https://dagsordener.example.org");
        assert!(s.agenda_systems[0].attachments && s.agenda_systems[0].committees == ["Økonomiudvalget"]);
    }

    #[test]
    fn bad_files_are_refused_naming_the_problem() {
        let cases = [
            (GOOD.replace("https://example.org/a.pdf", "ftp://example.org/a.pdf"), "only http"),
            (GOOD.replace("folder = \"hentet\"", "folder = \"../ud\""), "plain subfolder"),
            (GOOD.replace("\"/møde/\"", "\"(\""), "pages pattern"),
            (GOOD.replace("kind = \"referat\"", "kind = \"minutes\""), "minutes"),
            (GOOD.replace("delay_ms = 10", "delay_ms = 10\ncolour = 1"), "colour"),
            (GOOD.replace("kind = \"referat\"", "kind = \"referat\"\naccess = \"restricted\""), "group"),
            (GOOD.replace("https://dagsordener.example.org", "file:///etc"), "only http"),
        ];
        for (text, want) in cases {
            let e = Sources::parse(&text, Path::new("sources.toml")).unwrap_err().to_string();
            assert!(e.contains(want) && e.contains("sources.toml"), "{want}: {e}");
        }
    }
}

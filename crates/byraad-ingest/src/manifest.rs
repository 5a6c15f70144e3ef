//! `manifest.toml`: one `[[document]]` entry per corpus file.
//!
//! The corpus root's manifest is written by hand; a subdirectory may hold its own, describing the
//! files beneath it with paths relative to it (`byraad sync` keeps one in the folder it fetches
//! into, so the hand-written manifest is never rewritten).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use byraad_core::{Access, Kind};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The manifest's file name inside the corpus directory.
pub const MANIFEST_FILE: &str = "manifest.toml";

/// One `[[document]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Path relative to the corpus root, with `/` separators.
    pub path: String,
    /// Human title.
    pub title: String,
    /// Kind of document.
    pub kind: Kind,
    /// Council body or committee.
    pub body: String,
    /// Date, YYYY-MM-DD.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Access level.
    #[serde(default)]
    pub access: Access,
    /// Groups that may read a restricted document.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The case number (e.g. EMN-2025-001234), for sections that do not name their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// Where the file was fetched from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    /// Corpus-relative paths (files or directories) that are not documents, e.g. a README.
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    document: Vec<toml::Value>,
}

/// The parsed manifest, keyed by path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    entries: BTreeMap<String, Entry>,
    exclude: Vec<String>,
}

impl Manifest {
    /// Reads `<corpus>/manifest.toml` and the manifests of its subdirectories (hidden ones
    /// skipped); a corpus without any has an empty manifest. A path listed by two manifests is
    /// an error naming both.
    pub fn load(corpus: &Path) -> Result<Self> {
        let path = corpus.join(MANIFEST_FILE);
        let mut manifest = match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::default(),
            Err(source) => return Err(Error::Io { path, source }),
        };
        let nested = walkdir::WalkDir::new(corpus)
            .min_depth(2)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(std::result::Result::ok)
            .filter(|e| e.file_type().is_file() && e.file_name() == MANIFEST_FILE);
        for entry in nested {
            let path = entry.path();
            let dir = path.parent().and_then(|d| d.strip_prefix(corpus).ok()).unwrap_or(Path::new(""));
            let prefix: String = dir.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            // An excluded folder's manifest, or an excluded manifest file, describes nothing.
            if manifest.excludes(&format!("{prefix}/{MANIFEST_FILE}")) {
                continue;
            }
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
            let inner = Self::parse(&text, path)?;
            for (rel, mut e) in inner.entries {
                let full = format!("{prefix}/{rel}");
                e.path = full.clone();
                if manifest.entries.insert(full.clone(), e).is_some() {
                    return Err(Error::Manifest { path: path.to_path_buf(), message: format!("{full} is also listed by another manifest") });
                }
            }
            manifest.exclude.extend(inner.exclude.into_iter().map(|x| format!("{prefix}/{x}")));
        }
        Ok(manifest)
    }

    /// Whether `rel` (corpus-relative) is a manifest rather than a document.
    pub fn is_manifest(rel: &str) -> bool {
        rel == MANIFEST_FILE || rel.ends_with(&format!("/{MANIFEST_FILE}"))
    }

    /// The entries, by path.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// Manifest text for `entries` (what [`Manifest::parse`] reads back).
    pub fn render(entries: &[Entry]) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            document: &'a [Entry],
        }
        toml::to_string(&Out { document: entries }).unwrap_or_default()
    }

    /// Parses manifest text; `path` names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let err = |message: String| Error::Manifest { path: path.to_path_buf(), message };
        let raw: RawManifest = toml::from_str(text).map_err(|e| err(e.message().to_string()))?;
        let mut entries = BTreeMap::new();
        for (i, value) in raw.document.iter().cloned().enumerate() {
            let name = value
                .get("path")
                .and_then(|p| p.as_str())
                .map_or_else(|| format!("document #{}", i + 1), |p| format!("document #{} ({p})", i + 1));
            let entry: Entry = value.try_into().map_err(|e: toml::de::Error| err(format!("{name}: {}", e.message())))?;
            if entry.title.trim().is_empty() {
                return Err(err(format!("{name}: title must not be empty")));
            }
            if entry.access == Access::Restricted && entry.groups.is_empty() {
                return Err(err(format!("{name}: a restricted document needs at least one group")));
            }
            if entry.path.starts_with('/') || entry.path.split('/').any(|c| c == "..") {
                return Err(err(format!("{name}: path must be relative to the corpus and stay inside it")));
            }
            if entries.insert(entry.path.clone(), entry).is_some() {
                return Err(err(format!("{name}: the path is listed twice")));
            }
        }
        Ok(Self { entries, exclude: raw.exclude })
    }

    /// The entry for a corpus-relative path.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// Whether `rel` is excluded from ingestion.
    pub fn excludes(&self, rel: &str) -> bool {
        self.exclude.iter().any(|x| rel == x || rel.starts_with(&format!("{}/", x.trim_end_matches('/'))))
    }

    /// Entries whose files do not exist under `corpus`.
    pub fn missing(&self, corpus: &Path) -> Vec<PathBuf> {
        self.entries.keys().map(|p| corpus.join(p)).filter(|p| !p.exists()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[document]]
path = "a/referat.pdf"
title = "Referat"
kind = "referat"
body = "Aarhus Byråd"
date = "2025-08-27"
"#;

    #[test]
    fn parses_entries() {
        let m = Manifest::parse(GOOD, Path::new("m.toml")).unwrap();
        let e = m.get("a/referat.pdf").unwrap();
        assert_eq!(e.kind, Kind::Referat);
        assert_eq!(e.access, Access::Public);
        assert_eq!(e.date, NaiveDate::from_ymd_opt(2025, 8, 27));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_entry() {
        let bad_key = GOOD.replace("body =", "colour = \"red\"\nbody =");
        let err = Manifest::parse(&bad_key, Path::new("m.toml")).unwrap_err().to_string();
        assert!(err.contains("document #1 (a/referat.pdf)") && err.contains("colour"), "{err}");
        let bad_kind = GOOD.replace("\"referat\"\nbody", "\"minutes\"\nbody");
        let err = Manifest::parse(&bad_kind, Path::new("m.toml")).unwrap_err().to_string();
        assert!(err.contains("a/referat.pdf") && err.contains("minutes"), "{err}");
        let bad_date = GOOD.replace("2025-08-27", "27-08-2025");
        assert!(Manifest::parse(&bad_date, Path::new("m.toml")).is_err());
        let restricted = GOOD.replace("date =", "access = \"restricted\"\ndate =");
        let err = Manifest::parse(&restricted, Path::new("m.toml")).unwrap_err().to_string();
        assert!(err.contains("group"), "{err}");
    }

    #[test]
    fn subfolder_manifests_describe_the_files_beneath_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), GOOD).unwrap();
        std::fs::create_dir_all(dir.path().join("hentet/site")).unwrap();
        let inner = GOOD.replace("a/referat.pdf", "site/moede.html").replace("date =", "source_url = \"https://example.org/moede\"\ncase = \"EMN-2025-000001\"\ndate =");
        std::fs::write(dir.path().join("hentet").join(MANIFEST_FILE), &inner).unwrap();
        let m = Manifest::load(dir.path()).unwrap();
        assert!(m.get("a/referat.pdf").is_some());
        let e = m.get("hentet/site/moede.html").expect("the subfolder's entry, under its folder");
        assert_eq!(e.source_url.as_deref(), Some("https://example.org/moede"));
        assert_eq!(e.case.as_deref(), Some("EMN-2025-000001"));
        assert!(Manifest::is_manifest("hentet/manifest.toml") && Manifest::is_manifest("manifest.toml") && !Manifest::is_manifest("a/x.toml"));
        // What render writes, parse reads back.
        let entries: Vec<Entry> = Manifest::parse(&inner, Path::new("m.toml")).unwrap().entries().cloned().collect();
        let again: Vec<Entry> = Manifest::parse(&Manifest::render(&entries), Path::new("m.toml")).unwrap().entries().cloned().collect();
        assert_eq!(entries, again);
        // An excluded manifest (by its folder or by itself) is not read.
        let excluded = GOOD.replace("[[document]]", "exclude = [\"hentet/manifest.toml\"]\n\n[[document]]");
        std::fs::write(dir.path().join(MANIFEST_FILE), &excluded).unwrap();
        assert!(Manifest::load(dir.path()).unwrap().get("hentet/site/moede.html").is_none());
        std::fs::write(dir.path().join(MANIFEST_FILE), excluded.replace("hentet/manifest.toml", "hentet")).unwrap();
        assert!(Manifest::load(dir.path()).unwrap().get("hentet/site/moede.html").is_none());
        std::fs::write(dir.path().join(MANIFEST_FILE), GOOD).unwrap();
        // The same path listed by two manifests is refused, naming it.
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a").join(MANIFEST_FILE), GOOD.replace("a/referat.pdf", "referat.pdf")).unwrap();
        let err = Manifest::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("a/referat.pdf") && err.contains("another manifest"), "{err}");
    }
}

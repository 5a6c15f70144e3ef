//! What the last runs fetched, kept beside the copies (`.sync-state.json`, hidden from the
//! ingest): per address its validators, content hash, links and manifest entry. Written whole
//! to a temporary file and renamed, as are the copies and the folder's manifest.

use std::collections::BTreeMap;
use std::path::Path;

use byraad_ingest::Entry;
use serde::{Deserialize, Serialize};

use crate::page::Link;
use crate::{Error, Result};

/// The state file's name in the sync folder.
pub const STATE_FILE: &str = ".sync-state.json";

/// One address fetched before.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Record {
    /// The server's ETag.
    pub etag: Option<String>,
    /// The server's Last-Modified.
    pub last_modified: Option<String>,
    /// SHA-256 of the body, hex.
    pub sha256: String,
    /// Same-host links of a page (reused when it answers 304).
    #[serde(default)]
    pub links: Vec<Link>,
    /// The copy's manifest entry (path relative to the sync folder); none for an index page,
    /// which is read for its links only.
    pub entry: Option<Entry>,
    /// When the source last answered (200 or 304), in seconds since the epoch.
    #[serde(default)]
    pub checked: i64,
    /// What the agenda system's committee list said of a meeting when it was last fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed: Option<String>,
    /// A meeting's attachments' addresses, as last fetched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
}

/// Every address fetched, by address.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// Records by absolute address.
    pub records: BTreeMap<String, Record>,
}

impl State {
    /// Reads the folder's state; none yet (or an unreadable one, with a warning) is empty, and
    /// the next run fetches everything unconditionally.
    pub fn load(folder: &Path) -> Self {
        let path = folder.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "sync state unreadable: fetching everything again");
                Self::default()
            }),
            Err(_) => Self::default(),
        }
    }

    /// Writes the state.
    pub fn save(&self, folder: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Io { path: folder.join(STATE_FILE), source: std::io::Error::other(e) })?;
        write_atomically(&folder.join(STATE_FILE), &bytes)
    }
}

/// Writes `bytes` to a hidden temporary file beside `path` (the ingest skips hidden files), then
/// renames it over `path`: a reader sees the old file or the new, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.part"));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

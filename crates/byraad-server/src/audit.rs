//! The audit log: one JSON line per API request (who, which endpoint, what was asked, which
//! documents were returned and cited, status, latency), appended to a file per day
//! (`audit-YYYY-MM-DD.jsonl`, UTC). No token and, unless configured, no answer text is written.
//!
//! Every line is appended with its own open-append-close, so a rotated, moved or deleted file
//! is simply started again, and a failure is seen by the request that caused it: the API answers
//! 500 rather than an unaudited answer, and `/healthz` reports the log as failing until a write
//! succeeds again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use byraad_core::config::AuditQuery;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One audited request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When the request was answered (UTC, RFC 3339).
    pub time: DateTime<Utc>,
    /// The principal's name ("anonymous" without a token; "-" when authentication failed).
    pub principal: String,
    /// Method and path pattern: "POST /v1/chat".
    pub endpoint: String,
    /// The query, question, document id or draft text: as asked, or `sha256:<hex>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Documents returned (hits, related material, the document read), in order, each once.
    #[serde(default)]
    pub returned: Vec<String>,
    /// Documents cited in an answer or draft.
    #[serde(default)]
    pub cited: Vec<String>,
    /// HTTP status.
    pub status: u16,
    /// Milliseconds from request to response (for a stream: to its last event).
    pub latency_ms: u64,
    /// The answer's text, when `audit.answers` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// "done" for the entry a streamed answer writes when it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
}

/// What a handler tells the audit log about its response (a response extension).
#[derive(Debug, Clone, Default)]
pub struct AuditInfo {
    /// The query or question.
    pub query: Option<String>,
    /// Documents returned.
    pub returned: Vec<String>,
    /// Documents cited.
    pub cited: Vec<String>,
    /// The answer's text.
    pub answer: Option<String>,
}

impl AuditInfo {
    /// Info about a request for `query`.
    pub fn query(query: impl Into<String>) -> Self {
        Self { query: Some(query.into()), ..Self::default() }
    }

    /// Adds returned documents (each once).
    pub fn returned<'a>(mut self, ids: impl IntoIterator<Item = &'a str>) -> Self {
        push_unique(&mut self.returned, ids);
        self
    }

    /// Adds cited documents (each once); cited documents are returned too.
    pub fn cited<'a>(mut self, ids: impl IntoIterator<Item = &'a str> + Clone) -> Self {
        push_unique(&mut self.cited, ids.clone());
        push_unique(&mut self.returned, ids);
        self
    }
}

fn push_unique<'a>(list: &mut Vec<String>, ids: impl IntoIterator<Item = &'a str>) {
    for id in ids {
        if !list.iter().any(|x| x == id) {
            list.push(id.to_string());
        }
    }
}

/// The log's directory and settings, and whether its last write failed.
#[derive(Debug)]
pub struct AuditLog {
    dir: PathBuf,
    query: AuditQuery,
    answers: bool,
    /// Serialises appends; holds the last write's error, if it failed.
    state: Mutex<Option<String>>,
}

impl AuditLog {
    /// A log in `dir` (created on the first write).
    pub fn new(dir: PathBuf, query: AuditQuery, answers: bool) -> Self {
        Self { dir, query, answers, state: Mutex::new(None) }
    }

    /// Where the daily files are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `day`.
    pub fn file_of(dir: &Path, day: NaiveDate) -> PathBuf {
        dir.join(format!("audit-{day}.jsonl"))
    }

    /// The entry for a request, its query written as configured.
    pub fn entry(&self, principal: &str, endpoint: &str, info: AuditInfo, status: u16, latency_ms: u64) -> AuditEntry {
        let query = info.query.map(|q| match self.query {
            AuditQuery::Full => q,
            AuditQuery::Hash => format!("sha256:{}", hex::encode(Sha256::digest(q.as_bytes()))),
        });
        AuditEntry {
            time: Utc::now(),
            principal: principal.to_string(),
            endpoint: endpoint.to_string(),
            query,
            returned: info.returned,
            cited: info.cited,
            status,
            latency_ms,
            answer: info.answer.filter(|_| self.answers),
            stream: None,
        }
    }

    /// Appends `entry` to its day's file.
    pub fn write(&self, entry: &AuditEntry) -> Result<(), String> {
        let mut line = serde_json::to_string(entry).map_err(|e| e.to_string())?;
        line.push('\n');
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let result = self.append(entry.time.date_naive(), line.as_bytes());
        *state = result.as_ref().err().cloned();
        if let Err(e) = &result {
            tracing::error!(error = %e, "audit log write failed; the request is refused");
        }
        result
    }

    fn append(&self, day: NaiveDate, bytes: &[u8]) -> Result<(), String> {
        let path = Self::file_of(&self.dir, day);
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("audit log {}: {e}", self.dir.display()))?;
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(|e| format!("audit log {}: {e}", path.display()))?;
        file.write_all(bytes).and_then(|()| file.flush()).map_err(|e| format!("audit log {}: {e}", path.display()))
    }

    /// `None` when the log can be written; else why not. Tries the day's file (creating it), so
    /// a log that failed reports healthy again once the cause is fixed.
    pub fn health(&self) -> Option<String> {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let probe = self.append(Utc::now().date_naive(), b"");
        *state = probe.err();
        state.clone()
    }
}

/// Entries of the log in `dir`, oldest first, that match: a principal, a first day, a document
/// returned or cited. Lines that are not entries are reported by number and skipped.
pub fn read_entries(dir: &Path, principal: Option<&str>, since: Option<NaiveDate>, doc: Option<&str>) -> std::io::Result<(Vec<AuditEntry>, Vec<String>)> {
    let mut files: Vec<(NaiveDate, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let day = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_prefix("audit-")?.strip_suffix(".jsonl")).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        if let Some(day) = day
            && since.is_none_or(|s| day >= s)
        {
            files.push((day, path));
        }
    }
    files.sort();
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (_, path) in files {
        for (i, line) in std::fs::read_to_string(&path)?.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let Ok(e) = serde_json::from_str::<AuditEntry>(line) else {
                bad.push(format!("{}:{}", path.display(), i + 1));
                continue;
            };
            let keep = principal.is_none_or(|p| e.principal == p)
                && since.is_none_or(|s| e.time.date_naive() >= s)
                && doc.is_none_or(|d| e.returned.iter().chain(&e.cited).any(|x| x == d));
            if keep {
                out.push(e);
            }
        }
    }
    Ok((out, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_appended_per_day_and_read_back_by_principal_and_document() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("audit"), AuditQuery::Full, false);
        let info = AuditInfo::query("Hvad koster broen?").returned(["d1", "d2", "d1"]).cited(["d2"]);
        let mut e = log.entry("medlem", "POST /v1/chat", AuditInfo { answer: Some("Broen koster 5 mio. kr. [1]".into()), ..info }, 200, 12);
        assert_eq!(e.returned, ["d1", "d2"]);
        assert_eq!(e.answer, None, "answers are not written unless configured");
        log.write(&e).unwrap();
        e.principal = "sekretariat".into();
        e.returned = vec!["d3".into()];
        e.cited.clear();
        log.write(&e).unwrap();
        assert_eq!(log.health(), None);

        let (all, bad) = read_entries(log.dir(), None, None, None).unwrap();
        assert_eq!((all.len(), bad.len()), (2, 0));
        let (who, _) = read_entries(log.dir(), Some("medlem"), None, None).unwrap();
        assert_eq!(who.len(), 1);
        assert_eq!(who[0].query.as_deref(), Some("Hvad koster broen?"));
        let (seen, _) = read_entries(log.dir(), None, None, Some("d2")).unwrap();
        assert_eq!(seen.iter().map(|e| e.principal.as_str()).collect::<Vec<_>>(), ["medlem"]);
        let tomorrow = Utc::now().date_naive().succ_opt().unwrap();
        assert!(read_entries(log.dir(), None, Some(tomorrow), None).unwrap().0.is_empty());
        assert!(AuditLog::file_of(log.dir(), Utc::now().date_naive()).exists());
    }

    #[test]
    fn hashed_queries_and_a_failing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("audit"), AuditQuery::Hash, true);
        let e = log.entry("medlem", "POST /v1/search", AuditInfo { answer: Some("svar".into()), ..AuditInfo::query("habilitet") }, 200, 1);
        assert_eq!(e.query, Some(format!("sha256:{}", hex::encode(Sha256::digest(b"habilitet")))));
        assert_eq!(e.answer.as_deref(), Some("svar"));
        // The directory's place taken by a file: writes fail, health says why.
        std::fs::write(dir.path().join("audit"), "not a directory").unwrap();
        let err = log.write(&e).unwrap_err();
        assert!(err.contains("audit"), "{err}");
        assert!(log.health().is_some());
        std::fs::remove_file(dir.path().join("audit")).unwrap();
        assert_eq!(log.health(), None, "healthy again once the cause is gone");
    }
}

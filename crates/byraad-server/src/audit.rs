//! The audit log: one JSON line per API request (who, which endpoint, what was asked, which
//! documents were returned and cited, status, latency), appended to a file per day
//! (`audit-YYYY-MM-DD.jsonl`, UTC). No token and, unless configured, no answer text is written.
//!
//! Every line is appended with its own open-append-close, so a rotated, moved or deleted file
//! is simply started again, and a failure is seen by the request that caused it: the API answers
//! 503 rather than an unaudited answer, and `/healthz` reports the log as failing until a write
//! succeeds again. With `audit.fsync` (the default) each line is on disk before the response is
//! sent.
//!
//! The log is a hash chain: each entry carries `prev`, the SHA-256 of the line before it (across
//! the daily files), so [`verify`] finds any line changed, removed or inserted after the first.
//! Files older than `audit.retention_days` are deleted when a new day's file starts.

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
    /// For the entry a streamed answer writes when it ends: "done", "aborted" (the client left;
    /// `cited` holds only the citations sent) or "failed".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// For a line summarising refused requests: how many more like it (same principal or
    /// address, endpoint and status) were refused after the one written, over `interval_secs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeated: Option<u64>,
    /// The seconds a summary of refused requests covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_secs: Option<u64>,
    /// SHA-256 (hex) of the line before this one in the log; 64 zeros on the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
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

/// The log's directory and settings, and where its chain stands.
#[derive(Debug)]
pub struct AuditLog {
    dir: PathBuf,
    query: AuditQuery,
    answers: bool,
    fsync: bool,
    retention_days: u32,
    /// Serialises appends.
    state: Mutex<Chain>,
    /// Requests refused before their handler, counted between summaries.
    refusals: crate::refusals::Refusals,
}

#[derive(Debug, Default)]
struct Chain {
    /// The last write's error, if it failed.
    error: Option<String>,
    /// The hash of the last line; `None` until read from the files.
    last: Option<Option<String>>,
    /// The day of the last write (retention runs when it changes).
    day: Option<NaiveDate>,
}

impl AuditLog {
    /// A log in `dir` (created on the first write), each line synced to disk, kept forever.
    pub fn new(dir: PathBuf, query: AuditQuery, answers: bool) -> Self {
        Self { dir, query, answers, fsync: true, retention_days: 0, state: Mutex::new(Chain::default()), refusals: crate::refusals::Refusals::new(REFUSAL_INTERVAL) }
    }

    /// The same log summarising refused requests every `interval` (see [`crate::refusals`]).
    #[must_use]
    pub fn with_refusal_interval(mut self, interval: std::time::Duration) -> Self {
        self.refusals = crate::refusals::Refusals::new(interval);
        self
    }

    /// Records a request refused before its handler (401, 403, 429) by `who` (its principal,
    /// with its address when that is all that tells it apart): the first of its kind in an
    /// interval written, the rest counted into one summary line.
    pub fn refused(&self, who: &str, entry: &AuditEntry) -> Result<(), String> {
        self.refusals.record(self, who, entry)
    }

    /// Writes the summaries of refused requests whose interval is over (all of them with
    /// `all`, as at shutdown).
    pub fn flush_refusals(&self, all: bool) -> Result<(), String> {
        self.refusals.flush(self, all)
    }

    /// The same log, syncing each line (`fsync`) or not, keeping `retention_days` of files (0:
    /// all).
    #[must_use]
    pub fn with_durability(mut self, fsync: bool, retention_days: u32) -> Self {
        self.fsync = fsync;
        self.retention_days = retention_days;
        self
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
            repeated: None,
            interval_secs: None,
            prev: None,
        }
    }

    /// Appends `entry` to its day's file, chained to the line before it, on disk (with
    /// `fsync`) before this returns.
    pub fn write(&self, entry: &AuditEntry) -> Result<(), String> {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let day = entry.time.date_naive();
        if state.day != Some(day) {
            self.prune(day);
            state.day = Some(day);
        }
        if state.last.is_none() {
            state.last = Some(last_line_hash(&self.dir).map_err(|e| format!("audit log {}: {e}", self.dir.display()))?);
        }
        let mut entry = entry.clone();
        entry.prev = Some(state.last.clone().flatten().unwrap_or_else(|| GENESIS.to_string()));
        let line = serde_json::to_string(&entry).map_err(|e| e.to_string())?;
        let result = self.append(day, format!("{line}\n").as_bytes());
        match &result {
            Ok(()) => {
                state.last = Some(Some(line_hash(&line)));
                state.error = None;
            }
            Err(e) => {
                // What reached the file is unknown: read the chain's end again next time.
                state.last = None;
                state.error = Some(e.clone());
                tracing::error!(error = %e, "audit log write failed; the request is refused");
            }
        }
        result
    }

    fn append(&self, day: NaiveDate, bytes: &[u8]) -> Result<(), String> {
        let path = Self::file_of(&self.dir, day);
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("audit log {}: {e}", self.dir.display()))?;
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(|e| format!("audit log {}: {e}", path.display()))?;
        file.write_all(bytes).map_err(|e| format!("audit log {}: {e}", path.display()))?;
        if self.fsync && !bytes.is_empty() {
            file.sync_data().map_err(|e| format!("audit log {}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// Deletes the daily files older than the retention period before `today`.
    fn prune(&self, today: NaiveDate) {
        if self.retention_days == 0 {
            return;
        }
        let Some(oldest) = today.checked_sub_days(chrono::Days::new(u64::from(self.retention_days))) else { return };
        for (day, path) in daily_files(&self.dir).unwrap_or_default() {
            if day < oldest {
                match std::fs::remove_file(&path) {
                    Ok(()) => tracing::info!(file = %path.display(), "audit file past retention deleted"),
                    Err(e) => tracing::warn!(file = %path.display(), error = %e, "audit file past retention not deleted"),
                }
            }
        }
    }

    /// `None` when the log can be written; else why not. Tries the day's file (creating it), so
    /// a log that failed reports healthy again once the cause is fixed.
    pub fn health(&self) -> Option<String> {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let probe = self.append(Utc::now().date_naive(), b"");
        state.error = probe.err();
        state.error.clone()
    }
}

/// How often refused requests are summarised unless configured.
const REFUSAL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// The `prev` of the first entry of a log.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 (hex) of a line, without its newline.
fn line_hash(line: &str) -> String {
    hex::encode(Sha256::digest(line.as_bytes()))
}

/// The daily files in `dir`, oldest first.
fn daily_files(dir: &Path) -> std::io::Result<Vec<(NaiveDate, PathBuf)>> {
    let mut files = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let day = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_prefix("audit-")?.strip_suffix(".jsonl")).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        if let Some(day) = day {
            files.push((day, path));
        }
    }
    files.sort();
    Ok(files)
}

/// The hash of the log's last line, `None` when it has none.
fn last_line_hash(dir: &Path) -> std::io::Result<Option<String>> {
    for (_, path) in daily_files(dir)?.into_iter().rev() {
        let text = std::fs::read_to_string(&path)?;
        if let Some(line) = text.lines().rev().find(|l| !l.trim().is_empty()) {
            return Ok(Some(line_hash(line)));
        }
    }
    Ok(None)
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    /// Entries read.
    pub entries: usize,
    /// Entries before the chain's first link (written before the log was chained).
    pub unchained: usize,
    /// Each break: the file and line, and what is wrong.
    pub breaks: Vec<String>,
    /// The hash of the last line: record it to detect a later truncation.
    pub head: Option<String>,
}

/// Checks the hash chain of the log in `dir`: every entry's `prev` must be the hash of the line
/// before it. The first chained entry (the log's first, or the first after files deleted by
/// retention) is taken as the chain's start; entries without `prev` before it are counted as
/// unchained (written before the log was chained).
pub fn verify(dir: &Path) -> std::io::Result<Verification> {
    let mut v = Verification::default();
    let mut last: Option<String> = None;
    let mut started = false;
    for (_, path) in daily_files(dir)? {
        for (i, line) in std::fs::read_to_string(&path)?.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("{}:{}", path.display(), i + 1);
            match serde_json::from_str::<AuditEntry>(line) {
                Err(e) => v.breaks.push(format!("{at}: not an audit entry ({e})")),
                Ok(e) => {
                    v.entries += 1;
                    match (&e.prev, started) {
                        (None, false) => v.unchained += 1,
                        (Some(_), false) => started = true,
                        (prev, true) if prev.as_ref() != last.as_ref() => v.breaks.push(format!("{at}: does not follow the line before it (changed, removed or inserted)")),
                        _ => {}
                    }
                }
            }
            last = Some(line_hash(line));
        }
    }
    v.head = last;
    Ok(v)
}

/// Entries of the log in `dir`, oldest first, that match: a principal, a first day, a document
/// returned or cited. Lines that are not entries are reported by number and skipped.
pub fn read_entries(dir: &Path, principal: Option<&str>, since: Option<NaiveDate>, doc: Option<&str>) -> std::io::Result<(Vec<AuditEntry>, Vec<String>)> {
    let files: Vec<(NaiveDate, PathBuf)> = daily_files(dir)?.into_iter().filter(|(day, _)| since.is_none_or(|s| *day >= s)).collect();
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
    fn the_chain_finds_a_changed_removed_or_inserted_line_and_continues_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("audit");
        let log = AuditLog::new(audit.clone(), AuditQuery::Full, false);
        for q in ["a", "b", "c"] {
            log.write(&log.entry("medlem", "POST /v1/search", AuditInfo::query(q), 200, 1)).unwrap();
        }
        // A new process continues the chain from the file.
        let log = AuditLog::new(audit.clone(), AuditQuery::Full, false);
        log.write(&log.entry("medlem", "POST /v1/search", AuditInfo::query("d"), 200, 1)).unwrap();
        let v = verify(&audit).unwrap();
        assert_eq!((v.entries, v.unchained, v.breaks.len()), (4, 0, 0), "{:?}", v.breaks);
        let file = AuditLog::file_of(&audit, Utc::now().date_naive());
        let text = std::fs::read_to_string(&file).unwrap();
        for tampered in [text.replacen("\"query\":\"b\"", "\"query\":\"x\"", 1), text.lines().enumerate().filter(|(i, _)| *i != 1).map(|(_, l)| format!("{l}\n")).collect()] {
            std::fs::write(&file, &tampered).unwrap();
            let v = verify(&audit).unwrap();
            assert_eq!(v.breaks.len(), 1, "{:?}", v.breaks);
            assert!(v.breaks[0].contains(":3:") || v.breaks[0].contains(":2:"), "{:?}", v.breaks);
        }
    }

    #[test]
    fn files_past_retention_are_deleted_when_a_day_starts() {
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("audit");
        std::fs::create_dir_all(&audit).unwrap();
        let old = AuditLog::file_of(&audit, Utc::now().date_naive() - chrono::Days::new(40));
        let recent = AuditLog::file_of(&audit, Utc::now().date_naive() - chrono::Days::new(3));
        std::fs::write(&old, "").unwrap();
        std::fs::write(&recent, "").unwrap();
        let log = AuditLog::new(audit, AuditQuery::Full, false).with_durability(true, 30);
        log.write(&log.entry("m", "GET /v1/models", AuditInfo::default(), 200, 1)).unwrap();
        assert!(!old.exists() && recent.exists());
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

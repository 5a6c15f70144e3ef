//! Requests refused before their handler (a bad or missing token, a rate exceeded, a missing CSRF
//! token) in the audit log without letting a flood of them fill the disk: per interval, the first
//! refusal of each kind (who or which address, endpoint, status) is written whole, the rest are
//! counted and written as one line with the count (`repeated`) when the interval is over. At
//! most [`MAX_KINDS`] kinds are told apart per interval; refusals of further kinds are counted
//! together under the principal `*`. So a flood writes a bounded number of lines however many
//! requests it makes, and nothing refused goes uncounted.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::{AuditEntry, AuditLog};

/// Kinds of refusal told apart per interval.
pub const MAX_KINDS: usize = 40;

/// Who, where and what a refusal was.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Kind {
    /// The principal's name, with the address for anonymous and unauthenticated requests.
    who: String,
    endpoint: String,
    status: u16,
}

#[derive(Debug)]
struct Count {
    /// The principal named in the summary line.
    principal: String,
    /// Refusals after the first one written.
    repeated: u64,
    /// When its first refusal of the interval came.
    since: Instant,
}

/// Refusals counted since their kind's first line.
#[derive(Debug)]
pub struct Refusals {
    interval: Duration,
    counts: Mutex<HashMap<Kind, Count>>,
}

impl Refusals {
    /// Refusals summarised every `interval`.
    pub fn new(interval: Duration) -> Self {
        Self { interval, counts: Mutex::default() }
    }

    /// Records refused request `entry` of `who` (its principal, with its address when that is
    /// all that tells it apart) in `log`: written when it is the first of its kind this
    /// interval, else counted. Summaries of intervals that are over are written first.
    pub fn record(&self, log: &AuditLog, who: &str, entry: &AuditEntry) -> Result<(), String> {
        self.flush(log, false)?;
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut kind = Kind { who: who.to_string(), endpoint: entry.endpoint.clone(), status: entry.status };
        if !counts.contains_key(&kind) && counts.len() >= MAX_KINDS {
            kind = Kind { who: "*".into(), endpoint: "*".into(), status: entry.status };
        }
        let first = !counts.contains_key(&kind);
        let principal = if kind.who == "*" { "*".to_string() } else { entry.principal.clone() };
        let count = counts.entry(kind.clone()).or_insert_with(|| Count { principal, repeated: 0, since: Instant::now() });
        if first && kind.who != "*" {
            drop(counts);
            return log.write(entry);
        }
        // Beyond the kinds told apart even the first is counted, not written.
        count.repeated += 1;
        Ok(())
    }

    /// Writes one line per kind whose interval is over (every kind when `all`) with the number
    /// of refusals counted after its first, and forgets them.
    pub fn flush(&self, log: &AuditLog, all: bool) -> Result<(), String> {
        let due: Vec<(Kind, Count)> = {
            let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
            let over: Vec<Kind> = counts.iter().filter(|(_, c)| all || c.since.elapsed() >= self.interval).map(|(k, _)| k.clone()).collect();
            over.into_iter().filter_map(|k| counts.remove_entry(&k)).collect()
        };
        for (kind, count) in due.into_iter().filter(|(_, c)| c.repeated > 0) {
            let mut entry = log.entry(&count.principal, &kind.endpoint, crate::AuditInfo::default(), kind.status, 0);
            entry.repeated = Some(count.repeated);
            entry.interval_secs = Some(count.since.elapsed().as_secs());
            log.write(&entry)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn lines(dir: &std::path::Path) -> Vec<AuditEntry> {
        crate::read_entries(dir, None, None, None).unwrap().0
    }

    #[test]
    fn a_flood_writes_its_first_refusal_and_then_one_line_with_the_count() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().to_path_buf(), byraad_core::config::AuditQuery::Full, false).with_durability(false, 0);
        let refusals = Refusals::new(Duration::from_secs(3600));
        for _ in 0..5000 {
            let e = log.entry("-", "POST /v1/search", crate::AuditInfo::default(), 401, 0);
            refusals.record(&log, "-@127.0.0.9", &e).unwrap();
        }
        let e = log.entry("anna", "POST /v1/search", crate::AuditInfo::default(), 429, 0);
        refusals.record(&log, "anna", &e).unwrap();
        assert_eq!(lines(dir.path()).len(), 2, "the first of each kind");
        refusals.flush(&log, true).unwrap();
        let all = lines(dir.path());
        assert_eq!(all.len(), 3, "one summary; anna's single refusal needs none");
        assert_eq!((all[2].principal.as_str(), all[2].status, all[2].repeated), ("-", 401, Some(4999)));
        assert!(crate::verify(dir.path()).unwrap().breaks.is_empty(), "the chain holds");
    }

    #[test]
    fn many_kinds_are_counted_together_beyond_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().to_path_buf(), byraad_core::config::AuditQuery::Full, false).with_durability(false, 0);
        let refusals = Refusals::new(Duration::from_secs(3600));
        for i in 0..1000 {
            let e = log.entry("-", "POST /v1/search", crate::AuditInfo::default(), 401, 0);
            refusals.record(&log, &format!("-@10.0.{}.{}", i / 256, i % 256), &e).unwrap();
        }
        refusals.flush(&log, true).unwrap();
        let all = lines(dir.path());
        assert_eq!(all.len(), MAX_KINDS + 1, "each kind told apart once, the rest in one line");
        let rest = all.last().unwrap();
        assert_eq!((rest.principal.as_str(), rest.repeated), ("*", Some(1000 - MAX_KINDS as u64)));
    }

    #[test]
    fn an_interval_over_is_summarised_by_the_next_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().to_path_buf(), byraad_core::config::AuditQuery::Full, false).with_durability(false, 0);
        let refusals = Refusals::new(Duration::from_millis(50));
        let e = log.entry("-", "GET /v1/documents/{doc_id}", crate::AuditInfo::default(), 401, 0);
        for _ in 0..3 {
            refusals.record(&log, "-@127.0.0.9", &e).unwrap();
        }
        std::thread::sleep(Duration::from_millis(80));
        refusals.record(&log, "-@127.0.0.9", &e).unwrap();
        let all = lines(dir.path());
        assert_eq!(all.iter().map(|e| e.repeated).collect::<Vec<_>>(), [None, Some(2), None], "first, summary of the interval, the next interval's first");
    }
}

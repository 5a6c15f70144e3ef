//! What members create, kept in a real database: drafts of forespørgsler (with their author and
//! party group), feedback on answers, and sign-ins on the web page (sessions).
//!
//! SQLite in the data directory by default (WAL, synchronous writes: a draft acknowledged is on
//! disk), PostgreSQL when `storage.url` names one, for several server replicas behind a load
//! balancer. One access layer ([`Store`]) over both; the schema is versioned by the migrations
//! in `migrations/sqlite` and `migrations/postgres`, applied when the store opens.
//!
//! ```no_run
//! # async fn run() -> Result<(), byraad_store::Error> {
//! let store = byraad_store::Store::open("sqlite:data/byraad.db", 4).await?;
//! let id = store.add_feedback(&byraad_store::NewFeedback {
//!     principal: "medlem".into(), rating: byraad_store::Rating::Up, question: "Hvad koster broen?".into(),
//!     answer: "Broen koster 5 mio. kr. [1]".into(), cited: vec!["referat-1".into()], reason: None, comment: String::new(),
//! }).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL names no database this store speaks.
    #[error("storage.url {0:?}: expected sqlite:PATH or postgres://…")]
    Url(String),
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("stored value: {0}")]
    Value(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool the store holds (the same SQL serves both:
/// `$n` parameters, types both databases read alike).
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

mod sessions;

pub use sessions::{Session, SignIn};

/// A member's verdict on an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    /// Helpful.
    Up,
    /// Wrong or unhelpful.
    Down,
}

impl Rating {
    fn as_str(self) -> &'static str {
        match self {
            Rating::Up => "up",
            Rating::Down => "down",
        }
    }
}

/// Why an answer was judged down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The cited source is the wrong one.
    WrongSource,
    /// The answer leaves out part of what was asked.
    Incomplete,
    /// The text does not answer the question.
    NotAnAnswer,
    /// Something else (the comment says what).
    Other,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::WrongSource => "wrong_source",
            Reason::Incomplete => "incomplete",
            Reason::NotAnAnswer => "not_an_answer",
            Reason::Other => "other",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Reason::WrongSource, Reason::Incomplete, Reason::NotAnAnswer, Reason::Other].into_iter().find(|r| r.as_str() == s)
    }
}

/// Feedback to store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewFeedback {
    /// Who gave it.
    pub principal: String,
    /// Up or down.
    pub rating: Rating,
    /// The question asked.
    pub question: String,
    /// The answer given.
    pub answer: String,
    /// Documents the answer cited.
    pub cited: Vec<String>,
    /// Why it was judged down, if said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// What the member wrote, if anything.
    pub comment: String,
}

/// Stored feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// Its id.
    pub id: String,
    /// When it was given.
    pub time: DateTime<Utc>,
    /// What was given.
    #[serde(flatten)]
    pub feedback: NewFeedback,
}

/// A stored draft's owner and its content (the draft as JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDraft {
    /// Its id.
    pub id: String,
    /// Who made it.
    pub author: String,
    /// The party group whose members may read it.
    pub party_group: String,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// The draft, as JSON.
    pub body: String,
}

/// The database.
pub struct Store {
    pool: Pool,
    url: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend()).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating a SQLite file if missing) the database at `url` (`sqlite:PATH` or
    /// `postgres://…`) with at most `max_connections`, and applies pending migrations.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self> {
        let pool = if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.trim_start_matches("//");
            if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| Error::Value(format!("{}: {e}", dir.display())))?;
            }
            let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new().max_connections(max_connections.max(1)).connect_with(options).await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new().max_connections(max_connections.max(1)).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            Pool::Postgres(pool)
        } else {
            return Err(Error::Url(url.to_string()));
        };
        Ok(Self { pool, url: redact(url) })
    }

    /// "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// The URL, without its password (for logs).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Stores a draft by `author` for `party_group`; returns its id. Beyond `keep` drafts the
    /// oldest are removed.
    pub async fn put_draft(&self, author: &str, party_group: &str, body: &str, keep: usize) -> Result<String> {
        let id = new_id(&[author, body]);
        let now = Utc::now().timestamp_millis();
        with_pool!(self, pool => {
            sqlx::query("INSERT INTO drafts (id, author, party_group, created_ms, body) VALUES ($1, $2, $3, $4, $5)")
                .bind(&id).bind(author).bind(party_group).bind(now).bind(body)
                .execute(pool).await?;
            if keep > 0 {
                let keep = i64::try_from(keep).unwrap_or(i64::MAX);
                // By the index on created_ms: the newest `keep` stay (a few more on a tie).
                sqlx::query("DELETE FROM drafts WHERE created_ms < (SELECT created_ms FROM drafts ORDER BY created_ms DESC LIMIT 1 OFFSET $1)")
                    .bind(keep - 1).execute(pool).await?;
            }
        });
        Ok(id)
    }

    /// The draft with `id`, if any.
    pub async fn draft(&self, id: &str) -> Result<Option<StoredDraft>> {
        let row = with_pool!(self, pool => {
            sqlx::query("SELECT id, author, party_group, created_ms, body FROM drafts WHERE id = $1").bind(id).fetch_optional(pool).await?
                .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1), r.get::<String, _>(2), r.get::<i64, _>(3), r.get::<String, _>(4)))
        });
        Ok(row.map(|(id, author, party_group, created, body)| StoredDraft { id, author, party_group, created: from_ms(created), body }))
    }

    /// How many drafts are stored.
    pub async fn draft_count(&self) -> Result<u64> {
        let n: i64 = with_pool!(self, pool => sqlx::query("SELECT COUNT(*) FROM drafts").fetch_one(pool).await?.get(0));
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Stores feedback; returns its id.
    pub async fn add_feedback(&self, f: &NewFeedback) -> Result<String> {
        let id = new_id(&[&f.principal, &f.question, &f.answer]);
        let now = Utc::now().timestamp_millis();
        let cited = serde_json::to_string(&f.cited).map_err(|e| Error::Value(e.to_string()))?;
        with_pool!(self, pool => {
            sqlx::query("INSERT INTO feedback (id, principal, created_ms, rating, question, answer, cited, comment, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(&id).bind(&f.principal).bind(now).bind(f.rating.as_str()).bind(&f.question).bind(&f.answer).bind(&cited).bind(&f.comment).bind(f.reason.map_or("", Reason::as_str))
                .execute(pool).await?;
        });
        Ok(id)
    }

    /// Feedback given at or after `since` (all when `None`), oldest first.
    pub async fn feedback(&self, since: Option<DateTime<Utc>>) -> Result<Vec<Feedback>> {
        let since = since.map_or(i64::MIN, |t| t.timestamp_millis());
        type Raw = (String, String, i64, String, String, String, String, String, String);
        let rows: Vec<Raw> = with_pool!(self, pool => {
            sqlx::query("SELECT id, principal, created_ms, rating, question, answer, cited, comment, reason FROM feedback WHERE created_ms >= $1 ORDER BY created_ms, id")
                .bind(since).fetch_all(pool).await?
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6), r.get(7), r.get(8)))
                .collect()
        });
        rows.into_iter()
            .map(|(id, principal, created, rating, question, answer, cited, comment, reason)| {
                let rating = match rating.as_str() {
                    "up" => Rating::Up,
                    "down" => Rating::Down,
                    other => return Err(Error::Value(format!("feedback {id}: rating {other:?}"))),
                };
                let cited = serde_json::from_str(&cited).map_err(|e| Error::Value(format!("feedback {id}: cited: {e}")))?;
                let reason = Reason::parse(&reason);
                Ok(Feedback { id, time: from_ms(created), feedback: NewFeedback { principal, rating, question, answer, cited, reason, comment } })
            })
            .collect()
    }

    /// A consistent copy of a SQLite database at `to` (a new file), taken while the store is in
    /// use. A PostgreSQL database is backed up with its own tools (`pg_dump`).
    pub async fn backup_to(&self, to: &Path) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let to = to.to_str().ok_or_else(|| Error::Value(format!("{}: not UTF-8", to.display())))?;
                sqlx::query("VACUUM INTO $1").bind(to).execute(pool).await?;
                Ok(())
            }
            Pool::Postgres(_) => Err(Error::Value("a PostgreSQL database is backed up with pg_dump, not by byraad".into())),
        }
    }

    /// Closes the pool, waiting for what is in flight (and checkpointing SQLite's WAL).
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await);
    }
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A random-looking id: SHA-256 over a counter, the time, the process and `parts`.
fn new_id(parts: &[&str]) -> String {
    use sha2::Digest;
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut h = sha2::Sha256::new();
    h.update(format!("{n}:{nanos}:{}", std::process::id()));
    for p in parts {
        h.update(p.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// `url` with any password replaced by `***` (for logs and messages).
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((auth, host)) = rest.split_once('@') else { return url.to_string() };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drafts_and_feedback_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("db/byraad.db").display());
        let store = Store::open(&url, 2).await.unwrap();
        let id = store.put_draft("anna", "parti:sf", "{\"x\":1}", 0).await.unwrap();
        let f = NewFeedback { principal: "anna".into(), rating: Rating::Down, question: "Q".into(), answer: "A [1]".into(), cited: vec!["d1".into()], reason: Some(Reason::WrongSource), comment: "forkert".into() };
        store.add_feedback(&f).await.unwrap();
        store.close().await;

        let store = Store::open(&url, 2).await.unwrap();
        let d = store.draft(&id).await.unwrap().unwrap();
        assert_eq!((d.author.as_str(), d.party_group.as_str(), d.body.as_str()), ("anna", "parti:sf", "{\"x\":1}"));
        assert!(store.draft("nope").await.unwrap().is_none());
        let all = store.feedback(None).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].feedback, f);
        assert!(store.feedback(Some(Utc::now() + chrono::Duration::hours(1))).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_oldest_drafts_beyond_the_limit_go() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.path().join("b.db").display()), 1).await.unwrap();
        let first = store.put_draft("a", "g", "1", 2).await.unwrap();
        std::thread::sleep(Duration::from_millis(3));
        store.put_draft("a", "g", "2", 2).await.unwrap();
        std::thread::sleep(Duration::from_millis(3));
        store.put_draft("a", "g", "3", 2).await.unwrap();
        assert_eq!(store.draft_count().await.unwrap(), 2);
        assert!(store.draft(&first).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_live_backup_is_a_consistent_copy() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.path().join("a.db").display()), 2).await.unwrap();
        let id = store.put_draft("a", "g", "kladde", 0).await.unwrap();
        let copy = dir.path().join("copy.db");
        store.backup_to(&copy).await.unwrap();
        let restored = Store::open(&format!("sqlite:{}", copy.display()), 1).await.unwrap();
        assert_eq!(restored.draft(&id).await.unwrap().unwrap().body, "kladde");
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(redact("postgres://byraad:hemmelig@db:5432/byraad"), "postgres://byraad:***@db:5432/byraad");
        assert_eq!(redact("sqlite:data/byraad.db"), "sqlite:data/byraad.db");
    }

    #[test]
    fn unknown_urls_are_refused() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let err = rt.block_on(Store::open("mysql://x", 1)).unwrap_err().to_string();
        assert!(err.contains("storage.url"), "{err}");
    }
}

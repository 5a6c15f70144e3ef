//! Sign-ins on the web page: server-side sessions, and single sign-ons under way (the state of
//! an authorization-code flow between the redirect to the provider and its callback).
//!
//! Only digests of the session id and of the sign-in state are stored: whoever reads the
//! database cannot take over a session. Expired rows are never returned and are removed as new
//! ones are added. A session also ends when it has not been used for a while (its idle limit):
//! each use records when it was seen, at most once a minute.

use chrono::{DateTime, Utc};
use sha2::Digest;
use sqlx::Row;

use crate::{Error, Pool, Result, Store, from_ms};

/// A signed-in member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The principal's name.
    pub principal: String,
    /// The principal's groups.
    pub groups: Vec<String>,
    /// When the session ends.
    pub expires: DateTime<Utc>,
}

/// A single sign-on under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// The PKCE code verifier.
    pub verifier: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The page to return to once signed in.
    pub return_to: String,
}

/// How stale a session's last use may be recorded (milliseconds): uses closer together are not
/// written.
const SEEN_GRAIN_MS: i64 = 60_000;

fn digest(secret: &str) -> String {
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

impl Store {
    /// Stores the session `id` (a secret the caller made) of `session`.
    pub async fn put_session(&self, id: &str, session: &Session) -> Result<()> {
        let groups = serde_json::to_string(&session.groups).map_err(|e| Error::Value(e.to_string()))?;
        let now = Utc::now().timestamp_millis();
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_ms <= $1").bind(now).execute(pool).await?;
            sqlx::query("INSERT INTO sessions (id_sha256, principal, member_groups, created_ms, expires_ms, seen_ms) VALUES ($1, $2, $3, $4, $5, $4)")
                .bind(digest(id)).bind(&session.principal).bind(&groups).bind(now).bind(session.expires.timestamp_millis())
                .execute(pool).await?;
        });
        Ok(())
    }

    /// The session `id`, unless unknown, expired, or unused for longer than `idle` (no limit:
    /// `None`); finding it records that it was used.
    pub async fn session(&self, id: &str, idle: Option<chrono::Duration>) -> Result<Option<Session>> {
        let now = Utc::now().timestamp_millis();
        let seen_after = idle.map_or(i64::MIN, |d| now - d.num_milliseconds());
        let key = digest(id);
        let row: Option<(String, String, i64)> = with_pool!(self, pool => {
            let row = sqlx::query("SELECT principal, member_groups, expires_ms FROM sessions WHERE id_sha256 = $1 AND expires_ms > $2 AND seen_ms > $3")
                .bind(&key).bind(now).bind(seen_after).fetch_optional(pool).await?
                .map(|r| (r.get(0), r.get(1), r.get(2)));
            if row.is_some() {
                // At most a write a minute per session, however busy the page.
                sqlx::query("UPDATE sessions SET seen_ms = $1 WHERE id_sha256 = $2 AND seen_ms < $3")
                    .bind(now).bind(&key).bind(now - SEEN_GRAIN_MS).execute(pool).await?;
            }
            row
        });
        row.map(|(principal, groups, expires)| {
            let groups = serde_json::from_str(&groups).map_err(|e| Error::Value(format!("session groups: {e}")))?;
            Ok(Session { principal, groups, expires: from_ms(expires) })
        })
        .transpose()
    }

    /// Ends the session `id` (signed out); whether there was one.
    pub async fn delete_session(&self, id: &str) -> Result<bool> {
        let n = with_pool!(self, pool => sqlx::query("DELETE FROM sessions WHERE id_sha256 = $1").bind(digest(id)).execute(pool).await?.rows_affected());
        Ok(n > 0)
    }

    /// Stores a sign-in under way by its `state` (a secret the caller made) until `expires`.
    pub async fn put_sign_in(&self, state: &str, sign_in: &SignIn, expires: DateTime<Utc>) -> Result<()> {
        let now = Utc::now().timestamp_millis();
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM sign_ins WHERE expires_ms <= $1").bind(now).execute(pool).await?;
            sqlx::query("INSERT INTO sign_ins (state_sha256, verifier, nonce, return_to, expires_ms) VALUES ($1, $2, $3, $4, $5)")
                .bind(digest(state)).bind(&sign_in.verifier).bind(&sign_in.nonce).bind(&sign_in.return_to).bind(expires.timestamp_millis())
                .execute(pool).await?;
        });
        Ok(())
    }

    /// The sign-in under way with `state`, removed: a state is good for one callback only.
    pub async fn take_sign_in(&self, state: &str) -> Result<Option<SignIn>> {
        let key = digest(state);
        let now = Utc::now().timestamp_millis();
        let row: Option<(String, String, String, i64)> = with_pool!(self, pool => {
            let row = sqlx::query("SELECT verifier, nonce, return_to, expires_ms FROM sign_ins WHERE state_sha256 = $1")
                .bind(&key).fetch_optional(pool).await?
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)));
            // Whoever deletes the row owns the callback; a replay, even a concurrent one, finds none.
            let taken = sqlx::query("DELETE FROM sign_ins WHERE state_sha256 = $1").bind(&key).execute(pool).await?.rows_affected();
            row.filter(|_| taken == 1)
        });
        Ok(row.filter(|r| r.3 > now).map(|(verifier, nonce, return_to, _)| SignIn { verifier, nonce, return_to }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store(dir: &tempfile::TempDir) -> Store {
        Store::open(&format!("sqlite:{}", dir.path().join("s.db").display()), 2).await.unwrap()
    }

    #[tokio::test]
    async fn a_session_is_found_by_its_id_until_it_expires_or_ends() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let session = Session { principal: "anna".into(), groups: vec!["byraadet".into()], expires: from_ms((Utc::now() + chrono::Duration::hours(1)).timestamp_millis()) };
        store.put_session("hemmelig-id", &session).await.unwrap();
        assert_eq!(store.session("hemmelig-id", None).await.unwrap(), Some(session.clone()));
        assert_eq!(store.session("andet-id", None).await.unwrap(), None);
        // Only the digest is stored.
        let Pool::Sqlite(pool) = &store.pool else { unreachable!() };
        let ids: Vec<String> = sqlx::query("SELECT id_sha256 FROM sessions").fetch_all(pool).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert_eq!(ids, vec![digest("hemmelig-id")]);

        let old = Session { expires: Utc::now() - chrono::Duration::seconds(1), ..session };
        store.put_session("gammel-id", &old).await.unwrap();
        assert_eq!(store.session("gammel-id", None).await.unwrap(), None, "expired");
        assert!(store.delete_session("hemmelig-id").await.unwrap());
        assert_eq!(store.session("hemmelig-id", None).await.unwrap(), None, "signed out");
        assert!(!store.delete_session("hemmelig-id").await.unwrap());
    }

    #[tokio::test]
    async fn a_session_unused_for_longer_than_its_idle_limit_has_ended_and_each_use_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let Pool::Sqlite(pool) = &store.pool else { unreachable!() };
        let session = Session { principal: "anna".into(), groups: vec![], expires: from_ms((Utc::now() + chrono::Duration::hours(8)).timestamp_millis()) };
        let seen_ago = |minutes: i64| async move {
            let at = (Utc::now() - chrono::Duration::minutes(minutes)).timestamp_millis();
            sqlx::query("UPDATE sessions SET seen_ms = $1").bind(at).execute(pool).await.unwrap();
        };
        let seen = || async { sqlx::query("SELECT seen_ms FROM sessions").fetch_one(pool).await.unwrap().get::<i64, _>(0) };
        let idle = Some(chrono::Duration::minutes(30));
        store.put_session("id", &session).await.unwrap();
        assert_eq!(store.session("id", idle).await.unwrap(), Some(session.clone()), "just signed in");

        seen_ago(20).await;
        let before = seen().await;
        assert!(store.session("id", idle).await.unwrap().is_some(), "used 20 minutes ago");
        assert!(seen().await > before + 19 * 60_000, "the use is recorded");
        let recorded = seen().await;
        assert!(store.session("id", idle).await.unwrap().is_some());
        assert_eq!(seen().await, recorded, "uses within a minute are not written again");

        seen_ago(31).await;
        assert_eq!(store.session("id", idle).await.unwrap(), None, "unused for 31 minutes");
        assert!(store.session("id", None).await.unwrap().is_some(), "without an idle limit only the expiry counts");
    }

    #[tokio::test]
    async fn a_sign_in_state_is_good_for_one_callback_before_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let s = SignIn { verifier: "v".into(), nonce: "n".into(), return_to: "/sog".into() };
        store.put_sign_in("state-1", &s, Utc::now() + chrono::Duration::minutes(10)).await.unwrap();
        assert_eq!(store.take_sign_in("state-1").await.unwrap(), Some(s.clone()));
        assert_eq!(store.take_sign_in("state-1").await.unwrap(), None, "replayed");
        store.put_sign_in("state-2", &s, Utc::now() - chrono::Duration::seconds(1)).await.unwrap();
        assert_eq!(store.take_sign_in("state-2").await.unwrap(), None, "expired");
    }
}

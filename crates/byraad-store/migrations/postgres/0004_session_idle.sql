-- When each session was last used: a session unused for auth.session_idle_minutes has ended.
-- Sessions open at the upgrade count as last used when they began.
ALTER TABLE sessions ADD COLUMN seen_ms BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET seen_ms = created_ms;

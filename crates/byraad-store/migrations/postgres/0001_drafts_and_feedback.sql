-- Drafts of forespørgsler: who made them, for which party group, the whole draft as JSON.
CREATE TABLE drafts (
    id TEXT PRIMARY KEY NOT NULL,
    author TEXT NOT NULL,
    party_group TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX drafts_by_created ON drafts (created_ms);

-- Members' verdicts on answers.
CREATE TABLE feedback (
    id TEXT PRIMARY KEY NOT NULL,
    principal TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    cited TEXT NOT NULL,
    comment TEXT NOT NULL
);
CREATE INDEX feedback_by_created ON feedback (created_ms);

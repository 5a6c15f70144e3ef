-- Sign-ins on the web page: the session id's SHA-256 (the id itself is only in the member's
-- cookie), who it is, until when.
CREATE TABLE sessions (
    id_sha256 TEXT PRIMARY KEY NOT NULL,
    principal TEXT NOT NULL,
    member_groups TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_ms);

-- Single sign-ons under way: the state's SHA-256, the PKCE verifier and nonce, where to return.
CREATE TABLE sign_ins (
    state_sha256 TEXT PRIMARY KEY NOT NULL,
    verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    return_to TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX sign_ins_by_expiry ON sign_ins (expires_ms);

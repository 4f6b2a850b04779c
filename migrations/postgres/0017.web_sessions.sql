-- The web page's sessions (vault/web_sessions.py): the browser holds an opaque id, the
-- server this row, found by a keyed hash of the id (handle). The OAuth tokens are
-- sealed under a key derived from the master key (keys/web_sessions.py). Times are
-- seconds since the epoch (idle and absolute expiry are compared with them).
CREATE TABLE web_sessions (
    handle TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    issuer TEXT NOT NULL,
    sealed_tokens BYTEA NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    seen_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX web_sessions_by_person ON web_sessions (person, created_at);
CREATE INDEX web_sessions_by_use ON web_sessions (seen_at);

-- depends: 0001.keystore
-- The patient's access log (projections/access_log.py); rebuildable from the events.
CREATE TABLE access_log (
    entry_id INTEGER PRIMARY KEY,
    space_id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    actor_profession TEXT,
    actor_organisation TEXT,
    action TEXT NOT NULL,
    document_id TEXT,
    how TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX access_log_by_space ON access_log (space_id, entry_id);
CREATE TABLE access_log_documents (
    document_id TEXT PRIMARY KEY,
    space_id TEXT NOT NULL,
    title TEXT NOT NULL,
    type TEXT NOT NULL
);
CREATE TABLE access_log_grants (
    grant_id TEXT PRIMARY KEY,
    space_id TEXT NOT NULL,
    grantee_id TEXT NOT NULL,
    grantee_name TEXT NOT NULL
);

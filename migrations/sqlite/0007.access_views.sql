-- depends: 0006.notifications
-- Access views (projections/access_views.py): who may read what, for display and
-- lists only (authorisation reads the space itself). Rebuildable from the events.
CREATE TABLE view_grants (
    grant_id TEXT PRIMARY KEY,
    space_id TEXT NOT NULL,
    grantee_id TEXT NOT NULL,
    grantee_name TEXT,
    grantee_profession TEXT,
    scope_kind TEXT NOT NULL,
    scope_types TEXT NOT NULL,
    scope_documents TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    care_team INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX view_grants_by_space ON view_grants (space_id);
CREATE INDEX view_grants_by_grantee ON view_grants (grantee_id);
CREATE TABLE view_blocks (
    space_id TEXT NOT NULL,
    professional_id TEXT NOT NULL,
    PRIMARY KEY (space_id, professional_id)
);
CREATE TABLE view_space_settings (
    space_id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL,
    status TEXT NOT NULL,
    emergency_forbidden INTEGER NOT NULL DEFAULT 0,
    emergency_reveals_masked INTEGER NOT NULL DEFAULT 0,
    attending_physician_sees_masked INTEGER NOT NULL DEFAULT 0,
    attending_physician_id TEXT
);
CREATE TABLE view_documents (
    document_id TEXT PRIMARY KEY,
    space_id TEXT NOT NULL,
    type TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    masked INTEGER NOT NULL DEFAULT 0,
    held INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX view_documents_by_space ON view_documents (space_id);

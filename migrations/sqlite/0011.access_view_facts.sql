-- depends: 0007.access_views
-- The access views keep what the domain's read decisions need (projections/access_views.py
-- assembles a domain.reads.SpaceFacts from these rows and asks decide_read): the opening
-- deadline, each document's author, codes and hold, and emergency accesses. The views are
-- emptied here; the projection, tracked under a new name, replays them from the first event.
ALTER TABLE view_space_settings ADD COLUMN opens_at TEXT;
ALTER TABLE view_documents ADD COLUMN author_role TEXT;
ALTER TABLE view_documents ADD COLUMN author_id TEXT;
ALTER TABLE view_documents ADD COLUMN author_profession TEXT;
ALTER TABLE view_documents ADD COLUMN deleted_at TEXT;
ALTER TABLE view_documents ADD COLUMN invisible_to_representatives INTEGER NOT NULL DEFAULT 0;
ALTER TABLE view_documents ADD COLUMN visible_at TEXT;
ALTER TABLE view_documents ADD COLUMN released_at TEXT;
CREATE TABLE view_emergencies (
    access_id TEXT PRIMARY KEY,
    space_id TEXT NOT NULL,
    professional_id TEXT NOT NULL,
    professional_name TEXT,
    professional_profession TEXT,
    started_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX view_emergencies_by_space ON view_emergencies (space_id);
DELETE FROM view_grants;
DELETE FROM view_blocks;
DELETE FROM view_space_settings;
DELETE FROM view_documents;

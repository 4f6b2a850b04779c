CREATE INDEX IF NOT EXISTS access_log_by_space ON access_log (space_id, entry_id DESC);
DROP INDEX IF EXISTS access_log_page;

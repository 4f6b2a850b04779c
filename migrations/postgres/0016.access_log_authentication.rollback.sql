DROP INDEX IF EXISTS access_log_page;
ALTER TABLE access_log DROP COLUMN actor_authentication;
CREATE INDEX access_log_page ON access_log (space_id, entry_id DESC)
    INCLUDE (at, actor_role, actor_id, actor_name, actor_profession, actor_organisation,
             action, document_id, how, outcome, reason, detail, device_key_id);

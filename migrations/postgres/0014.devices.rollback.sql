DROP TABLE access_log_devices;
DROP INDEX IF EXISTS access_log_page;
ALTER TABLE access_log DROP COLUMN device_key_id;
CREATE INDEX access_log_page ON access_log (space_id, entry_id DESC)
    INCLUDE (at, actor_role, actor_id, actor_name, actor_profession, actor_organisation,
             action, document_id, how, outcome, reason, detail);
DELETE FROM notifications WHERE space_id IS NULL;
ALTER TABLE notifications ALTER COLUMN space_id SET NOT NULL;

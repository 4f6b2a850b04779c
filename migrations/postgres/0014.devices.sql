-- depends: 0006.notifications 0008.access_log_page
-- Reader devices (domain/reader.py): a notification about a person's devices concerns
-- no space, so notifications.space_id may be null; the access log names the device a
-- read was made with (access_log.device_key_id; the names of devices by owner and
-- key id in access_log_devices).
ALTER TABLE notifications ALTER COLUMN space_id DROP NOT NULL;
ALTER TABLE access_log ADD COLUMN device_key_id TEXT;
-- The log's page stays an index-only scan (0008): the index carries the new column too.
-- On a large live table, build the new index first under another name, CONCURRENTLY.
DROP INDEX IF EXISTS access_log_page;
CREATE INDEX access_log_page ON access_log (space_id, entry_id DESC)
    INCLUDE (at, actor_role, actor_id, actor_name, actor_profession, actor_organisation,
             action, document_id, how, outcome, reason, detail, device_key_id);
CREATE TABLE access_log_devices (
    owner_role TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    name TEXT,
    PRIMARY KEY (owner_role, owner_id, key_id)
);

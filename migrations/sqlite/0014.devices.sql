-- depends: 0006.notifications 0002.access_log
-- Reader devices (domain/reader.py): a notification about a person's devices concerns
-- no space, so notifications.space_id may be null (SQLite changes a column's constraint
-- by copying the table); the access log names the device a read was made with, by its
-- owner and key id (access_log.device_key_id; the names of devices by owner and key
-- id in access_log_devices).
CREATE TABLE notifications_devices (
    entry_id INTEGER NOT NULL,
    recipient_role TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    space_id TEXT,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    actor_name TEXT,
    actor_profession TEXT,
    actor_organisation TEXT,
    document_id TEXT,
    detail TEXT NOT NULL,
    PRIMARY KEY (recipient_role, recipient_id, entry_id)
);
INSERT INTO notifications_devices SELECT
    entry_id, recipient_role, recipient_id, space_id, kind, at, actor_name,
    actor_profession, actor_organisation, document_id, detail
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_devices RENAME TO notifications;
CREATE INDEX notifications_by_document ON notifications (document_id);
ALTER TABLE access_log ADD COLUMN device_key_id TEXT;
CREATE TABLE access_log_devices (
    owner_role TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    name TEXT,
    PRIMARY KEY (owner_role, owner_id, key_id)
);

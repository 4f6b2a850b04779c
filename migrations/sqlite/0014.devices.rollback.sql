DROP TABLE access_log_devices;
ALTER TABLE access_log DROP COLUMN device_key_id;
DELETE FROM notifications WHERE space_id IS NULL;
CREATE TABLE notifications_spaced (
    entry_id INTEGER NOT NULL,
    recipient_role TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    space_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    actor_name TEXT,
    actor_profession TEXT,
    actor_organisation TEXT,
    document_id TEXT,
    detail TEXT NOT NULL,
    PRIMARY KEY (recipient_role, recipient_id, entry_id)
);
INSERT INTO notifications_spaced SELECT
    entry_id, recipient_role, recipient_id, space_id, kind, at, actor_name,
    actor_profession, actor_organisation, document_id, detail
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_spaced RENAME TO notifications;
CREATE INDEX notifications_by_document ON notifications (document_id);

-- depends: 0002.access_log
-- Notifications (projections/notifications.py); rebuildable from the events.
CREATE TABLE notifications (
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
CREATE INDEX notifications_by_document ON notifications (document_id);
CREATE TABLE notification_acks (
    recipient_role TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    up_to INTEGER NOT NULL,
    PRIMARY KEY (recipient_role, recipient_id)
);
CREATE TABLE notification_spaces (
    space_id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL
);
CREATE TABLE notification_readers (
    space_id TEXT NOT NULL,
    reader_id TEXT NOT NULL,
    PRIMARY KEY (space_id, reader_id)
);

-- depends: 0002.access_log
-- The events table is append-only at the database level: UPDATE and DELETE abort.
CREATE TRIGGER stored_events_no_update BEFORE UPDATE ON stored_events
BEGIN
    SELECT RAISE(ABORT, 'coffre: events are append-only');
END;
CREATE TRIGGER stored_events_no_delete BEFORE DELETE ON stored_events
BEGIN
    SELECT RAISE(ABORT, 'coffre: events are append-only');
END;

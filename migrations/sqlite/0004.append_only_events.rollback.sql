DROP TRIGGER stored_events_no_delete;
DROP TRIGGER stored_events_no_update;

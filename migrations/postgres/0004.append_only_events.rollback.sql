DROP TRIGGER vault_events_no_truncate ON vault_events;
DROP TRIGGER vault_events_append_only ON vault_events;
DROP FUNCTION coffre_refuse_event_change();

-- depends: 0002.access_log
-- The events table is append-only at the database level: UPDATE, DELETE and TRUNCATE
-- are refused, whoever asks (the trail then has nothing quietly rewritten to detect).
CREATE OR REPLACE FUNCTION coffre_refuse_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'coffre: events are append-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER vault_events_append_only
    BEFORE UPDATE OR DELETE ON vault_events
    FOR EACH ROW EXECUTE FUNCTION coffre_refuse_event_change();
CREATE TRIGGER vault_events_no_truncate
    BEFORE TRUNCATE ON vault_events
    FOR EACH STATEMENT EXECUTE FUNCTION coffre_refuse_event_change();

-- depends: 0014.devices
-- How an actor logged in (issue 13): the access log names the authentication method
-- their identity provider's token gave (acr, else amr: e-CPS, card, pwd). Null for the
-- entries of tokens that did not say, and for every entry projected before this column.
ALTER TABLE access_log ADD COLUMN actor_authentication TEXT;
-- The log's page stays an index-only scan (0008, 0014): the index carries the new column
-- too. On a large live table, build the new index first under another name, CONCURRENTLY.
DROP INDEX IF EXISTS access_log_page;
CREATE INDEX access_log_page ON access_log (space_id, entry_id DESC)
    INCLUDE (at, actor_role, actor_id, actor_name, actor_profession, actor_organisation,
             action, document_id, how, outcome, reason, detail, device_key_id,
             actor_authentication);

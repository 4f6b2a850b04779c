-- depends: 0014.devices
-- How an actor logged in (issue 13): the access log names the authentication method
-- their identity provider's token gave (acr, else amr: e-CPS, card, pwd). Null for the
-- entries of tokens that did not say, and for every entry projected before this column.
ALTER TABLE access_log ADD COLUMN actor_authentication TEXT;

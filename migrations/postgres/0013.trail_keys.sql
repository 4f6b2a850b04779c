-- depends: 0003.trail
-- The trail's signing keys (projections/trail_keys.py): each key's fingerprint, public
-- key and validity period, published as the trail's key set (wire/trail_keys.py). Not a
-- projection: like trail_checkpoints, nothing rebuilds it. A checkpoint is now one per
-- size AND key, so that after a rotation the current key signs a size the old key
-- already signed (an export needs a checkpoint of its own key).
CREATE TABLE trail_keys (
    key_id      TEXT PRIMARY KEY,                   -- fingerprint, wire.checkpoint.key_id_of
    public_key  BYTEA NOT NULL CHECK (octet_length(public_key) = 32),
    not_before  TIMESTAMPTZ,                        -- NULL: since the start
    not_after   TIMESTAMPTZ,                        -- NULL: still signing
    origin      TEXT NOT NULL                       -- where the key came from (status only)
);

ALTER TABLE trail_checkpoints DROP CONSTRAINT trail_checkpoints_pkey;
ALTER TABLE trail_checkpoints ADD PRIMARY KEY (size, key_id);

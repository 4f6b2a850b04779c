-- depends: 0003.trail
-- The trail's signing keys (projections/trail_keys.py): each key's fingerprint, public
-- key and validity period, published as the trail's key set (wire/trail_keys.py). Not a
-- projection: like trail_checkpoints, nothing rebuilds it. A checkpoint is now one per
-- size AND key, so that after a rotation the current key signs a size the old key
-- already signed (an export needs a checkpoint of its own key).
CREATE TABLE trail_keys (
    key_id      TEXT PRIMARY KEY,                   -- fingerprint, wire.checkpoint.key_id_of
    public_key  BLOB NOT NULL CHECK (length(public_key) = 32),
    not_before  TEXT,                               -- ISO 8601 UTC; NULL: since the start
    not_after   TEXT,                               -- ISO 8601 UTC; NULL: still signing
    origin      TEXT NOT NULL                       -- where the key came from (status only)
);

CREATE TABLE trail_checkpoints_by_key (
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature BLOB NOT NULL,
    PRIMARY KEY (size, key_id)
);
INSERT INTO trail_checkpoints_by_key (size, root, at, key_id, signature)
    SELECT size, root, at, key_id, signature FROM trail_checkpoints;
DROP TABLE trail_checkpoints;
ALTER TABLE trail_checkpoints_by_key RENAME TO trail_checkpoints;

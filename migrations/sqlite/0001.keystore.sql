-- Key store: one row per space key pair (keys/keystore_sqlite.py).
-- The only table updated in place besides projections (DESIGN invariant 5): the
-- wrapped secret is replaced on master-key rotation and set to NULL on destruction.
CREATE TABLE coffre_space_keys (
    key_id          TEXT PRIMARY KEY,
    space_id        TEXT NOT NULL,                      -- UUID, canonical text form
    public_key      BLOB NOT NULL CHECK (length(public_key) = 32),
    master_key_id   TEXT,                               -- NULL once destroyed
    wrapped_secret  BLOB,                               -- nonce || AEAD ciphertext; NULL once destroyed
    destroyed_at    TEXT,                               -- ISO 8601, UTC
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK ((master_key_id IS NULL) = (wrapped_secret IS NULL)),
    -- a row is either live (wrapped) or destroyed (dated), never both nor neither
    CHECK ((wrapped_secret IS NULL) = (destroyed_at IS NOT NULL))
);

CREATE INDEX coffre_space_keys_space ON coffre_space_keys (space_id);

-- rotation walks the keys of one master key version in key_id order
CREATE INDEX coffre_space_keys_master
    ON coffre_space_keys (master_key_id, key_id)
    WHERE master_key_id IS NOT NULL;

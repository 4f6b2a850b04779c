-- depends: 0002.access_log
-- The regulator trail (projections/trail.py): entries, Merkle subtrees, signed checkpoints.
-- Entries and nodes are rebuildable from the events; checkpoints are signed statements
-- already handed out, so a rebuild keeps them (the rebuilt tree reproduces their roots).
CREATE TABLE trail_entries (
    leaf_index BIGINT PRIMARY KEY,
    notification_id BIGINT NOT NULL UNIQUE,
    space_id UUID,
    actor_role TEXT,
    actor_id TEXT,
    at TIMESTAMPTZ NOT NULL,
    entry TEXT NOT NULL,
    leaf_hash BYTEA NOT NULL
);
-- one patient's chain, the head of a chain (latest entry), and time windows
CREATE INDEX trail_entries_by_space ON trail_entries (space_id, leaf_index);
CREATE INDEX trail_entries_by_actor ON trail_entries (actor_id, leaf_index);
CREATE INDEX trail_entries_by_time ON trail_entries (at, leaf_index);
-- every complete perfect subtree: hash of leaves [idx << level, (idx + 1) << level)
CREATE TABLE trail_nodes (
    level SMALLINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE trail_checkpoints (
    size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    key_id TEXT NOT NULL,
    signature BYTEA NOT NULL
);

-- depends: 0002.access_log
-- The regulator trail (projections/trail.py): entries, Merkle subtrees, signed checkpoints.
-- Entries and nodes are rebuildable from the events; checkpoints are signed statements
-- already handed out, so a rebuild keeps them (the rebuilt tree reproduces their roots).
CREATE TABLE trail_entries (
    leaf_index INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL UNIQUE,
    space_id TEXT,
    actor_role TEXT,
    actor_id TEXT,
    at TEXT NOT NULL,
    entry TEXT NOT NULL,
    leaf_hash BLOB NOT NULL
);
-- one patient's chain, the head of a chain (latest entry), and time windows
CREATE INDEX trail_entries_by_space ON trail_entries (space_id, leaf_index);
CREATE INDEX trail_entries_by_actor ON trail_entries (actor_id, leaf_index);
CREATE INDEX trail_entries_by_time ON trail_entries (at, leaf_index);
-- every complete perfect subtree: hash of leaves [idx << level, (idx + 1) << level)
CREATE TABLE trail_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE trail_checkpoints (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature BLOB NOT NULL
);

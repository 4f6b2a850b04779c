-- Back to one checkpoint per size: the first signed of each size is kept.
CREATE TABLE trail_checkpoints_by_size (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature BLOB NOT NULL
);
INSERT INTO trail_checkpoints_by_size (size, root, at, key_id, signature)
    SELECT size, root, at, key_id, signature FROM trail_checkpoints AS c
    WHERE at = (SELECT min(at) FROM trail_checkpoints WHERE size = c.size)
    GROUP BY size;
DROP TABLE trail_checkpoints;
ALTER TABLE trail_checkpoints_by_size RENAME TO trail_checkpoints;
DROP TABLE trail_keys;

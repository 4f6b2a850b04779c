-- depends: 0003.trail
-- The trail's chain-heads map (domain/merkle/heads.py, projections/trail.py): the latest
-- leaf of every patient's and actor's chain, in 65,536 buckets under a Merkle tree whose
-- root each format-2 entry carries. Rebuilt with the trail; trail_format is not: it says
-- from which leaf entries are of format 2, so that a rebuild reproduces the entries of a
-- trail begun by an earlier version (format 1) byte for byte.
CREATE TABLE trail_chains (
    chain TEXT PRIMARY KEY,
    bucket INTEGER NOT NULL,
    head BIGINT NOT NULL
);
CREATE INDEX trail_chains_by_bucket ON trail_chains (bucket);
CREATE TABLE trail_heads (
    level SMALLINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE trail_format (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    v2_from BIGINT NOT NULL
);

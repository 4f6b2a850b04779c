-- Back to one checkpoint per size: the first signed of each size is kept.
DELETE FROM trail_checkpoints AS c USING trail_checkpoints AS d
    WHERE c.size = d.size AND (c.at, c.key_id) > (d.at, d.key_id);
ALTER TABLE trail_checkpoints DROP CONSTRAINT trail_checkpoints_pkey;
ALTER TABLE trail_checkpoints ADD PRIMARY KEY (size);
DROP TABLE trail_keys;

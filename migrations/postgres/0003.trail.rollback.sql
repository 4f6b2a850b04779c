DROP TABLE trail_checkpoints;
DROP TABLE trail_nodes;
DROP TABLE trail_entries;

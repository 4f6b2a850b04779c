DROP TABLE trail_format;
DROP TABLE trail_heads;
DROP TABLE trail_chains;

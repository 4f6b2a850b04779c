-- Dropping the key store destroys every space secret key: all documents become
-- unreadable for good. Only for development databases.
DROP TABLE coffre_space_keys;

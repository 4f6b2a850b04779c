DROP TABLE view_documents;
DROP TABLE view_space_settings;
DROP TABLE view_blocks;
DROP TABLE view_grants;

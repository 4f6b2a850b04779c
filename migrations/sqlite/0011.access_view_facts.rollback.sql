DROP TABLE view_emergencies;
ALTER TABLE view_documents DROP COLUMN released_at;
ALTER TABLE view_documents DROP COLUMN visible_at;
ALTER TABLE view_documents DROP COLUMN invisible_to_representatives;
ALTER TABLE view_documents DROP COLUMN deleted_at;
ALTER TABLE view_documents DROP COLUMN author_profession;
ALTER TABLE view_documents DROP COLUMN author_id;
ALTER TABLE view_documents DROP COLUMN author_role;
ALTER TABLE view_space_settings DROP COLUMN opens_at;

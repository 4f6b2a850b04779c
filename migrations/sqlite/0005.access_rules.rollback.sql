ALTER TABLE access_log_documents DROP COLUMN secret;
ALTER TABLE access_log_documents DROP COLUMN held;

ALTER TABLE view_documents RENAME COLUMN invisible_to_patient TO held;
ALTER TABLE access_log_documents RENAME COLUMN invisible_to_representatives TO secret;
ALTER TABLE access_log_documents RENAME COLUMN invisible_to_patient TO held;

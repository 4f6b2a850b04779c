DROP TABLE access_log_grants;
DROP TABLE access_log_documents;
DROP TABLE access_log;

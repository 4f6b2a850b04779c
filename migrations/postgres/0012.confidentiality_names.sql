-- depends: 0005.access_rules 0011.access_view_facts
-- One name per confidentiality code: the access log's side table and the access views name
-- their flags after the codes (domain/confidentiality.py), as the domain and HTTP do. Rows
-- keep their values. Which codes keep a document from which reader is the domain's answer
-- (domain.reads.codes_hidden_from).
ALTER TABLE access_log_documents RENAME COLUMN held TO invisible_to_patient;
ALTER TABLE access_log_documents RENAME COLUMN secret TO invisible_to_representatives;
ALTER TABLE view_documents RENAME COLUMN held TO invisible_to_patient;

-- depends: 0002.access_log
-- Confidentiality codes the access log must honour at query time (projections/access_log.py):
-- a document held for an announcement consultation is kept out of the patient's log until
-- released, and a minor's secret out of a representative's.
ALTER TABLE access_log_documents ADD COLUMN held SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE access_log_documents ADD COLUMN secret SMALLINT NOT NULL DEFAULT 0;

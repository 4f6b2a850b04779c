-- depends: 0018.representations
-- Patients' export jobs (vault/export_jobs.py): who asked (owner), for which space,
-- how far the worker got, and where its archive is (data_dir/exports/<job_id>.zip, by
-- id). One queued or running job per owner (the partial unique index: a second is a
-- 409 whichever process takes it). A job whose worker stopped beating (heartbeat_at,
-- runner) ends failed; a done job's archive is removed at expires_at. Times are
-- seconds since the epoch.
CREATE TABLE export_jobs (
    job_id TEXT PRIMARY KEY,
    owner_role TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    reader_key_id TEXT NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('queued', 'running', 'done', 'failed', 'expired')),
    documents_done INTEGER NOT NULL DEFAULT 0,
    documents_total INTEGER NOT NULL DEFAULT 0,
    size BIGINT,
    sha256 TEXT,
    error TEXT,
    runner TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    heartbeat_at DOUBLE PRECISION NOT NULL,
    finished_at DOUBLE PRECISION,
    expires_at DOUBLE PRECISION
);
CREATE UNIQUE INDEX export_jobs_one_active ON export_jobs (owner_role, owner_id)
    WHERE state IN ('queued', 'running');
CREATE INDEX export_jobs_by_state ON export_jobs (state, expires_at);

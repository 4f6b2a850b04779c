-- depends: 0007.access_views
-- A projection that met an event it could not apply stops there, alone; this row says
-- where and why (projections/runner.py), shown by `coffre projections lag` and cleared
-- by `coffre projections retry` or a rebuild.
CREATE TABLE projection_failures (
    name TEXT PRIMARY KEY,
    notification_id BIGINT NOT NULL,
    error TEXT NOT NULL,
    failed_at TEXT NOT NULL
);

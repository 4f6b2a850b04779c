-- depends: 0019.export_jobs
-- The access views look a professional's running grants up in one space (a new grant
-- supersedes them, a revoke ends the grantee's others: projections/access_views.py).
-- With one index per column the planner ANDed both, and the grantee's side is every
-- grant that professional holds in any space: a GP with thousands of patients made each
-- of their grants and revokes cost more than the last (row 6 at 1M events: the access
-- views' batches 3x slower per event than at 200k). One index on the pair answers it in
-- a few pages whatever the professional's count; it also serves the space's own lookups,
-- so the space-only index goes.
CREATE INDEX view_grants_by_space_grantee ON view_grants (space_id, grantee_id);
DROP INDEX view_grants_by_space;

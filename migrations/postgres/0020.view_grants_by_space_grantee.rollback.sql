CREATE INDEX view_grants_by_space ON view_grants (space_id);
DROP INDEX view_grants_by_space_grantee;

-- depends: 0002.access_log 0005.access_rules
-- A patient's access-log page as an index-only scan. Entries are appended in global
-- order, so one patient's 50 latest rows sit on ~50 different heap pages of a table that
-- grows to billions of rows: at 10M entries the page's p99 was 2.8x that at 10k (bench
-- row 7), all of it heap page reads. Carrying the listed columns in the index keeps a
-- page within 1-2 leaf pages whatever the table's size. Same key as the index it
-- replaces, so the projection writes no extra index. Index-only scans need the
-- visibility map: autovacuum sets it on insert-only tables (PostgreSQL >= 13).
-- On a large live table, build it first with CREATE INDEX CONCURRENTLY (same name and
-- definition): IF NOT EXISTS then keeps it.
CREATE INDEX IF NOT EXISTS access_log_page ON access_log (space_id, entry_id DESC)
    INCLUDE (at, actor_role, actor_id, actor_name, actor_profession, actor_organisation,
             action, document_id, how, outcome, reason, detail);
DROP INDEX IF EXISTS access_log_by_space;

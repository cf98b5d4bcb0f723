-- On SQLite this migration rebuilds tasks, notices and accountability_records
-- to give them the references PostgreSQL has had since 000007 and 000008
-- (notices.bulletin_id, accountability_records.bulletin_id, notices.indicator_id,
-- tasks.indicator_id). Here they exist already: nothing to do. The statement
-- is there because diesel refuses to run an empty migration.
SELECT 1;

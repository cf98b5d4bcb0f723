-- The scan reads the date of the lead unit's latest report of every open
-- task with a report cycle: with the date in the index, that is one seek
-- of the index per task and no read of the report's row (at a million
-- tasks, the rescan's row reads were 38 % of its time; docs/performance.md).
-- The task page's seek of each unit's latest report uses the same index.
DROP INDEX progress_reports_task_unit;
CREATE INDEX progress_reports_task_unit ON progress_reports (task_id, unit_id, id, created_at);

-- A task's page shows each unit's latest progress report: one index seek per
-- unit (task, unit, newest id), not a read of every report of the task
-- (docs/performance.md).
CREATE INDEX progress_reports_task_unit ON progress_reports (task_id, unit_id, id);

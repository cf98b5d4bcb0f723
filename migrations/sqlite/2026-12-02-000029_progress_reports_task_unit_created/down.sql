DROP INDEX progress_reports_task_unit;
CREATE INDEX progress_reports_task_unit ON progress_reports (task_id, unit_id, id);

-- How often a task's progress report is due (monthly, quarterly,
-- half_yearly), by report_day of the cycle's last month. Existing tasks
-- keep reporting monthly.
ALTER TABLE tasks ADD COLUMN report_cadence TEXT NOT NULL DEFAULT 'monthly'
    CHECK (report_cadence IN ('monthly', 'quarterly', 'half_yearly'));

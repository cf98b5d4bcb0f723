ALTER TABLE tasks DROP COLUMN report_cadence;

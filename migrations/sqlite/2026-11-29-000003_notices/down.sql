DROP TABLE scheduler_lease;
DROP TABLE job_runs;
DROP TABLE notices;

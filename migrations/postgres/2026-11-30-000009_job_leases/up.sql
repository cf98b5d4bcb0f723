-- Leases that survive a crash: a job run that was started and never finished
-- is taken over once its lease lapses (the holder renews it while it works),
-- and a notice being sent carries the token of the claim that reserved it, so
-- only that claim can renew or finish it.
ALTER TABLE job_runs ADD COLUMN lease_until TIMESTAMP;
-- How many times the run was started: 1, plus one per takeover.
ALTER TABLE job_runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE notices ADD COLUMN claim_token TEXT;
-- Times the office sent a dead notice again: with the dead ones, how many
-- times notices were given up on (a counter that never goes down).
ALTER TABLE notices ADD COLUMN revivals INTEGER NOT NULL DEFAULT 0;

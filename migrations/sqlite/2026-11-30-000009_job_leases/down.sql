ALTER TABLE notices DROP COLUMN revivals;
ALTER TABLE notices DROP COLUMN claim_token;
ALTER TABLE job_runs DROP COLUMN attempts;
ALTER TABLE job_runs DROP COLUMN lease_until;

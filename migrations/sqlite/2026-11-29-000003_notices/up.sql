-- The notice outbox, job runs (one per job and period) and the scheduler lease.
CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id BIGINT REFERENCES tasks (id),
    unit_id BIGINT REFERENCES units (id),
    step TEXT NOT NULL,
    due_date DATE,
    dedupe_key TEXT NOT NULL UNIQUE,
    -- Fixed when the notice is written, so every attempt carries the same one.
    message_id TEXT NOT NULL DEFAULT '',
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT,
    sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notices_due ON notices (status, next_attempt_at);
CREATE INDEX notices_task_id ON notices (task_id);

CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    period TEXT NOT NULL,
    holder TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    outcome TEXT,
    counts TEXT,
    UNIQUE (job, period)
);

CREATE TABLE scheduler_lease (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

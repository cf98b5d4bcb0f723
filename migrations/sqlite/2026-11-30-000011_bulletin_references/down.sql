-- Rebuilds tasks, notices and accountability_records as 000010 left them:
-- tasks.indicator_id, notices.bulletin_id, notices.indicator_id and
-- accountability_records.bulletin_id without references. The rebuild works
-- as in up.sql (see there for why references are checked at COMMIT and what
-- the guard is for).
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE guard_no_delete_actions (actions INTEGER NOT NULL CHECK (actions = 0));
INSERT INTO guard_no_delete_actions
SELECT count(*) FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
WHERE m.type = 'table' AND f."table" IN ('tasks', 'notices', 'accountability_records')
  AND f.on_delete <> 'NO ACTION';
DROP TABLE guard_no_delete_actions;

-- AUTOINCREMENT's high-water marks, so no id is handed out twice.
CREATE TEMP TABLE sequence_copy AS
SELECT name, seq FROM sqlite_sequence WHERE name IN ('tasks', 'notices', 'accountability_records');

-- tasks: indicator_id without a reference.
CREATE TEMP TABLE tasks_copy AS SELECT * FROM tasks;
DROP TABLE tasks;
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id BIGINT NOT NULL REFERENCES plans (id),
    parent_id BIGINT REFERENCES tasks (id),
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    lead_unit_id BIGINT NOT NULL REFERENCES units (id),
    responsible_leader_id BIGINT REFERENCES users (id),
    start_date DATE,
    due_date DATE,
    original_due_date DATE,
    due_working_days INTEGER,
    priority TEXT NOT NULL CHECK (priority IN ('high', 'normal', 'low')),
    category TEXT NOT NULL CHECK (category IN ('key_task', 'indicator', 'rectification')),
    status TEXT NOT NULL CHECK (status IN ('draft', 'assigned', 'in_progress', 'submitted', 'completed', 'cancelled')),
    evidence_required BOOLEAN NOT NULL DEFAULT FALSE,
    report_day INTEGER,
    progress INTEGER NOT NULL DEFAULT 0,
    returned BOOLEAN NOT NULL DEFAULT FALSE,
    completion_note TEXT,
    assigned_at TIMESTAMP,
    accepted_at TIMESTAMP,
    submitted_at TIMESTAMP,
    submitted_on DATE,
    completed_at TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- 000008
    indicator_id BIGINT,
    UNIQUE (plan_id, code)
);
INSERT INTO tasks (
    id, plan_id, parent_id, code, title, description, lead_unit_id, responsible_leader_id,
    start_date, due_date, original_due_date, due_working_days, priority, category, status,
    evidence_required, report_day, progress, returned, completion_note, assigned_at,
    accepted_at, submitted_at, submitted_on, completed_at, version, created_at, updated_at,
    indicator_id
)
SELECT
    id, plan_id, parent_id, code, title, description, lead_unit_id, responsible_leader_id,
    start_date, due_date, original_due_date, due_working_days, priority, category, status,
    evidence_required, report_day, progress, returned, completion_note, assigned_at,
    accepted_at, submitted_at, submitted_on, completed_at, version, created_at, updated_at,
    indicator_id
FROM tasks_copy;
DROP TABLE tasks_copy;
CREATE INDEX tasks_parent_id ON tasks (parent_id);
CREATE INDEX tasks_lead_unit_id ON tasks (lead_unit_id);
CREATE INDEX tasks_due_date ON tasks (due_date);

-- notices: bulletin_id and indicator_id without references.
CREATE TEMP TABLE notices_copy AS SELECT * FROM notices;
DROP TABLE notices;
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
    created_at TIMESTAMP NOT NULL,
    -- 000004
    channel TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'webhook')),
    -- 000007
    bulletin_id BIGINT,
    -- 000008
    indicator_id BIGINT,
    period TEXT,
    -- 000009
    claim_token TEXT,
    revivals INTEGER NOT NULL DEFAULT 0
);
INSERT INTO notices (
    id, task_id, unit_id, step, due_date, dedupe_key, message_id, recipients, subject,
    body_text, body_html, status, attempts, next_attempt_at, lease_until, last_error,
    sent_at, created_at,
    channel,
    bulletin_id,
    indicator_id, period,
    claim_token, revivals
)
SELECT
    id, task_id, unit_id, step, due_date, dedupe_key, message_id, recipients, subject,
    body_text, body_html, status, attempts, next_attempt_at, lease_until, last_error,
    sent_at, created_at,
    channel,
    bulletin_id,
    indicator_id, period,
    claim_token, revivals
FROM notices_copy;
DROP TABLE notices_copy;
CREATE INDEX notices_due ON notices (status, next_attempt_at);
CREATE INDEX notices_task_id ON notices (task_id);
CREATE INDEX notices_created_at ON notices (created_at);

-- accountability_records: bulletin_id without a reference.
CREATE TEMP TABLE accountability_records_copy AS SELECT * FROM accountability_records;
DROP TABLE accountability_records;
CREATE TABLE accountability_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    user_id BIGINT REFERENCES users (id),
    level TEXT NOT NULL CHECK (level IN ('reminder', 'chase', 'supervision_order', 'public_criticism', 'admonitory_talk', 'accountability')),
    reason TEXT NOT NULL,
    task_ids TEXT NOT NULL DEFAULT '[]',
    source TEXT NOT NULL CHECK (source IN ('ladder', 'bulletin', 'office')),
    status TEXT NOT NULL CHECK (status IN ('proposed', 'confirmed', 'dismissed')),
    dedupe_key TEXT UNIQUE,
    created_by BIGINT REFERENCES users (id),
    decided_by BIGINT REFERENCES users (id),
    decision_note TEXT,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    -- 000007
    bulletin_id BIGINT
);
INSERT INTO accountability_records (
    id, unit_id, user_id, level, reason, task_ids, source, status, dedupe_key, created_by,
    decided_by, decision_note, decided_at, created_at,
    bulletin_id
)
SELECT
    id, unit_id, user_id, level, reason, task_ids, source, status, dedupe_key, created_by,
    decided_by, decision_note, decided_at, created_at,
    bulletin_id
FROM accountability_records_copy;
DROP TABLE accountability_records_copy;
CREATE INDEX accountability_records_unit_id ON accountability_records (unit_id);

DELETE FROM sqlite_sequence WHERE name IN ('tasks', 'notices', 'accountability_records');
INSERT INTO sqlite_sequence (name, seq) SELECT name, seq FROM sequence_copy;
DROP TABLE sequence_copy;

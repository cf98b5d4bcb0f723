-- Plans (实施方案), their task trees, the task timeline, progress reports,
-- evidence, extension requests, the holiday calendar and the audit log.
CREATE TABLE plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    year INTEGER NOT NULL,
    description TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'closed')),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

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
    UNIQUE (plan_id, code)
);
CREATE INDEX tasks_parent_id ON tasks (parent_id);
CREATE INDEX tasks_lead_unit_id ON tasks (lead_unit_id);
CREATE INDEX tasks_due_date ON tasks (due_date);

CREATE TABLE task_cooperators (
    task_id BIGINT NOT NULL REFERENCES tasks (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    PRIMARY KEY (task_id, unit_id)
);
CREATE INDEX task_cooperators_unit_id ON task_cooperators (unit_id);

CREATE TABLE task_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id BIGINT NOT NULL REFERENCES tasks (id),
    kind TEXT NOT NULL,
    actor_id BIGINT REFERENCES users (id),
    unit_id BIGINT REFERENCES units (id),
    note TEXT,
    data TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX task_events_task_id ON task_events (task_id, id);

CREATE TABLE progress_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id BIGINT NOT NULL REFERENCES tasks (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    percent INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX progress_reports_task_id ON progress_reports (task_id, id);

CREATE TABLE attachment_blobs (
    sha256 TEXT PRIMARY KEY NOT NULL,
    data BLOB NOT NULL
);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id BIGINT NOT NULL REFERENCES tasks (id),
    unit_id BIGINT REFERENCES units (id),
    uploaded_by BIGINT NOT NULL REFERENCES users (id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage TEXT NOT NULL CHECK (storage IN ('fs', 'db')),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_task_id ON attachments (task_id);

CREATE TABLE extensions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id BIGINT NOT NULL REFERENCES tasks (id),
    requested_by BIGINT NOT NULL REFERENCES users (id),
    old_due_date DATE NOT NULL,
    new_due_date DATE NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by BIGINT REFERENCES users (id),
    decision_note TEXT,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
-- At most one pending request per task.
CREATE UNIQUE INDEX extensions_one_pending ON extensions (task_id) WHERE status = 'pending';

CREATE TABLE holidays (
    day DATE PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT,
    before_json TEXT,
    after_json TEXT,
    created_at TIMESTAMP NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

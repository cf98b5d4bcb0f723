-- Assessment indicators (考核指标): the catalogue, periodic values reported by
-- the lead unit with evidence, and personal calendar feed tokens.
CREATE TABLE indicators (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    domain TEXT NOT NULL CHECK (domain IN ('生态制度', '生态安全', '生态空间', '生态经济', '生态生活', '生态文化')),
    group_name TEXT,
    number TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    measure_unit TEXT,
    -- The target as written (≥20, 100, 制定实施, …), and as parsed.
    target_text TEXT,
    comparison TEXT NOT NULL CHECK (comparison IN ('ge', 'le', 'eq', 'qualitative', 'none')),
    target_value DOUBLE,
    kind TEXT NOT NULL CHECK (kind IN ('binding', 'reference')),
    applies_to TEXT NOT NULL DEFAULT 'city;county',
    lead_unit_id BIGINT REFERENCES units (id),
    frequency TEXT NOT NULL CHECK (frequency IN ('monthly', 'quarterly', 'yearly')),
    -- Day of the month after a period by which its value is due.
    report_day INTEGER NOT NULL CHECK (report_day BETWEEN 1 AND 28),
    -- Values are owed for periods ending on or after this day.
    reporting_from DATE NOT NULL,
    -- How far the entry was checked against the official text (template rows).
    checked TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE indicator_cooperators (
    indicator_id BIGINT NOT NULL REFERENCES indicators (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    PRIMARY KEY (indicator_id, unit_id)
);
CREATE TABLE indicator_values (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id BIGINT NOT NULL REFERENCES indicators (id),
    period TEXT NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    due_date DATE NOT NULL,
    value DOUBLE,
    -- For qualitative targets: the unit's statement, met or not_met.
    qualitative TEXT CHECK (qualitative IN ('met', 'not_met')),
    note TEXT,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'verified', 'returned')),
    submitted_by BIGINT NOT NULL REFERENCES users (id),
    submitted_on DATE NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    decided_by BIGINT REFERENCES users (id),
    decided_at TIMESTAMP,
    decision_note TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (indicator_id, period_start)
);
CREATE TABLE indicator_attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    value_id BIGINT NOT NULL REFERENCES indicator_values (id),
    uploaded_by BIGINT NOT NULL REFERENCES users (id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- Personal iCalendar feeds: only the token's hash is kept.
CREATE TABLE calendar_feeds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX calendar_feeds_user_id ON calendar_feeds (user_id);
-- Tasks made from an indicator, and notices about an indicator's report.
ALTER TABLE tasks ADD COLUMN indicator_id BIGINT;
ALTER TABLE notices ADD COLUMN indicator_id BIGINT;
ALTER TABLE notices ADD COLUMN period TEXT;

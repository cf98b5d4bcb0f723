-- Accountability records (问责): proposed by the escalation ladder (and later by
-- bulletins) or entered by the office, then confirmed or dismissed.
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
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX accountability_records_unit_id ON accountability_records (unit_id);

-- 督办单: a numbered supervision order on a task (督办〔2026〕N号), written
-- by the scan when the ladder's 督办 step fires (created_by NULL) or by the
-- office at will. The lead unit's progress report that answers it (回执) is
-- recorded on the row in the report's transaction; a second answer finds
-- reply_report_id set and changes nothing.
CREATE TABLE supervision_orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id BIGINT NOT NULL REFERENCES tasks (id),
    year INTEGER NOT NULL,
    number BIGINT NOT NULL,
    requirement TEXT NOT NULL,
    reply_by DATE NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    reply_report_id BIGINT REFERENCES progress_reports (id),
    replied_at TIMESTAMP,
    CHECK ((reply_report_id IS NULL) = (replied_at IS NULL)),
    CHECK (number > 0)
);
-- One number per year: the counter below hands them out, this makes sure.
CREATE UNIQUE INDEX supervision_orders_year_number ON supervision_orders (year, number);
CREATE INDEX supervision_orders_task_id ON supervision_orders (task_id, id);
-- The scan looks for the orders not answered by their date.
CREATE INDEX supervision_orders_open_reply_by ON supervision_orders (reply_by) WHERE reply_report_id IS NULL;

-- The last number given out in each year. Taken with
-- UPDATE … SET last_number = last_number + 1 RETURNING in the order's own
-- transaction: the row lock orders concurrent creations (one number each),
-- and a rolled-back creation gives its number back (no gaps).
CREATE TABLE supervision_order_counters (
    -- INTEGER PRIMARY KEY: SQLite's rowid, a 64-bit integer (BIGINT on PostgreSQL).
    year INTEGER PRIMARY KEY,
    last_number BIGINT NOT NULL CHECK (last_number >= 0)
);

-- The 督办 email carries its order as an attachment. No foreign key, so that
-- the column can be dropped again on SQLite (which refuses to drop a column
-- that is part of a foreign key).
ALTER TABLE notices ADD COLUMN supervision_order_id BIGINT;

-- 批示: a leader's (or the office's) instruction on a task. The lead unit's
-- progress report that answers it (批示落实情况) is recorded on the row, in
-- the report's transaction; a second answer finds reply_report_id set and
-- changes nothing.
CREATE TABLE instructions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id BIGINT NOT NULL REFERENCES tasks (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    reply_by DATE,
    created_at TIMESTAMP NOT NULL,
    reply_report_id BIGINT REFERENCES progress_reports (id),
    replied_at TIMESTAMP,
    CHECK ((reply_report_id IS NULL) = (replied_at IS NULL))
);
CREATE INDEX instructions_task_id ON instructions (task_id, id);
-- The scan looks for the instructions not answered by their date.
CREATE INDEX instructions_open_reply_by ON instructions (reply_by) WHERE reply_report_id IS NULL;

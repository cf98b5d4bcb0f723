-- 关注: a leader or the office follows a task or a unit; followed items head
-- their home page and a daily digest lists what changed in them. Exactly one
-- of task_id and unit_id is set; following twice is refused by the unique
-- indexes (NULLs are distinct, so a unit follow never collides with a task one).
CREATE TABLE follows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    task_id BIGINT REFERENCES tasks (id),
    unit_id BIGINT REFERENCES units (id),
    created_at TIMESTAMP NOT NULL,
    CHECK ((task_id IS NULL) <> (unit_id IS NULL))
);
CREATE UNIQUE INDEX follows_user_task ON follows (user_id, task_id);
CREATE UNIQUE INDEX follows_user_unit ON follows (user_id, unit_id);

-- Co-responsible leaders (共同责任领导) of a task besides its one responsible
-- leader: they see the task and are copied on its supervision orders.
CREATE TABLE task_co_leaders (
    task_id BIGINT NOT NULL REFERENCES tasks (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (task_id, user_id)
);
CREATE INDEX task_co_leaders_user_id ON task_co_leaders (user_id);

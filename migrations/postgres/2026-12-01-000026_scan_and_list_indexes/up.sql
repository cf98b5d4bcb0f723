-- Indexes for the daily scan and the task lists (docs/performance.md).
-- The scan reads the open tasks (status IN ('assigned', 'in_progress')), the
-- ranking the counted ones due by a day, the lists filter by status and sort
-- by due date: one index on (status, due_date) serves all three.
CREATE INDEX tasks_status_due_date ON tasks (status, due_date);
-- The lists' and the leaders' pages filter by responsible leader.
CREATE INDEX tasks_responsible_leader_id ON tasks (responsible_leader_id);

DROP INDEX tasks_status_due_date;
CREATE INDEX tasks_status_due_date ON tasks (status, due_date);

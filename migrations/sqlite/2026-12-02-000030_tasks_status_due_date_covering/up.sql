-- The ranking reads, of every counted task due by the period's end, its
-- lead unit and the day it was submitted: with both in the index, that is
-- a range of the index and no read of the task's row (at a million tasks
-- the row reads were 1.4 s of the bulletin's 4.9; docs/performance.md).
-- The scan and the lists use the index's first two columns as before.
DROP INDEX tasks_status_due_date;
CREATE INDEX tasks_status_due_date ON tasks (status, due_date, lead_unit_id, submitted_on);

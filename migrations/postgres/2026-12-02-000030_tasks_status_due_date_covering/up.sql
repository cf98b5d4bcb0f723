-- The ranking reads, of every counted task due by the period's end, its
-- lead unit and the day it was submitted: with both in the index, that is
-- an index-only range and no read of the task's row (docs/performance.md).
-- The scan and the lists use the index's first two columns as before.
-- (The two as keys, not INCLUDE, so that both backends' indexes read the same.)
DROP INDEX tasks_status_due_date;
CREATE INDEX tasks_status_due_date ON tasks (status, due_date, lead_unit_id, submitted_on);

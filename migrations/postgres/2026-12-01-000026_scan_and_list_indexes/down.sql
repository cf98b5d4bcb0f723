DROP INDEX tasks_responsible_leader_id;
DROP INDEX tasks_status_due_date;

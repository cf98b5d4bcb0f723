DROP TABLE task_co_leaders;

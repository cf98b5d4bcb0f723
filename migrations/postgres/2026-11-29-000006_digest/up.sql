-- A unit may take one daily digest email instead of one email per task.
ALTER TABLE units ADD COLUMN notice_mode TEXT NOT NULL DEFAULT 'per_task' CHECK (notice_mode IN ('per_task', 'digest'));

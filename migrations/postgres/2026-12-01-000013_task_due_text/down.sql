ALTER TABLE tasks DROP COLUMN due_text;

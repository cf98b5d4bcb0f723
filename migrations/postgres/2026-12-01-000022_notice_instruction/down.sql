ALTER TABLE notices DROP COLUMN instruction_id;

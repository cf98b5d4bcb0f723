ALTER TABLE units DROP COLUMN notice_mode;

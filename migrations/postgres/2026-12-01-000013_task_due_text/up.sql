-- The deadline as the office wrote it in the breakdown table (2026年6月底前,
-- 每月25日前), kept beside the parsed date so the ledger shows both.
ALTER TABLE tasks ADD COLUMN due_text TEXT;

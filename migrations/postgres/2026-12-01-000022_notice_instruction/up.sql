-- The instruction (批示) a notice is about: its own notice to the lead unit
-- and the chases of its reply. Delivery reads it to decide whether the
-- notice is still owed, instead of parsing the dedupe key.
ALTER TABLE notices ADD COLUMN instruction_id BIGINT REFERENCES instructions (id);
-- The notices written before this column: their dedupe key names the
-- instruction (instruction:{id}:…).
UPDATE notices SET instruction_id = (
    SELECT i.id FROM instructions i
    WHERE notices.dedupe_key LIKE 'instruction:' || i.id || ':%'
)
WHERE dedupe_key LIKE 'instruction:%';

DROP INDEX notices_created_at;
ALTER TABLE accountability_records DROP COLUMN bulletin_id;
ALTER TABLE notices DROP COLUMN bulletin_id;
DROP TABLE bulletins;

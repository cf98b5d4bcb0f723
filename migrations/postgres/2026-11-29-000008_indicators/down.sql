ALTER TABLE notices DROP COLUMN period;
ALTER TABLE notices DROP COLUMN indicator_id;
ALTER TABLE tasks DROP COLUMN indicator_id;
DROP TABLE calendar_feeds;
DROP TABLE indicator_attachments;
DROP TABLE indicator_values;
DROP TABLE indicator_cooperators;
DROP TABLE indicators;

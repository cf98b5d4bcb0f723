-- Notices created, and of those cancelled, by the UTC day of their creation,
-- kept in the transaction that creates or cancels them. A closed period's
-- ranking is kept under these sums over the period's days
-- (rankings::cache): a month's few rows, where counting the month's notices
-- on every read took most of a second at a million tasks.
CREATE TABLE notice_days (
    day DATE PRIMARY KEY NOT NULL,
    created BIGINT NOT NULL,
    cancelled BIGINT NOT NULL
);
INSERT INTO notice_days (day, created, cancelled)
SELECT created_at::date, count(*), count(*) FILTER (WHERE status = 'cancelled')
FROM notices
GROUP BY created_at::date;

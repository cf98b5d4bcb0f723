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
SELECT date(created_at), count(*), sum(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END)
FROM notices
GROUP BY date(created_at);

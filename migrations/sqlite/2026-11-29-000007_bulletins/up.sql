-- Supervision bulletins (督查通报): a draft snapshot of a period's figures and
-- ranking, frozen when published and numbered per year (2026年第N期).
CREATE TABLE bulletins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The period's canonical form (2026-11, 2026-Q4, 2026, start..end).
    period TEXT NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    -- Set on publishing: the year of publication and the number within it.
    year INTEGER,
    number INTEGER,
    -- The whole bulletin as JSON; never changed once published.
    snapshot TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_by BIGINT REFERENCES users (id),
    published_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    UNIQUE (year, number),
    -- One bulletin per period.
    UNIQUE (period_start, period_end)
);
-- The bulletin a notice carries (its renderings are attached when it is sent)
-- and the bulletin an accountability record comes from.
ALTER TABLE notices ADD COLUMN bulletin_id BIGINT;
ALTER TABLE accountability_records ADD COLUMN bulletin_id BIGINT;
-- Rankings count a period's notices by the day they were written.
CREATE INDEX notices_created_at ON notices (created_at);

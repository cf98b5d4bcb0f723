-- Console sessions: the browser holds a random token in an HttpOnly cookie,
-- the database only its SHA-256, so a copy of the database cannot sign in.
-- Each session has its own CSRF token for the forms it renders. Signing out
-- revokes the row; idle and absolute limits are checked against the times.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user ON sessions (user_id);

-- An account created or reset by an administrator chooses its own password
-- at the first sign-in in the console.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

-- Back to the failure log, keeping the failures. Feeds revoked by the up
-- migration stay revoked: a revocation is not undone.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_lookup ON login_failures (username, client_ip, failed_at);
INSERT INTO login_failures (username, client_ip, failed_at)
    SELECT username, client_ip, attempted_at FROM sign_in_attempts WHERE succeeded = FALSE;
DROP TABLE sign_in_attempts;

-- Sign-in attempts replace the failure log. An attempt is written before its
-- password is checked and counts as a failure until it is marked as
-- succeeded, so parallel guesses cannot all pass the throttle; a succeeded
-- row also remembers an address the account signed in from.
CREATE TABLE sign_in_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    succeeded BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX sign_in_attempts_account ON sign_in_attempts (username, client_ip, attempted_at);
CREATE INDEX sign_in_attempts_address ON sign_in_attempts (client_ip, attempted_at);
CREATE INDEX sign_in_attempts_time ON sign_in_attempts (attempted_at);
INSERT INTO sign_in_attempts (username, client_ip, attempted_at, succeeded)
    SELECT username, client_ip, failed_at, FALSE FROM login_failures;
DROP TABLE login_failures;

-- Deactivating an account now revokes its calendar feeds for good; feeds of
-- accounts that are inactive already are revoked here, so reactivating such
-- an account does not bring them back.
UPDATE calendar_feeds SET revoked_at = CURRENT_TIMESTAMP
    WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE active = FALSE);

ALTER TABLE notices DROP COLUMN channel;
ALTER TABLE units DROP COLUMN webhook_secret;
ALTER TABLE units DROP COLUMN webhook_url;
ALTER TABLE units DROP COLUMN webhook_kind;

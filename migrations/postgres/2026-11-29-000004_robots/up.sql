-- Group-robot webhooks (WeCom, DingTalk, generic) per unit, and notices sent through them.
ALTER TABLE units ADD COLUMN webhook_kind TEXT CHECK (webhook_kind IN ('wecom', 'dingtalk', 'generic'));
ALTER TABLE units ADD COLUMN webhook_url TEXT;
ALTER TABLE units ADD COLUMN webhook_secret TEXT;
ALTER TABLE notices ADD COLUMN channel TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'webhook'));

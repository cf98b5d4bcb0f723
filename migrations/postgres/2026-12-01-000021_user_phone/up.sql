-- An account's 手机 (from the batch list or the admin's form): digits with
-- an optional leading +, checked by the service.
ALTER TABLE users ADD COLUMN phone TEXT;

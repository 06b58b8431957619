-- An account's auth token (the webhook signing secret) can be rotated: the
-- previous one stays valid for signatures and recording downloads until
-- previous_until (Unix milliseconds, 0 = none).
ALTER TABLE accounts ADD COLUMN previous_signing_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN previous_until INTEGER NOT NULL DEFAULT 0;

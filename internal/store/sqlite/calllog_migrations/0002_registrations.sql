-- Contacts bound by registered devices: kept across a restart until they
-- expire.
CREATE TABLE registrations (
    account_id TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    contact    TEXT NOT NULL,
    owner_id   TEXT NOT NULL DEFAULT '',
    username   TEXT NOT NULL,
    realm      TEXT NOT NULL,
    source     TEXT NOT NULL,
    transport  TEXT NOT NULL,
    call_id    TEXT NOT NULL,
    cseq       INTEGER NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    expires    INTEGER NOT NULL, -- unix ms
    updated    INTEGER NOT NULL, -- unix ms
    PRIMARY KEY (account_id, device_id, contact)
);
CREATE INDEX registrations_expires ON registrations (expires);

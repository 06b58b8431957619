-- Accounts, API keys, session tokens and call-flow documents.
-- Times are INTEGER Unix milliseconds, UTC.

CREATE TABLE accounts (
	id             TEXT    NOT NULL PRIMARY KEY,
	name           TEXT    NOT NULL DEFAULT '',
	signing_secret TEXT    NOT NULL DEFAULT '',
	created        INTEGER NOT NULL
) STRICT;
CREATE INDEX accounts_created ON accounts (created, id);

CREATE TABLE api_keys (
	hash       TEXT    NOT NULL PRIMARY KEY,
	account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	created    INTEGER NOT NULL
) STRICT;
CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE auth_tokens (
	hash       TEXT    NOT NULL PRIMARY KEY,
	account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	expires    INTEGER NOT NULL
) STRICT;
CREATE INDEX auth_tokens_account ON auth_tokens (account_id);
CREATE INDEX auth_tokens_expires ON auth_tokens (expires);

-- numbers and patterns keep the flow's lists (JSON arrays, in order);
-- callflow_numbers and callflow_patterns below enforce their uniqueness.
CREATE TABLE callflows (
	account_id TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	name       TEXT    NOT NULL DEFAULT '',
	numbers    TEXT    NOT NULL DEFAULT '[]',
	patterns   TEXT    NOT NULL DEFAULT '[]',
	rev        INTEGER NOT NULL, -- N of the revision "N-hex"
	revision   TEXT    NOT NULL,
	body       BLOB    NOT NULL,
	created    INTEGER NOT NULL,
	modified   INTEGER NOT NULL,
	PRIMARY KEY (account_id, id)
) STRICT;

CREATE TABLE callflow_numbers (
	account_id  TEXT NOT NULL,
	number      TEXT NOT NULL,
	callflow_id TEXT NOT NULL,
	UNIQUE (account_id, number),
	FOREIGN KEY (account_id, callflow_id) REFERENCES callflows (account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX callflow_numbers_flow ON callflow_numbers (account_id, callflow_id);

CREATE TABLE callflow_patterns (
	account_id  TEXT NOT NULL,
	pattern     TEXT NOT NULL,
	callflow_id TEXT NOT NULL,
	UNIQUE (account_id, pattern),
	FOREIGN KEY (account_id, callflow_id) REFERENCES callflows (account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX callflow_patterns_flow ON callflow_patterns (account_id, callflow_id);

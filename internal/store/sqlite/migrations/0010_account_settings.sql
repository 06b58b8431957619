-- The rest of an account's Kazoo document (timezone, caller_id,
-- call_restriction, language, realm, notifications …): what a Kazoo
-- client posts back must be kept, not refused nor dropped. body is the
-- JSON object of those keys as the API checked them; the name stays on
-- the account row, music on hold in account_moh, the operator's egress
-- networks in account_egress. No row: no such key set.

CREATE TABLE account_settings (
	account_id TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	body       TEXT    NOT NULL CHECK (json_valid(body) AND json_type(body) = 'object'),
	modified   INTEGER NOT NULL
) STRICT;

-- Trunks: where an account's calls come from (source CIDRs) and where its
-- calls to numbers go (outbound_uri). body is the JSON document as saved;
-- source_cidrs a JSON array. Times are INTEGER Unix milliseconds, UTC.

CREATE TABLE trunks (
	account_id   TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	id           TEXT    NOT NULL,
	name         TEXT    NOT NULL DEFAULT '',
	source_cidrs TEXT    NOT NULL DEFAULT '[]',
	outbound_uri TEXT    NOT NULL DEFAULT '',
	rev          INTEGER NOT NULL, -- N of the revision "N-hex"
	revision     TEXT    NOT NULL,
	body         BLOB    NOT NULL,
	created      INTEGER NOT NULL,
	modified     INTEGER NOT NULL,
	PRIMARY KEY (account_id, id)
) STRICT;

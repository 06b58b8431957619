-- Temporal rules and rule sets (time-of-day routing). Both kinds share one
-- id space per account, as in Kazoo's account database. body is the JSON
-- document as saved; times are INTEGER Unix milliseconds, UTC.

CREATE TABLE temporal_docs (
	account_id TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	kind       TEXT    NOT NULL CHECK (kind IN ('temporal_rules', 'temporal_rules_sets')),
	name       TEXT    NOT NULL DEFAULT '',
	rev        INTEGER NOT NULL, -- N of the revision "N-hex"
	revision   TEXT    NOT NULL,
	body       BLOB    NOT NULL,
	created    INTEGER NOT NULL,
	modified   INTEGER NOT NULL,
	PRIMARY KEY (account_id, id)
) STRICT;
CREATE INDEX temporal_docs_kind ON temporal_docs (account_id, kind, id);

-- The call log: call records with their traces, and webhook exchanges.
-- A database of its own, so that call volume never blocks the documents.
-- Times are INTEGER Unix milliseconds, UTC.

CREATE TABLE calls (
	account_id   TEXT    NOT NULL,
	id           TEXT    NOT NULL,
	callflow_id  TEXT    NOT NULL DEFAULT '',
	from_number  TEXT    NOT NULL DEFAULT '',
	to_number    TEXT    NOT NULL DEFAULT '',
	started      INTEGER NOT NULL,
	ended        INTEGER, -- NULL while the call runs
	hangup_cause TEXT    NOT NULL DEFAULT '',
	hangup_by    TEXT    NOT NULL DEFAULT '',
	debug        INTEGER NOT NULL DEFAULT 0,
	trace        BLOB    NOT NULL,
	PRIMARY KEY (account_id, id)
) STRICT;
-- Listings (newest first) and pruning (skip the newest N per account).
CREATE INDEX calls_started ON calls (account_id, started, id);

-- No foreign key to calls: a call's exchanges may be stored before its
-- record. seq (the rowid) keeps the insertion order.
CREATE TABLE webhooks (
	seq              INTEGER PRIMARY KEY,
	account_id       TEXT    NOT NULL,
	call_id          TEXT    NOT NULL,
	iteration        INTEGER NOT NULL,
	method           TEXT    NOT NULL DEFAULT '',
	url              TEXT    NOT NULL DEFAULT '',
	request_headers  TEXT    NOT NULL DEFAULT 'null', -- JSON object
	request_body     TEXT    NOT NULL DEFAULT '',
	status           INTEGER NOT NULL DEFAULT 0,
	response_headers TEXT    NOT NULL DEFAULT 'null', -- JSON object
	response_body    TEXT    NOT NULL DEFAULT '',
	error            TEXT    NOT NULL DEFAULT '',
	started          INTEGER NOT NULL,
	duration_ms      INTEGER NOT NULL DEFAULT 0
) STRICT;
-- A call's exchanges in order (the rowid seq is the index's last column).
CREATE INDEX webhooks_call ON webhooks (account_id, call_id, iteration);
-- Orphan pruning: old exchanges of calls without a record.
CREATE INDEX webhooks_started ON webhooks (started);

-- One document table for every kind (call flows, trunks, temporal rules,
-- users, devices …), ids shared by all kinds of an account as in Kazoo's
-- account database, and the generic indexes the store enforces inside each
-- write: unique keys, references between documents, source networks.
-- The per-kind tables of 0001-0003 are copied in and dropped.

CREATE TABLE documents (
	account_id TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	name       TEXT    NOT NULL DEFAULT '',
	rev        INTEGER NOT NULL, -- N of the revision "N-hex"
	revision   TEXT    NOT NULL,
	body       BLOB    NOT NULL,
	-- what the kind's index hook derived from body (a flow's numbers and
	-- patterns, a trunk's networks and gateway), JSON
	idx        BLOB    NOT NULL DEFAULT X'7B7D', -- {}
	created    INTEGER NOT NULL,
	modified   INTEGER NOT NULL,
	PRIMARY KEY (account_id, id)
) STRICT;
CREATE INDEX documents_kind ON documents (account_id, kind, id);
CREATE INDEX documents_each ON documents (kind, account_id, id);

-- scope is the account id, or '*' for keys unique across accounts.
CREATE TABLE document_keys (
	scope      TEXT NOT NULL,
	name       TEXT NOT NULL,
	value      TEXT NOT NULL,
	account_id TEXT NOT NULL,
	doc_id     TEXT NOT NULL,
	field      TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (scope, name, value),
	FOREIGN KEY (account_id, doc_id) REFERENCES documents (account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX document_keys_doc ON document_keys (account_id, doc_id);

-- to_id has no foreign key: a forced delete leaves the reference dangling,
-- visible to whoever reads the referring document.
CREATE TABLE document_refs (
	account_id TEXT NOT NULL,
	from_id    TEXT NOT NULL,
	path       TEXT NOT NULL,
	to_kind    TEXT NOT NULL,
	to_id      TEXT NOT NULL,
	PRIMARY KEY (account_id, from_id, path),
	FOREIGN KEY (account_id, from_id) REFERENCES documents (account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX document_refs_to ON document_refs (account_id, to_id);

CREATE TABLE document_networks (
	account_id TEXT NOT NULL,
	doc_id     TEXT NOT NULL,
	network    TEXT NOT NULL, -- masked CIDR
	FOREIGN KEY (account_id, doc_id) REFERENCES documents (account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX document_networks_doc ON document_networks (account_id, doc_id);

INSERT INTO documents (account_id, id, kind, name, rev, revision, body, idx, created, modified)
	SELECT account_id, id, 'callflows', name, rev, revision, body,
		CAST(json_object('numbers', json(numbers), 'patterns', json(patterns)) AS BLOB), created, modified FROM callflows;
INSERT INTO document_keys (scope, name, value, account_id, doc_id)
	SELECT account_id, 'number', number, account_id, callflow_id FROM callflow_numbers;
INSERT INTO document_keys (scope, name, value, account_id, doc_id)
	SELECT account_id, 'pattern', pattern, account_id, callflow_id FROM callflow_patterns;

INSERT INTO documents (account_id, id, kind, name, rev, revision, body, idx, created, modified)
	SELECT account_id, id, 'trunks', name, rev, revision, body,
		CAST(json_object('source_cidrs', json(source_cidrs), 'outbound_uri', outbound_uri) AS BLOB), created, modified FROM trunks
	WHERE true ON CONFLICT DO NOTHING;
INSERT INTO document_networks (account_id, doc_id, network)
	SELECT t.account_id, t.id, j.value FROM trunks t, json_each(t.source_cidrs) j;

INSERT INTO documents (account_id, id, kind, name, rev, revision, body, created, modified)
	SELECT account_id, id, kind, name, rev, revision, body, created, modified FROM temporal_docs
	WHERE true ON CONFLICT DO NOTHING;
INSERT INTO document_refs (account_id, from_id, path, to_kind, to_id)
	SELECT t.account_id, t.id, 'temporal_rules.' || j.key, 'temporal_rules', j.value
	FROM temporal_docs t, json_each(t.body, '$.temporal_rules') j
	WHERE t.kind = 'temporal_rules_sets' AND json_valid(t.body) AND j.type = 'text'
	ON CONFLICT DO NOTHING;

-- Call flows saved before references were recorded: the server derives
-- their references once, at its next start (DB.Reindex), then forgets them.
CREATE TABLE document_reindex (
	account_id TEXT NOT NULL,
	id         TEXT NOT NULL,
	PRIMARY KEY (account_id, id),
	FOREIGN KEY (account_id, id) REFERENCES documents (account_id, id) ON DELETE CASCADE
) STRICT;
INSERT INTO document_reindex (account_id, id) SELECT account_id, id FROM callflows;

DROP TABLE callflow_numbers;
DROP TABLE callflow_patterns;
DROP TABLE callflows;
DROP TABLE trunks;
DROP TABLE temporal_docs;

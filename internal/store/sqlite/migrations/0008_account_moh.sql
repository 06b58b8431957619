-- An account's music on hold (Kazoo's account document
-- music_on_hold.media_id): what a held party hears when the holding
-- phone (its device, else its user) names none. Kept apart from the
-- account row, as account_egress is.

CREATE TABLE account_moh (
	account_id TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	media_id   TEXT    NOT NULL,
	modified   INTEGER NOT NULL
) STRICT;

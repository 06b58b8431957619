-- The networks beyond the public internet an account's webhooks, media
-- fetches and SIP dials may reach: a setting of the operator, kept apart
-- from the account row (which the account itself may change). allow is a
-- JSON array of CIDRs or addresses.

CREATE TABLE account_egress (
	account_id TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	allow      TEXT    NOT NULL,
	modified   INTEGER NOT NULL
) STRICT;

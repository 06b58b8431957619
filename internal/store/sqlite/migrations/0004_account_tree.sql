-- Accounts form a tree as in Kazoo: parent_id is the account that made
-- this one ('' for the operator's default account, the root), reseller
-- marks the accounts the operator lets create accounts in their sub-tree.
-- Accounts made before the tree existed become children of the default
-- account (the oldest one), so none of them gains the operator's rights.

ALTER TABLE accounts ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN reseller INTEGER NOT NULL DEFAULT 0;
UPDATE accounts SET parent_id = (SELECT id FROM accounts ORDER BY created, id LIMIT 1)
	WHERE id <> (SELECT id FROM accounts ORDER BY created, id LIMIT 1);
CREATE INDEX accounts_parent ON accounts (parent_id);

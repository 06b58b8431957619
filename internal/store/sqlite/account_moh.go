package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard/switchboard/internal/store"
)

// An account's music on hold names a media document of the account: it is
// set only to one that exists, checked in the same transaction, and the
// media is not deleted while the setting names it (referrers lists the
// account, as it lists documents), unless the delete is forced.

// mohPath is where the account's music on hold sits in Kazoo's account
// document: the path a refusal and the media's referrers name.
const mohPath = "music_on_hold.media_id"

// AccountMusicOnHold returns an account's music on hold media id, "" when
// it sets none (Kazoo's account music_on_hold.media_id).
func (d *DB) AccountMusicOnHold(ctx context.Context, accountID string) (string, error) {
	var media string
	err := d.r.QueryRowContext(ctx, `SELECT media_id FROM account_moh WHERE account_id = ?`, accountID).Scan(&media)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("account music on hold of %s: %w", accountID, err)
	}
	return media, nil
}

// SetAccountMusicOnHold replaces an account's music on hold media id (""
// removes it). store.ErrNotFound when the account does not exist,
// *store.MissingRefError when the media is not a media document of the
// account.
func (d *DB) SetAccountMusicOnHold(ctx context.Context, accountID, mediaID string) error {
	err := d.write(ctx, func(tx *sql.Tx) error {
		if err := accountExists(ctx, tx, accountID); err != nil {
			return err
		}
		return setMusicOnHold(ctx, tx, accountID, mediaID, millis(d.now()))
	})
	if err != nil {
		return fmt.Errorf("set account music on hold of %s: %w", accountID, err)
	}
	return nil
}

// ReplaceAccount is Kazoo's full replace of an account's own document
// (POST /v2/accounts/{id}): its name, its music on hold ("" removes it)
// and its other settings (a JSON object; nil or {} removes them) in one
// write, with SetAccountMusicOnHold's errors. What the operator keeps for
// the account (egress networks, the reseller mark, keys) is left alone,
// as Kazoo keeps an account's private fields.
func (d *DB) ReplaceAccount(ctx context.Context, accountID, name, mediaID string, settings json.RawMessage) (store.Account, error) {
	var out store.Account
	err := d.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET name = ? WHERE id = ?`, name, accountID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		if err := setMusicOnHold(ctx, tx, accountID, mediaID, millis(d.now())); err != nil {
			return err
		}
		if err := setSettings(ctx, tx, accountID, settings, millis(d.now())); err != nil {
			return err
		}
		out, err = scanAccount(tx.QueryRowContext(ctx,
			`SELECT id, name, signing_secret, created, parent_id, reseller, previous_signing_secret, previous_until FROM accounts WHERE id = ?`, accountID))
		return err
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("replace account %s: %w", accountID, err)
	}
	return out, nil
}

func setMusicOnHold(ctx context.Context, tx *sql.Tx, accountID, mediaID string, now int64) error {
	if mediaID == "" {
		_, err := tx.ExecContext(ctx, `DELETE FROM account_moh WHERE account_id = ?`, accountID)
		return err
	}
	if ok, err := exists(ctx, tx, `SELECT 1 FROM documents WHERE account_id = ? AND id = ? AND kind = 'media'`, accountID, mediaID); err != nil {
		return err
	} else if !ok {
		return &store.MissingRefError{Refs: []store.Ref{{Path: mohPath, Kind: "media", ID: mediaID}}}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO account_moh (account_id, media_id, modified) VALUES (?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET media_id = excluded.media_id, modified = excluded.modified`,
		accountID, mediaID, now)
	return err
}

package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard/switchboard/internal/store"
)

// An account's settings are the keys of its Kazoo document that are
// neither the account row (name), its music on hold nor the operator's
// (egress): one JSON object per account, replaced whole, checked by the
// API before it gets here.

// AccountSettings returns an account's settings object, nil when it has
// none; store.ErrNotFound when the account does not exist.
func (d *DB) AccountSettings(ctx context.Context, accountID string) (json.RawMessage, error) {
	var body sql.NullString
	err := d.r.QueryRowContext(ctx, `SELECT s.body FROM accounts a LEFT JOIN account_settings s ON s.account_id = a.id
		WHERE a.id = ?`, accountID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("account settings of %s: %w", accountID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("account settings of %s: %w", accountID, err)
	}
	if !body.Valid {
		return nil, nil
	}
	return json.RawMessage(body.String), nil
}

// PatchAccount renames an account (name "" keeps its name) and replaces
// its settings with what fn makes of the stored ones (nil when none), in
// one write, so two patches never lose each other's keys (Kazoo's PATCH).
// fn's error is returned (wrapped) and changes nothing; an empty result
// (nil, {}) removes the settings. store.ErrNotFound when the account does
// not exist.
func (d *DB) PatchAccount(ctx context.Context, accountID, name string, fn func(old json.RawMessage) (json.RawMessage, error)) error {
	err := d.write(ctx, func(tx *sql.Tx) error {
		if err := accountExists(ctx, tx, accountID); err != nil {
			return err
		}
		if name != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE accounts SET name = ? WHERE id = ?`, name, accountID); err != nil {
				return err
			}
		}
		var old sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT body FROM account_settings WHERE account_id = ?`, accountID).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var prev json.RawMessage
		if old.Valid {
			prev = json.RawMessage(old.String)
		}
		next, err := fn(prev)
		if err != nil {
			return err
		}
		return setSettings(ctx, tx, accountID, next, millis(d.now()))
	})
	if err != nil {
		return fmt.Errorf("patch account %s: %w", accountID, err)
	}
	return nil
}

// setSettings stores an account's settings object; nil or {} removes it.
func setSettings(ctx context.Context, tx *sql.Tx, accountID string, body json.RawMessage, now int64) error {
	if isEmptyObject(body) {
		_, err := tx.ExecContext(ctx, `DELETE FROM account_settings WHERE account_id = ?`, accountID)
		return err
	}
	if !json.Valid(body) || bytes.TrimSpace(body)[0] != '{' {
		return errors.New("account settings are not a JSON object")
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO account_settings (account_id, body, modified) VALUES (?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET body = excluded.body, modified = excluded.modified`,
		accountID, string(body), now)
	return err
}

// isEmptyObject is true for nil, null and {}.
func isEmptyObject(body json.RawMessage) bool {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || string(b) == "null" {
		return true
	}
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && len(m) == 0
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/switchboard/switchboard/internal/store"
)

// ReplaceAPIKeys revokes an account's keys and tokens (but keepToken) and
// stores newKeyHash, in one transaction, so no moment exists where the old
// key still works beside the new one. ErrNotFound when there is no
// account, ErrExists when the new hash is already stored.
func (d *DB) ReplaceAPIKeys(ctx context.Context, accountID, newKeyHash, keepToken string) error {
	err := d.write(ctx, func(tx *sql.Tx) error {
		if err := accountExists(ctx, tx, accountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE account_id = ?`, accountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_tokens WHERE account_id = ? AND hash <> ?`, accountID, keepToken); err != nil {
			return err
		}
		return insertAPIKeyTx(ctx, tx, accountID, newKeyHash, millis(d.now()))
	})
	if err != nil {
		return fmt.Errorf("replace api keys of account %s: %w", accountID, err)
	}
	return nil
}

// SetReseller marks or unmarks an account as a reseller; ErrNotFound when
// there is none.
func (d *DB) SetReseller(ctx context.Context, accountID string, on bool) error {
	err := d.write(ctx, func(tx *sql.Tx) error {
		if err := accountExists(ctx, tx, accountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE accounts SET reseller = ? WHERE id = ?`, on, accountID)
		return err
	})
	if err != nil {
		return fmt.Errorf("set reseller of account %s: %w", accountID, err)
	}
	return nil
}

// DeleteToken revokes a token hash; ErrNotFound when it is not stored.
func (d *DB) DeleteToken(ctx context.Context, hash string) error {
	err := d.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM auth_tokens WHERE hash = ?`, hash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	return nil
}

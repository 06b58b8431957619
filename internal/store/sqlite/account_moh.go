package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/switchboard/switchboard/internal/store"
)

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
// removes it); the caller has checked that the media is the account's.
// store.ErrNotFound when the account does not exist.
func (d *DB) SetAccountMusicOnHold(ctx context.Context, accountID, mediaID string) error {
	err := d.write(ctx, func(tx *sql.Tx) error {
		if ok, err := exists(ctx, tx, `SELECT 1 FROM accounts WHERE id = ?`, accountID); err != nil {
			return err
		} else if !ok {
			return store.ErrNotFound
		}
		if mediaID == "" {
			_, err := tx.ExecContext(ctx, `DELETE FROM account_moh WHERE account_id = ?`, accountID)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO account_moh (account_id, media_id, modified) VALUES (?, ?, ?)
			ON CONFLICT (account_id) DO UPDATE SET media_id = excluded.media_id, modified = excluded.modified`,
			accountID, mediaID, millis(d.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("set account music on hold of %s: %w", accountID, err)
	}
	return nil
}

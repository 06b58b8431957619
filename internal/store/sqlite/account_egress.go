package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/switchboard/switchboard/internal/store"
)

// AccountEgress returns, per account, the networks the operator lets it
// reach besides public addresses (egress.Config.Accounts), as stored by
// SetAccountEgress.
func (d *DB) AccountEgress(ctx context.Context) (map[string][]string, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT account_id, allow FROM account_egress`)
	if err != nil {
		return nil, fmt.Errorf("account egress: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, allow string
		if err := rows.Scan(&id, &allow); err != nil {
			return nil, fmt.Errorf("account egress: %w", err)
		}
		var list []string
		if err := json.Unmarshal([]byte(allow), &list); err != nil {
			return nil, fmt.Errorf("account egress of %s: %w", id, err)
		}
		out[id] = list
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account egress: %w", err)
	}
	return out, nil
}

// SetAccountEgress replaces an account's extra networks (empty: none);
// the caller has checked that the operator asks. store.ErrNotFound when
// the account does not exist.
func (d *DB) SetAccountEgress(ctx context.Context, accountID string, allow []string) error {
	b, err := json.Marshal(allow)
	if err != nil {
		return fmt.Errorf("set account egress: %w", err)
	}
	err = d.write(ctx, func(tx *sql.Tx) error {
		if ok, err := exists(ctx, tx, `SELECT 1 FROM accounts WHERE id = ?`, accountID); err != nil {
			return err
		} else if !ok {
			return store.ErrNotFound
		}
		if len(allow) == 0 {
			_, err := tx.ExecContext(ctx, `DELETE FROM account_egress WHERE account_id = ?`, accountID)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO account_egress (account_id, allow, modified) VALUES (?, ?, ?)
			ON CONFLICT (account_id) DO UPDATE SET allow = excluded.allow, modified = excluded.modified`,
			accountID, string(b), millis(d.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("set account egress of %s: %w", accountID, err)
	}
	return nil
}

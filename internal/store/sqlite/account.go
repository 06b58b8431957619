package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

// CreateAccount stores a new account and its first API key hashes in one
// transaction; Created is set to now when zero. ErrNotFound when the parent
// named is not stored.
func (d *DB) CreateAccount(ctx context.Context, a store.Account, keyHashes ...string) (store.Account, error) {
	if a.ID == "" {
		return store.Account{}, errors.New("create account: empty id")
	}
	err := d.write(ctx, func(tx *sql.Tx) error {
		if a.Created.IsZero() {
			a.Created = d.stamp()
		} else {
			a.Created = fromMillis(millis(a.Created))
		}
		if ok, err := exists(ctx, tx, `SELECT 1 FROM accounts WHERE id = ?`, a.ID); err != nil {
			return err
		} else if ok {
			return store.ErrExists
		}
		if a.ParentID != "" {
			if err := accountExists(ctx, tx, a.ParentID); err != nil {
				return fmt.Errorf("parent %s: %w", a.ParentID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, name, signing_secret, created, parent_id, reseller) VALUES (?, ?, ?, ?, ?, ?)`,
			a.ID, a.Name, a.SigningSecret, millis(a.Created), a.ParentID, a.Reseller); err != nil {
			return err
		}
		for _, h := range keyHashes {
			if err := insertAPIKeyTx(ctx, tx, a.ID, h, millis(d.now())); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("create account %s: %w", a.ID, err)
	}
	return a, nil
}

// GetAccount returns an account; ErrNotFound when there is none.
func (d *DB) GetAccount(ctx context.Context, id string) (store.Account, error) {
	a, err := scanAccount(d.r.QueryRowContext(ctx,
		`SELECT id, name, signing_secret, created, parent_id, reseller, previous_signing_secret, previous_until FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("get account %s: %w", id, err)
	}
	return a, nil
}

// ListAccounts returns every account, oldest first (ties by id).
func (d *DB) ListAccounts(ctx context.Context) ([]store.Account, error) {
	rows, err := d.r.QueryContext(ctx,
		`SELECT id, name, signing_secret, created, parent_id, reseller, previous_signing_secret, previous_until FROM accounts ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []store.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

func scanAccount(s scanner) (store.Account, error) {
	var a store.Account
	var created, until int64
	if err := s.Scan(&a.ID, &a.Name, &a.SigningSecret, &created, &a.ParentID, &a.Reseller, &a.PreviousSigningSecret, &until); err != nil {
		return store.Account{}, err
	}
	a.Created = fromMillis(created)
	if until > 0 {
		a.PreviousUntil = fromMillis(until)
	}
	return a, nil
}

// SetSigningSecret replaces an account's signing secret, keeping the old
// one until previousUntil; ErrNotFound when the account does not exist.
func (d *DB) SetSigningSecret(ctx context.Context, id, secret string, previousUntil time.Time) (store.Account, error) {
	if secret == "" {
		return store.Account{}, fmt.Errorf("set signing secret of account %s: empty secret", id)
	}
	var until int64
	if !previousUntil.IsZero() {
		until = millis(previousUntil)
	}
	err := d.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET previous_signing_secret = signing_secret,
			previous_until = ?, signing_secret = ? WHERE id = ?`, until, secret, id)
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
		return store.Account{}, fmt.Errorf("set signing secret of account %s: %w", id, err)
	}
	return d.GetAccount(ctx, id)
}

// AddAPIKey stores the hash of an API key. ErrNotFound when the account does
// not exist, ErrExists when the hash is already stored.
func (d *DB) AddAPIKey(ctx context.Context, accountID, keyHash string) error {
	err := d.write(ctx, func(tx *sql.Tx) error {
		if err := accountExists(ctx, tx, accountID); err != nil {
			return err
		}
		return insertAPIKeyTx(ctx, tx, accountID, keyHash, millis(d.now()))
	})
	if err != nil {
		return fmt.Errorf("add api key for account %s: %w", accountID, err)
	}
	return nil
}

// insertAPIKeyTx stores a key hash of an existing account; ErrExists when
// the hash is already stored.
func insertAPIKeyTx(ctx context.Context, tx *sql.Tx, accountID, keyHash string, created int64) error {
	if ok, err := exists(ctx, tx, `SELECT 1 FROM api_keys WHERE hash = ?`, keyHash); err != nil {
		return err
	} else if ok {
		return store.ErrExists
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (hash, account_id, created) VALUES (?, ?, ?)`,
		keyHash, accountID, created)
	return err
}

// AccountByAPIKey returns the account id of a key hash; ErrNotFound if none.
func (d *DB) AccountByAPIKey(ctx context.Context, keyHash string) (string, error) {
	var id string
	err := d.r.QueryRowContext(ctx, `SELECT account_id FROM api_keys WHERE hash = ?`, keyHash).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("account by api key: %w", err)
	}
	return id, nil
}

// AddToken stores a session token hash. ErrNotFound when the account does
// not exist, ErrExists when the hash is already stored.
func (d *DB) AddToken(ctx context.Context, t store.Token) error {
	err := d.write(ctx, func(tx *sql.Tx) error {
		if err := accountExists(ctx, tx, t.AccountID); err != nil {
			return err
		}
		if ok, err := exists(ctx, tx, `SELECT 1 FROM auth_tokens WHERE hash = ?`, t.Hash); err != nil {
			return err
		} else if ok {
			return store.ErrExists
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_tokens (hash, account_id, expires) VALUES (?, ?, ?)`,
			t.Hash, t.AccountID, millis(t.Expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("add token for account %s: %w", t.AccountID, err)
	}
	return nil
}

// AccountByToken returns the account id of a token hash that expires after
// now; ErrNotFound when unknown or expired.
func (d *DB) AccountByToken(ctx context.Context, hash string, now time.Time) (string, error) {
	var id string
	err := d.r.QueryRowContext(ctx, `SELECT account_id FROM auth_tokens WHERE hash = ? AND expires > ?`,
		hash, millis(now)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("account by token: %w", err)
	}
	return id, nil
}

// DeleteExpiredTokens removes the tokens expired at now (expires <= now) and
// returns how many went.
func (d *DB) DeleteExpiredTokens(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := d.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM auth_tokens WHERE expires <= ?`, millis(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired tokens: %w", err)
	}
	return n, nil
}

func accountExists(ctx context.Context, tx *sql.Tx, id string) error {
	ok, err := exists(ctx, tx, `SELECT 1 FROM accounts WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if !ok {
		return store.ErrNotFound
	}
	return nil
}

// exists reports whether query (SELECT 1 …) finds a row.
func exists(ctx context.Context, tx *sql.Tx, query string, args ...any) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

type scanner interface{ Scan(dest ...any) error }

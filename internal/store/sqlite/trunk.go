package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard/switchboard/internal/store"
)

var _ store.TrunkStore = (*DB)(nil)

const trunkColumns = `account_id, id, name, source_cidrs, outbound_uri, body, revision, created, modified`

// CreateTrunk stores a new trunk with revision "1-…".
func (d *DB) CreateTrunk(ctx context.Context, t store.Trunk) (store.Trunk, error) {
	if t.AccountID == "" || t.ID == "" {
		return store.Trunk{}, fmt.Errorf("create trunk %s: empty account or id", t.ID)
	}
	var out store.Trunk
	err := d.write(ctx, func(tx *sql.Tx) error {
		if ok, err := exists(ctx, tx, `SELECT 1 FROM trunks WHERE account_id = ? AND id = ?`, t.AccountID, t.ID); err != nil {
			return err
		} else if ok {
			return store.ErrExists
		}
		out = t
		out.Created = d.stamp()
		out.Modified = out.Created
		out.Revision = revision(1, t.Body)
		cidrs, err := json.Marshal(nonNil(t.SourceCIDRs))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO trunks
			(account_id, id, name, source_cidrs, outbound_uri, rev, revision, body, created, modified)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
			out.AccountID, out.ID, out.Name, string(cidrs), out.OutboundURI, out.Revision, bodyBytes(out.Body),
			millis(out.Created), millis(out.Modified))
		return err
	})
	if err != nil {
		return store.Trunk{}, fmt.Errorf("create trunk %s: %w", t.ID, err)
	}
	return out, nil
}

// UpdateTrunk replaces a trunk, checking ifRevision when not empty.
func (d *DB) UpdateTrunk(ctx context.Context, t store.Trunk, ifRevision string) (store.Trunk, error) {
	var out store.Trunk
	err := d.write(ctx, func(tx *sql.Tx) error {
		rev, cur, created, err := trunkCurrent(ctx, tx, t.AccountID, t.ID)
		if err != nil {
			return err
		}
		if ifRevision != "" && ifRevision != cur {
			return store.ErrStaleRevision
		}
		out = t
		out.Created = fromMillis(created)
		out.Modified = d.stamp()
		out.Revision = revision(rev+1, t.Body)
		cidrs, err := json.Marshal(nonNil(t.SourceCIDRs))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE trunks
			SET name = ?, source_cidrs = ?, outbound_uri = ?, rev = ?, revision = ?, body = ?, modified = ?
			WHERE account_id = ? AND id = ?`,
			out.Name, string(cidrs), out.OutboundURI, rev+1, out.Revision, bodyBytes(out.Body), millis(out.Modified),
			out.AccountID, out.ID)
		return err
	})
	if err != nil {
		return store.Trunk{}, fmt.Errorf("update trunk %s: %w", t.ID, err)
	}
	return out, nil
}

// DeleteTrunk removes a trunk, checking ifRevision when not empty.
func (d *DB) DeleteTrunk(ctx context.Context, accountID, id, ifRevision string) error {
	err := d.write(ctx, func(tx *sql.Tx) error {
		_, cur, _, err := trunkCurrent(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if ifRevision != "" && ifRevision != cur {
			return store.ErrStaleRevision
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM trunks WHERE account_id = ? AND id = ?`, accountID, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete trunk %s: %w", id, err)
	}
	return nil
}

// GetTrunk returns one trunk; ErrNotFound when there is none.
func (d *DB) GetTrunk(ctx context.Context, accountID, id string) (store.Trunk, error) {
	t, err := scanTrunk(d.r.QueryRowContext(ctx,
		`SELECT `+trunkColumns+` FROM trunks WHERE account_id = ? AND id = ?`, accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Trunk{}, fmt.Errorf("get trunk %s: %w", id, err)
	}
	return t, nil
}

// ListTrunks returns the account's trunks in id order.
func (d *DB) ListTrunks(ctx context.Context, accountID string) ([]store.Trunk, error) {
	var out []store.Trunk
	err := d.eachTrunk(ctx, `SELECT `+trunkColumns+` FROM trunks WHERE account_id = ? ORDER BY id`,
		[]any{accountID}, func(t store.Trunk) error {
			out = append(out, t)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list trunks of account %s: %w", accountID, err)
	}
	return out, nil
}

// EachTrunk streams every trunk, by account then id. An error from fn
// stops the walk and is returned unwrapped.
func (d *DB) EachTrunk(ctx context.Context, fn func(store.Trunk) error) error {
	return d.eachTrunk(ctx, `SELECT `+trunkColumns+` FROM trunks ORDER BY account_id, id`, nil, fn)
}

func (d *DB) eachTrunk(ctx context.Context, query string, args []any, fn func(store.Trunk) error) error {
	rows, err := d.r.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("each trunk: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanTrunk(rows)
		if err != nil {
			return fmt.Errorf("each trunk: %w", err)
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("each trunk: %w", err)
	}
	return nil
}

func trunkCurrent(ctx context.Context, tx *sql.Tx, accountID, id string) (rev int64, revision string, created int64, err error) {
	err = tx.QueryRowContext(ctx, `SELECT rev, revision, created FROM trunks WHERE account_id = ? AND id = ?`,
		accountID, id).Scan(&rev, &revision, &created)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	return rev, revision, created, err
}

func scanTrunk(s scanner) (store.Trunk, error) {
	var (
		t                 store.Trunk
		cidrs             string
		body              []byte
		created, modified int64
	)
	if err := s.Scan(&t.AccountID, &t.ID, &t.Name, &cidrs, &t.OutboundURI, &body, &t.Revision, &created, &modified); err != nil {
		return store.Trunk{}, err
	}
	if err := json.Unmarshal([]byte(cidrs), &t.SourceCIDRs); err != nil {
		return store.Trunk{}, fmt.Errorf("trunk %s source_cidrs: %w", t.ID, err)
	}
	if len(t.SourceCIDRs) == 0 {
		t.SourceCIDRs = nil
	}
	t.Body = body
	t.Created, t.Modified = fromMillis(created), fromMillis(modified)
	return t, nil
}

func bodyBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/switchboard/switchboard/internal/store"
)

const callflowColumns = `account_id, id, name, numbers, patterns, body, revision, created, modified`

// CreateCallflow stores a new document with revision "1-…".
func (d *DB) CreateCallflow(ctx context.Context, c store.Callflow) (store.Callflow, error) {
	if c.AccountID == "" || c.ID == "" {
		return store.Callflow{}, fmt.Errorf("create callflow %s: empty account or id", c.ID)
	}
	c.Numbers, c.Patterns = dedupe(c.Numbers), dedupe(c.Patterns)
	var out store.Callflow
	err := d.write(ctx, func(tx *sql.Tx) error {
		if ok, err := exists(ctx, tx, `SELECT 1 FROM callflows WHERE account_id = ? AND id = ?`,
			c.AccountID, c.ID); err != nil {
			return err
		} else if ok {
			return store.ErrExists
		}
		out = c
		out.Created = d.stamp()
		out.Modified = out.Created
		out.Revision = revision(1, c.Body)
		if err := saveCallflow(ctx, tx, out, 1, false); err != nil {
			return err
		}
		return claim(ctx, tx, out)
	})
	if err != nil {
		return store.Callflow{}, fmt.Errorf("create callflow %s: %w", c.ID, err)
	}
	return out, nil
}

// UpdateCallflow replaces a document, checking ifRevision when not empty.
func (d *DB) UpdateCallflow(ctx context.Context, c store.Callflow, ifRevision string) (store.Callflow, error) {
	c.Numbers, c.Patterns = dedupe(c.Numbers), dedupe(c.Patterns)
	var out store.Callflow
	err := d.write(ctx, func(tx *sql.Tx) error {
		rev, cur, created, err := current(ctx, tx, c.AccountID, c.ID)
		if err != nil {
			return err
		}
		if ifRevision != "" && ifRevision != cur {
			return store.ErrStaleRevision
		}
		out = c
		out.Created = fromMillis(created)
		out.Modified = d.stamp()
		out.Revision = revision(rev+1, c.Body)
		if err := saveCallflow(ctx, tx, out, rev+1, true); err != nil {
			return err
		}
		for _, table := range []string{"callflow_numbers", "callflow_patterns"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE account_id = ? AND callflow_id = ?`,
				c.AccountID, c.ID); err != nil {
				return err
			}
		}
		return claim(ctx, tx, out)
	})
	if err != nil {
		return store.Callflow{}, fmt.Errorf("update callflow %s: %w", c.ID, err)
	}
	return out, nil
}

// DeleteCallflow removes a document, checking ifRevision when not empty.
func (d *DB) DeleteCallflow(ctx context.Context, accountID, id, ifRevision string) error {
	err := d.write(ctx, func(tx *sql.Tx) error {
		_, cur, _, err := current(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if ifRevision != "" && ifRevision != cur {
			return store.ErrStaleRevision
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM callflows WHERE account_id = ? AND id = ?`, accountID, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete callflow %s: %w", id, err)
	}
	return nil
}

// GetCallflow returns one document; ErrNotFound when there is none.
func (d *DB) GetCallflow(ctx context.Context, accountID, id string) (store.Callflow, error) {
	c, err := scanCallflow(d.r.QueryRowContext(ctx,
		`SELECT `+callflowColumns+` FROM callflows WHERE account_id = ? AND id = ?`, accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Callflow{}, fmt.Errorf("get callflow %s: %w", id, err)
	}
	return c, nil
}

// ListCallflows returns the account's documents with ids after o.After, in
// id order, at most o.Limit of them (0: all), and whether more follow.
func (d *DB) ListCallflows(ctx context.Context, accountID string, o store.ListOptions) ([]store.Callflow, bool, error) {
	limit := -1 // SQLite: no limit
	if o.Limit > 0 {
		limit = o.Limit + 1
	}
	rows, err := d.r.QueryContext(ctx, `SELECT `+callflowColumns+` FROM callflows
		WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?`, accountID, o.After, limit)
	if err != nil {
		return nil, false, fmt.Errorf("list callflows of account %s: %w", accountID, err)
	}
	defer rows.Close()
	var page []store.Callflow
	for rows.Next() {
		c, err := scanCallflow(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list callflows of account %s: %w", accountID, err)
		}
		page = append(page, c)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list callflows of account %s: %w", accountID, err)
	}
	more := o.Limit > 0 && len(page) > o.Limit
	if more {
		page = page[:o.Limit]
	}
	return page, more, nil
}

// EachCallflow streams every document of every account, by account then id.
// An error from fn stops the walk and is returned unwrapped.
func (d *DB) EachCallflow(ctx context.Context, fn func(store.Callflow) error) error {
	rows, err := d.r.QueryContext(ctx, `SELECT `+callflowColumns+` FROM callflows ORDER BY account_id, id`)
	if err != nil {
		return fmt.Errorf("each callflow: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCallflow(rows)
		if err != nil {
			return fmt.Errorf("each callflow: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("each callflow: %w", err)
	}
	return nil
}

// current reads the stored revision of a document; ErrNotFound if none.
func current(ctx context.Context, tx *sql.Tx, accountID, id string) (rev int64, revision string, created int64, err error) {
	err = tx.QueryRowContext(ctx, `SELECT rev, revision, created FROM callflows WHERE account_id = ? AND id = ?`,
		accountID, id).Scan(&rev, &revision, &created)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	return rev, revision, created, err
}

// saveCallflow inserts c, or with update replaces the stored row's fields
// (all but created).
func saveCallflow(ctx context.Context, tx *sql.Tx, c store.Callflow, rev int64, update bool) error {
	numbers, err := json.Marshal(nonNil(c.Numbers))
	if err != nil {
		return err
	}
	patterns, err := json.Marshal(nonNil(c.Patterns))
	if err != nil {
		return err
	}
	body := []byte(c.Body)
	if body == nil {
		body = []byte{}
	}
	if update {
		_, err = tx.ExecContext(ctx, `UPDATE callflows
			SET name = ?, numbers = ?, patterns = ?, rev = ?, revision = ?, body = ?, modified = ?
			WHERE account_id = ? AND id = ?`,
			c.Name, string(numbers), string(patterns), rev, c.Revision, body, millis(c.Modified),
			c.AccountID, c.ID)
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO callflows
		(account_id, id, name, numbers, patterns, rev, revision, body, created, modified)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.AccountID, c.ID, c.Name, string(numbers), string(patterns), rev, c.Revision, body,
		millis(c.Created), millis(c.Modified))
	return err
}

// claim records the flow's numbers and patterns. The flow's old claims are
// already gone, so a value that is still taken belongs to another flow: that
// is a *store.ConflictError naming it, and the caller's transaction rolls
// back.
func claim(ctx context.Context, tx *sql.Tx, c store.Callflow) error {
	for _, k := range []struct {
		kind, table, column string
		values              []string
	}{
		{"number", "callflow_numbers", "number", c.Numbers},
		{"pattern", "callflow_patterns", "pattern", c.Patterns},
	} {
		insert := `INSERT INTO ` + k.table + ` (account_id, ` + k.column + `, callflow_id) VALUES (?, ?, ?)
			ON CONFLICT (account_id, ` + k.column + `) DO NOTHING`
		for _, v := range k.values {
			res, err := tx.ExecContext(ctx, insert, c.AccountID, v, c.ID)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 1 {
				continue
			}
			conflict := &store.ConflictError{Kind: k.kind, Value: v}
			err = tx.QueryRowContext(ctx, `SELECT f.id, f.name FROM `+k.table+` x
				JOIN callflows f ON f.account_id = x.account_id AND f.id = x.callflow_id
				WHERE x.account_id = ? AND x.`+k.column+` = ?`, c.AccountID, v).
				Scan(&conflict.CallflowID, &conflict.Name)
			if err != nil {
				return fmt.Errorf("%s %s taken, holder unknown: %w", k.kind, v, err)
			}
			return conflict
		}
	}
	return nil
}

func scanCallflow(s scanner) (store.Callflow, error) {
	var (
		c                 store.Callflow
		numbers, patterns string
		body              []byte
		created, modified int64
	)
	if err := s.Scan(&c.AccountID, &c.ID, &c.Name, &numbers, &patterns, &body, &c.Revision,
		&created, &modified); err != nil {
		return store.Callflow{}, err
	}
	if err := json.Unmarshal([]byte(numbers), &c.Numbers); err != nil {
		return store.Callflow{}, fmt.Errorf("callflow %s numbers: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(patterns), &c.Patterns); err != nil {
		return store.Callflow{}, fmt.Errorf("callflow %s patterns: %w", c.ID, err)
	}
	if len(c.Numbers) == 0 {
		c.Numbers = nil
	}
	if len(c.Patterns) == 0 {
		c.Patterns = nil
	}
	c.Body = body
	c.Created, c.Modified = fromMillis(created), fromMillis(modified)
	return c, nil
}

// revision is "N-" and the first 16 hex digits of sha256(body, N).
func revision(n int64, body []byte) string {
	h := sha256.New()
	h.Write(body)
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, n, 10))
	return strconv.FormatInt(n, 10) + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// dedupe drops repeated values, keeping the first of each, in order.
func dedupe(vs []string) []string {
	if len(vs) < 2 {
		return vs
	}
	seen := make(map[string]bool, len(vs))
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func nonNil(vs []string) []string {
	if vs == nil {
		return []string{}
	}
	return vs
}

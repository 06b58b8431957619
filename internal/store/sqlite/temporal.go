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

var _ store.TemporalStore = (*DB)(nil)

const temporalColumns = `kind, account_id, id, name, body, revision, created, modified`

// CreateTemporal stores a new rule or rule set with revision "1-…".
func (d *DB) CreateTemporal(ctx context.Context, t store.TemporalDoc) (store.TemporalDoc, error) {
	if err := checkTemporal(t); err != nil {
		return store.TemporalDoc{}, err
	}
	var out store.TemporalDoc
	err := d.write(ctx, func(tx *sql.Tx) error {
		if ok, err := exists(ctx, tx, `SELECT 1 FROM temporal_docs WHERE account_id = ? AND id = ?`,
			t.AccountID, t.ID); err != nil {
			return err
		} else if ok {
			return store.ErrExists
		}
		out = t
		out.Created = d.stamp()
		out.Modified = out.Created
		out.Revision = revision(1, t.Body)
		_, err := tx.ExecContext(ctx, `INSERT INTO temporal_docs
			(account_id, id, kind, name, rev, revision, body, created, modified)
			VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)`,
			out.AccountID, out.ID, string(out.Kind), out.Name, out.Revision, nonNilBytes(out.Body),
			millis(out.Created), millis(out.Modified))
		return err
	})
	if err != nil {
		return store.TemporalDoc{}, fmt.Errorf("create %s %s: %w", t.Kind, t.ID, err)
	}
	return out, nil
}

// UpdateTemporal replaces a document of the same kind, checking ifRevision
// when not empty.
func (d *DB) UpdateTemporal(ctx context.Context, t store.TemporalDoc, ifRevision string) (store.TemporalDoc, error) {
	if err := checkTemporal(t); err != nil {
		return store.TemporalDoc{}, err
	}
	var out store.TemporalDoc
	err := d.write(ctx, func(tx *sql.Tx) error {
		cur, err := temporalCurrent(ctx, tx, t.Kind, t.AccountID, t.ID)
		if err != nil {
			return err
		}
		if ifRevision != "" && ifRevision != cur.revision {
			return store.ErrStaleRevision
		}
		out = t
		out.Created = fromMillis(cur.created)
		out.Modified = d.stamp()
		out.Revision = revision(cur.rev+1, t.Body)
		return temporalReplace(ctx, tx, out, cur.rev+1)
	})
	if err != nil {
		return store.TemporalDoc{}, fmt.Errorf("update %s %s: %w", t.Kind, t.ID, err)
	}
	return out, nil
}

// DeleteTemporal removes a document, checking ifRevision when not empty.
func (d *DB) DeleteTemporal(ctx context.Context, kind store.TemporalKind, accountID, id, ifRevision string) error {
	err := d.write(ctx, func(tx *sql.Tx) error {
		cur, err := temporalCurrent(ctx, tx, kind, accountID, id)
		if err != nil {
			return err
		}
		if ifRevision != "" && ifRevision != cur.revision {
			return store.ErrStaleRevision
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM temporal_docs WHERE account_id = ? AND id = ?`, accountID, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", kind, id, err)
	}
	return nil
}

// GetTemporal reads one document; kind "" finds either kind.
func (d *DB) GetTemporal(ctx context.Context, kind store.TemporalKind, accountID, id string) (store.TemporalDoc, error) {
	t, err := scanTemporal(d.r.QueryRowContext(ctx, `SELECT `+temporalColumns+` FROM temporal_docs
		WHERE account_id = ? AND id = ? AND (? = '' OR kind = ?)`, accountID, id, string(kind), string(kind)))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.TemporalDoc{}, fmt.Errorf("get %s %s: %w", kindName(kind), id, err)
	}
	return t, nil
}

// ListTemporal returns the account's documents of a kind with ids after
// o.After, in id order, at most o.Limit of them (0: all), and whether more
// follow.
func (d *DB) ListTemporal(ctx context.Context, kind store.TemporalKind, accountID string, o store.ListOptions) ([]store.TemporalDoc, bool, error) {
	limit := -1
	if o.Limit > 0 {
		limit = o.Limit + 1
	}
	rows, err := d.r.QueryContext(ctx, `SELECT `+temporalColumns+` FROM temporal_docs
		WHERE account_id = ? AND kind = ? AND id > ? ORDER BY id LIMIT ?`, accountID, string(kind), o.After, limit)
	if err != nil {
		return nil, false, fmt.Errorf("list %s of account %s: %w", kind, accountID, err)
	}
	defer rows.Close()
	var page []store.TemporalDoc
	for rows.Next() {
		t, err := scanTemporal(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list %s of account %s: %w", kind, accountID, err)
		}
		page = append(page, t)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list %s of account %s: %w", kind, accountID, err)
	}
	more := o.Limit > 0 && len(page) > o.Limit
	if more {
		page = page[:o.Limit]
	}
	return page, more, nil
}

// SetTemporalRuleEnabled sets (true, false) or removes (nil) the rule
// document's "enabled" key, as a new revision.
func (d *DB) SetTemporalRuleEnabled(ctx context.Context, accountID, id string, enabled *bool) (store.TemporalDoc, error) {
	var out store.TemporalDoc
	err := d.write(ctx, func(tx *sql.Tx) error {
		cur, err := scanTemporal(tx.QueryRowContext(ctx, `SELECT `+temporalColumns+` FROM temporal_docs
			WHERE account_id = ? AND id = ? AND kind = ?`, accountID, id, string(store.TemporalRuleKind)))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		var rev int64
		if err := tx.QueryRowContext(ctx, `SELECT rev FROM temporal_docs WHERE account_id = ? AND id = ?`,
			accountID, id).Scan(&rev); err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(cur.Body))
		dec.UseNumber()
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil || doc == nil {
			return fmt.Errorf("stored body is not a JSON object: %w", err)
		}
		if enabled == nil {
			delete(doc, "enabled")
		} else {
			doc["enabled"] = *enabled
		}
		body, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		out = cur
		out.Body = body
		out.Modified = d.stamp()
		out.Revision = revision(rev+1, body)
		return temporalReplace(ctx, tx, out, rev+1)
	})
	if err != nil {
		return store.TemporalDoc{}, fmt.Errorf("set temporal rule %s enabled: %w", id, err)
	}
	return out, nil
}

func checkTemporal(t store.TemporalDoc) error {
	switch {
	case t.AccountID == "" || t.ID == "":
		return fmt.Errorf("save %s %s: empty account or id", t.Kind, t.ID)
	case t.Kind != store.TemporalRuleKind && t.Kind != store.TemporalRuleSetKind:
		return fmt.Errorf("save temporal document %s: unknown kind %q", t.ID, t.Kind)
	}
	return nil
}

type temporalRow struct {
	rev      int64
	revision string
	created  int64
}

// temporalCurrent reads the stored revision of a document of a kind;
// ErrNotFound if none.
func temporalCurrent(ctx context.Context, tx *sql.Tx, kind store.TemporalKind, accountID, id string) (temporalRow, error) {
	var r temporalRow
	err := tx.QueryRowContext(ctx, `SELECT rev, revision, created FROM temporal_docs
		WHERE account_id = ? AND id = ? AND kind = ?`, accountID, id, string(kind)).Scan(&r.rev, &r.revision, &r.created)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	return r, err
}

func temporalReplace(ctx context.Context, tx *sql.Tx, t store.TemporalDoc, rev int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE temporal_docs
		SET name = ?, rev = ?, revision = ?, body = ?, modified = ?
		WHERE account_id = ? AND id = ?`,
		t.Name, rev, t.Revision, nonNilBytes(t.Body), millis(t.Modified), t.AccountID, t.ID)
	return err
}

func scanTemporal(s scanner) (store.TemporalDoc, error) {
	var (
		t                 store.TemporalDoc
		kind              string
		body              []byte
		created, modified int64
	)
	if err := s.Scan(&kind, &t.AccountID, &t.ID, &t.Name, &body, &t.Revision, &created, &modified); err != nil {
		return store.TemporalDoc{}, err
	}
	t.Kind = store.TemporalKind(kind)
	t.Body = body
	t.Created, t.Modified = fromMillis(created), fromMillis(modified)
	return t, nil
}

func kindName(k store.TemporalKind) string {
	if k == "" {
		return "temporal document"
	}
	return string(k)
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

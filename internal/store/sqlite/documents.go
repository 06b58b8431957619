package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"

	"github.com/switchboard/switchboard/internal/store"
)

var _ store.Documents = (*DB)(nil)

// Watch adds a watcher of committed writes. Watchers run in commit order,
// under the lock that orders writes, so an index fed by them always
// reflects the last committed document.
func (d *DB) Watch(fn func(store.Change)) {
	d.watchMu.Lock()
	defer d.watchMu.Unlock()
	d.watchers = append(d.watchers, fn)
}

// writeDocs runs fn as one write transaction and, once committed, hands
// the changes fn reported to the watchers.
func (d *DB) writeDocs(ctx context.Context, fn func(tx *sql.Tx) ([]store.Change, error)) error {
	d.orderMu.Lock()
	defer d.orderMu.Unlock()
	var changes []store.Change
	err := d.write(ctx, func(tx *sql.Tx) error {
		var err error
		changes, err = fn(tx)
		return err
	})
	if err != nil {
		return err
	}
	d.watchMu.Lock()
	ws := d.watchers
	d.watchMu.Unlock()
	for _, c := range changes {
		for _, w := range ws {
			w(c)
		}
	}
	return nil
}

// CreateDoc stores a new document with revision "1-…".
func (d *DB) CreateDoc(ctx context.Context, w store.DocWrite) (store.Doc, error) {
	var out store.Doc
	err := d.writeDocs(ctx, func(tx *sql.Tx) ([]store.Change, error) {
		var err error
		if out, err = d.createLocked(ctx, tx, w); err != nil {
			return nil, err
		}
		if err := checkRefs(ctx, tx, w.AccountID, w.Refs); err != nil {
			return nil, err
		}
		return []store.Change{{Op: store.Saved, Doc: out}}, nil
	})
	if err != nil {
		return store.Doc{}, fmt.Errorf("create %s %s: %w", w.Kind, w.ID, err)
	}
	return out, nil
}

// UpdateDoc replaces a document, checking ifRevision when not empty.
func (d *DB) UpdateDoc(ctx context.Context, w store.DocWrite, ifRevision string) (store.Doc, error) {
	var out store.Doc
	err := d.writeDocs(ctx, func(tx *sql.Tx) ([]store.Change, error) {
		var err error
		if out, err = d.updateLocked(ctx, tx, w, ifRevision); err != nil {
			return nil, err
		}
		if err := checkRefs(ctx, tx, w.AccountID, w.Refs); err != nil {
			return nil, err
		}
		return []store.Change{{Op: store.Saved, Doc: out}}, nil
	})
	if err != nil {
		return store.Doc{}, fmt.Errorf("update %s %s: %w", w.Kind, w.ID, err)
	}
	return out, nil
}

// ApplyDocs creates or updates each document by id, all in one
// transaction; references are checked after every document is written.
func (d *DB) ApplyDocs(ctx context.Context, ws []store.DocWrite) ([]store.Doc, error) {
	var out []store.Doc
	err := d.writeDocs(ctx, func(tx *sql.Tx) ([]store.Change, error) {
		out = out[:0]
		changes := make([]store.Change, 0, len(ws))
		for _, w := range ws {
			cur, err := getDoc(ctx, tx, "", w.AccountID, w.ID)
			var saved store.Doc
			switch {
			case errors.Is(err, store.ErrNotFound):
				saved, err = d.createLocked(ctx, tx, w)
			case err != nil:
			case cur.Kind != w.Kind:
				err = fmt.Errorf("id %s is a %s: %w", w.ID, cur.Kind, store.ErrExists)
			default:
				saved, err = d.updateLocked(ctx, tx, w, "")
			}
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", w.Kind, w.ID, err)
			}
			out = append(out, saved)
			changes = append(changes, store.Change{Op: store.Saved, Doc: saved})
		}
		var missing []store.Ref
		for _, w := range ws {
			if err := checkRefs(ctx, tx, w.AccountID, w.Refs); err != nil {
				m, ok := errors.AsType[*store.MissingRefError](err)
				if !ok {
					return nil, err
				}
				for _, r := range m.Refs {
					r.Path = w.Kind + "/" + w.ID + ":" + r.Path
					missing = append(missing, r)
				}
			}
		}
		if len(missing) > 0 {
			return nil, &store.MissingRefError{Refs: missing}
		}
		return changes, nil
	})
	if err != nil {
		return nil, fmt.Errorf("apply documents: %w", err)
	}
	return out, nil
}

// DeleteDoc removes a document, checking ifRevision and its referrers.
func (d *DB) DeleteDoc(ctx context.Context, kind, accountID, id, ifRevision string, force bool) (store.Doc, error) {
	var out store.Doc
	err := d.writeDocs(ctx, func(tx *sql.Tx) ([]store.Change, error) {
		cur, err := getDoc(ctx, tx, kind, accountID, id)
		if err != nil {
			return nil, err
		}
		if ifRevision != "" && ifRevision != cur.Revision {
			return nil, store.ErrStaleRevision
		}
		if !force {
			refs, err := referrers(ctx, tx, accountID, id)
			if err != nil {
				return nil, err
			}
			if len(refs) > 0 {
				return nil, &store.InUseError{Kind: kind, ID: id, Referrers: refs}
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE account_id = ? AND id = ?`, accountID, id); err != nil {
			return nil, err
		}
		out = cur
		return []store.Change{{Op: store.Deleted, Doc: cur}}, nil
	})
	if err != nil {
		return store.Doc{}, fmt.Errorf("delete %s %s: %w", kind, id, err)
	}
	return out, nil
}

func (d *DB) createLocked(ctx context.Context, tx *sql.Tx, w store.DocWrite) (store.Doc, error) {
	if w.AccountID == "" || w.ID == "" || w.Kind == "" {
		return store.Doc{}, errors.New("empty account, kind or id")
	}
	if ok, err := exists(ctx, tx, `SELECT 1 FROM documents WHERE account_id = ? AND id = ?`, w.AccountID, w.ID); err != nil {
		return store.Doc{}, err
	} else if ok {
		return store.Doc{}, store.ErrExists
	}
	out := w.Doc
	out.Created = d.stamp()
	out.Modified = out.Created
	out.Revision = revision(1, w.Body)
	if _, err := tx.ExecContext(ctx, `INSERT INTO documents
		(account_id, id, kind, name, rev, revision, body, idx, created, modified) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
		out.AccountID, out.ID, out.Kind, out.Name, out.Revision, nonNilBytes(out.Body), indexBytes(out.Index),
		millis(out.Created), millis(out.Modified)); err != nil {
		return store.Doc{}, err
	}
	return out, claimAll(ctx, tx, w)
}

func (d *DB) updateLocked(ctx context.Context, tx *sql.Tx, w store.DocWrite, ifRevision string) (store.Doc, error) {
	var (
		rev     int64
		cur     string
		created int64
	)
	err := tx.QueryRowContext(ctx, `SELECT rev, revision, created FROM documents WHERE account_id = ? AND id = ? AND kind = ?`,
		w.AccountID, w.ID, w.Kind).Scan(&rev, &cur, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Doc{}, store.ErrNotFound
	}
	if err != nil {
		return store.Doc{}, err
	}
	if ifRevision != "" && ifRevision != cur {
		return store.Doc{}, store.ErrStaleRevision
	}
	out := w.Doc
	out.Created = fromMillis(created)
	out.Modified = d.stamp()
	out.Revision = revision(rev+1, w.Body)
	if _, err := tx.ExecContext(ctx, `UPDATE documents SET name = ?, rev = ?, revision = ?, body = ?, idx = ?, modified = ?
		WHERE account_id = ? AND id = ?`, out.Name, rev+1, out.Revision, nonNilBytes(out.Body), indexBytes(out.Index), millis(out.Modified),
		out.AccountID, out.ID); err != nil {
		return store.Doc{}, err
	}
	for _, table := range []string{"document_keys", "document_refs", "document_networks", "document_reindex"} {
		col := "doc_id"
		switch table {
		case "document_refs":
			col = "from_id"
		case "document_reindex": // a save derives everything afresh
			col = "id"
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE account_id = ? AND `+col+` = ?`, w.AccountID, w.ID); err != nil {
			return store.Doc{}, err
		}
	}
	return out, claimAll(ctx, tx, w)
}

// claimAll records a document's keys, references and networks; its old
// ones are already gone. A key still taken is another document's: a
// *store.ConflictError naming it. A network overlapping another account's
// is a *store.NetworkError.
func claimAll(ctx context.Context, tx *sql.Tx, w store.DocWrite) error {
	for _, k := range w.Keys {
		scope := w.AccountID
		if k.Global {
			scope = "*"
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO document_keys (scope, name, value, account_id, doc_id, field)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope, name, value) DO NOTHING`,
			scope, k.Name, k.Value, w.AccountID, w.ID, k.Field)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			continue
		}
		c := &store.ConflictError{Kind: k.Name, Value: k.Value, Field: k.Field}
		var holderAccount string
		err = tx.QueryRowContext(ctx, `SELECT d.account_id, d.id, d.kind, d.name FROM document_keys k
			JOIN documents d ON d.account_id = k.account_id AND d.id = k.doc_id
			WHERE k.scope = ? AND k.name = ? AND k.value = ?`, scope, k.Name, k.Value).
			Scan(&holderAccount, &c.CallflowID, &c.HolderKind, &c.Name)
		if err != nil {
			return fmt.Errorf("%s %s taken, holder unknown: %w", k.Name, k.Value, err)
		}
		if holderAccount != w.AccountID { // never name another account's document
			c.CallflowID, c.Name = "", ""
		}
		return c
	}
	for _, r := range w.Refs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO document_refs (account_id, from_id, path, to_kind, to_id)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, w.AccountID, w.ID, r.Path, r.Kind, r.ID); err != nil {
			return err
		}
	}
	if len(w.Networks) == 0 {
		return nil
	}
	others, err := otherNetworks(ctx, tx, w.AccountID)
	if err != nil {
		return err
	}
	for i, p := range w.Networks {
		for _, q := range others {
			if p.Overlaps(q) {
				return &store.NetworkError{Index: i, Network: p.String()}
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO document_networks (account_id, doc_id, network) VALUES (?, ?, ?)`,
			w.AccountID, w.ID, p.Masked().String()); err != nil {
			return err
		}
	}
	return nil
}

// otherNetworks reads every source network held by another account.
func otherNetworks(ctx context.Context, tx *sql.Tx, accountID string) ([]netip.Prefix, error) {
	rows, err := tx.QueryContext(ctx, `SELECT network FROM document_networks WHERE account_id != ?`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []netip.Prefix
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out, rows.Err()
}

// checkRefs finds the references that name no document of their kind.
func checkRefs(ctx context.Context, tx *sql.Tx, accountID string, refs []store.Ref) error {
	var missing []store.Ref
	for _, r := range refs {
		var kind string
		err := tx.QueryRowContext(ctx, `SELECT kind FROM documents WHERE account_id = ? AND id = ?`, accountID, r.ID).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) {
			missing = append(missing, r)
			continue
		}
		if err != nil {
			return err
		}
		ok := false
		for _, k := range r.Kinds() {
			ok = ok || k == kind
		}
		if !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return &store.MissingRefError{Refs: missing}
	}
	return nil
}

// indexBytes is a document's index as stored: {} when empty.
func indexBytes(b []byte) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}

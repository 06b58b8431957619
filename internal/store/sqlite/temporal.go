package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/switchboard/switchboard/internal/store"
)

var _ store.TemporalStore = (*DB)(nil)

// Temporal rules and rule sets are documents of kinds "temporal_rules"
// and "temporal_rules_sets"; a set's rules are references. These methods
// keep store.TemporalStore on the one document table.

func temporalWrite(t store.TemporalDoc) (store.DocWrite, error) {
	switch {
	case t.AccountID == "" || t.ID == "":
		return store.DocWrite{}, fmt.Errorf("save %s %s: empty account or id", t.Kind, t.ID)
	case t.Kind != store.TemporalRuleKind && t.Kind != store.TemporalRuleSetKind:
		return store.DocWrite{}, fmt.Errorf("save temporal document %s: unknown kind %q", t.ID, t.Kind)
	}
	return store.DocWrite{Doc: store.Doc{Kind: string(t.Kind), ID: t.ID, AccountID: t.AccountID, Name: t.Name, Body: t.Body}}, nil
}

// TemporalOf reads a temporal document back as a store.TemporalDoc.
func TemporalOf(d store.Doc) store.TemporalDoc {
	return store.TemporalDoc{Kind: store.TemporalKind(d.Kind), ID: d.ID, AccountID: d.AccountID, Name: d.Name,
		Body: d.Body, Revision: d.Revision, Created: d.Created, Modified: d.Modified}
}

func isTemporal(kind string) bool {
	return kind == string(store.TemporalRuleKind) || kind == string(store.TemporalRuleSetKind)
}

// CreateTemporal stores a new rule or rule set with revision "1-…".
func (d *DB) CreateTemporal(ctx context.Context, t store.TemporalDoc) (store.TemporalDoc, error) {
	w, err := temporalWrite(t)
	if err != nil {
		return store.TemporalDoc{}, err
	}
	doc, err := d.CreateDoc(ctx, w)
	if err != nil {
		return store.TemporalDoc{}, err
	}
	return TemporalOf(doc), nil
}

// UpdateTemporal replaces a document of the same kind.
func (d *DB) UpdateTemporal(ctx context.Context, t store.TemporalDoc, ifRevision string) (store.TemporalDoc, error) {
	w, err := temporalWrite(t)
	if err != nil {
		return store.TemporalDoc{}, err
	}
	doc, err := d.UpdateDoc(ctx, w, ifRevision)
	if err != nil {
		return store.TemporalDoc{}, err
	}
	return TemporalOf(doc), nil
}

// DeleteTemporal removes a document of the kind.
func (d *DB) DeleteTemporal(ctx context.Context, kind store.TemporalKind, accountID, id, ifRevision string) error {
	_, err := d.DeleteDoc(ctx, string(kind), accountID, id, ifRevision, true)
	return err
}

// GetTemporal reads a document; kind "" finds a rule or a set.
func (d *DB) GetTemporal(ctx context.Context, kind store.TemporalKind, accountID, id string) (store.TemporalDoc, error) {
	doc, err := d.GetDoc(ctx, string(kind), accountID, id)
	if err == nil && !isTemporal(doc.Kind) {
		err = fmt.Errorf("get temporal %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.TemporalDoc{}, err
	}
	return TemporalOf(doc), nil
}

// ListTemporal returns one page of the account's documents of a kind.
func (d *DB) ListTemporal(ctx context.Context, kind store.TemporalKind, accountID string, o store.ListOptions) ([]store.TemporalDoc, bool, error) {
	docs, more, err := d.ListDocs(ctx, string(kind), accountID, store.DocQuery{Limit: o.Limit, After: o.After})
	if err != nil {
		return nil, false, err
	}
	out := make([]store.TemporalDoc, 0, len(docs))
	for _, doc := range docs {
		out = append(out, TemporalOf(doc))
	}
	return out, more, nil
}

// SetTemporalRuleEnabled sets (true, false) or removes (nil) the rule
// document's "enabled" key, keeping everything else.
func (d *DB) SetTemporalRuleEnabled(ctx context.Context, accountID, id string, enabled *bool) (store.TemporalDoc, error) {
	doc, err := d.RewriteDoc(ctx, string(store.TemporalRuleKind), accountID, id, func(body []byte) ([]byte, error) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil || m == nil {
			return nil, fmt.Errorf("stored body is not a JSON object: %w", err)
		}
		if enabled == nil {
			delete(m, "enabled")
		} else {
			m["enabled"] = *enabled
		}
		return json.Marshal(m)
	})
	if err != nil {
		return store.TemporalDoc{}, fmt.Errorf("set temporal rule %s enabled: %w", id, err)
	}
	return TemporalOf(doc), nil
}

// RewriteDoc replaces a document's body with edit's result in one
// transaction, keeping its keys, references and index: for edits that
// touch no indexed field (a temporal rule's override).
func (d *DB) RewriteDoc(ctx context.Context, kind, accountID, id string, edit func([]byte) ([]byte, error)) (store.Doc, error) {
	var out store.Doc
	err := d.writeDocs(ctx, func(tx *sql.Tx) ([]store.Change, error) {
		cur, err := getDoc(ctx, tx, kind, accountID, id)
		if err != nil {
			return nil, err
		}
		body, err := edit(cur.Body)
		if err != nil {
			return nil, err
		}
		var rev int64
		if err := tx.QueryRowContext(ctx, `SELECT rev FROM documents WHERE account_id = ? AND id = ?`, accountID, id).Scan(&rev); err != nil {
			return nil, err
		}
		out = cur
		out.Body = body
		out.Modified = d.stamp()
		out.Revision = revision(rev+1, body)
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET rev = ?, revision = ?, body = ?, modified = ?
			WHERE account_id = ? AND id = ?`, rev+1, out.Revision, body, millis(out.Modified), accountID, id); err != nil {
			return nil, err
		}
		return []store.Change{{Op: store.Saved, Doc: out}}, nil
	})
	if err != nil {
		return store.Doc{}, fmt.Errorf("rewrite %s %s: %w", kind, id, err)
	}
	return out, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/switchboard/switchboard/internal/store"
)

// PendingReindex lists the documents a migration left to be indexed again.
func (d *DB) PendingReindex(ctx context.Context) ([]store.Doc, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT d.kind, d.account_id, d.id, d.name, d.body, d.idx, d.revision, d.created, d.modified
		FROM document_reindex p JOIN documents d ON d.account_id = p.account_id AND d.id = p.id ORDER BY d.account_id, d.id`)
	if err != nil {
		return nil, fmt.Errorf("pending reindex: %w", err)
	}
	defer rows.Close()
	var out []store.Doc
	for rows.Next() {
		doc, err := scanDoc(rows)
		if err != nil {
			return nil, fmt.Errorf("pending reindex: %w", err)
		}
		out = append(out, doc)
	}
	return out, rows.Err()
}

// Reindex replaces a document's keys, references, networks and index.
func (d *DB) Reindex(ctx context.Context, w store.DocWrite) error {
	err := d.writeDocs(ctx, func(tx *sql.Tx) ([]store.Change, error) {
		for _, q := range []string{
			`DELETE FROM document_keys WHERE account_id = ? AND doc_id = ?`,
			`DELETE FROM document_refs WHERE account_id = ? AND from_id = ?`,
			`DELETE FROM document_networks WHERE account_id = ? AND doc_id = ?`,
			`DELETE FROM document_reindex WHERE account_id = ? AND id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, w.AccountID, w.ID); err != nil {
				return nil, err
			}
		}
		if len(w.Index) > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE documents SET idx = ? WHERE account_id = ? AND id = ?`,
				[]byte(w.Index), w.AccountID, w.ID); err != nil {
				return nil, err
			}
		}
		return nil, claimAll(ctx, tx, w)
	})
	if err != nil {
		return fmt.Errorf("reindex %s %s: %w", w.Kind, w.ID, err)
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/internal/store"
)

const docColumns = `kind, account_id, id, name, body, idx, revision, created, modified`

// querier is what reads need: the read pool or a write transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func scanDoc(s scanner) (store.Doc, error) {
	var (
		doc               store.Doc
		body, idx         []byte
		created, modified int64
	)
	if err := s.Scan(&doc.Kind, &doc.AccountID, &doc.ID, &doc.Name, &body, &idx, &doc.Revision, &created, &modified); err != nil {
		return store.Doc{}, err
	}
	doc.Body, doc.Index = body, idx
	doc.Created, doc.Modified = fromMillis(created), fromMillis(modified)
	return doc, nil
}

// getDoc reads one document; kind "" matches any kind.
func getDoc(ctx context.Context, q querier, kind, accountID, id string) (store.Doc, error) {
	doc, err := scanDoc(q.QueryRowContext(ctx, `SELECT `+docColumns+` FROM documents
		WHERE account_id = ? AND id = ? AND (? = '' OR kind = ?)`, accountID, id, kind, kind))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	return doc, err
}

// GetDoc reads a document; ErrNotFound when there is none of that kind.
func (d *DB) GetDoc(ctx context.Context, kind, accountID, id string) (store.Doc, error) {
	doc, err := getDoc(ctx, d.r, kind, accountID, id)
	if err != nil {
		return store.Doc{}, fmt.Errorf("get %s %s: %w", kind, id, err)
	}
	return doc, nil
}

// ListDocs returns the account's documents of a kind with ids after
// q.After and matching q.Filters, in id order, at most q.Limit (0: all),
// and whether more follow.
func (d *DB) ListDocs(ctx context.Context, kind, accountID string, q store.DocQuery) ([]store.Doc, bool, error) {
	limit := -1
	if q.Limit > 0 {
		limit = q.Limit + 1
	}
	where := []string{"account_id = ?", "kind = ?", "id > ?"}
	args := []any{accountID, kind, q.After}
	fields := make([]string, 0, len(q.Filters))
	for f := range q.Filters {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		path, err := jsonPath(f)
		if err != nil {
			return nil, false, fmt.Errorf("list %s: %w", kind, err)
		}
		c, a := filterClause(path, q.Filters[f])
		where = append(where, c)
		args = append(args, a...)
	}
	args = append(args, limit)
	rows, err := d.r.QueryContext(ctx, `SELECT `+docColumns+` FROM documents WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, false, fmt.Errorf("list %s of account %s: %w", kind, accountID, err)
	}
	defer rows.Close()
	var page []store.Doc
	for rows.Next() {
		doc, err := scanDoc(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list %s of account %s: %w", kind, accountID, err)
		}
		page = append(page, doc)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list %s of account %s: %w", kind, accountID, err)
	}
	more := q.Limit > 0 && len(page) > q.Limit
	if more {
		page = page[:q.Limit]
	}
	return page, more, nil
}

// filterClause matches a field's value as text, parsing the body once
// per row: "true"/"false" match booleans, a number's text matches the
// number or the string, anything else the string.
func filterClause(path, value string) (string, []any) {
	switch value {
	case "true", "false":
		return `json_type(CAST(body AS TEXT), ?) = ?`, []any{path, value}
	}
	if n, err := strconv.ParseInt(value, 10, 64); err == nil && strconv.FormatInt(n, 10) == value {
		return `json_extract(CAST(body AS TEXT), ?) IN (?, ?)`, []any{path, value, n}
	}
	if f, err := strconv.ParseFloat(value, 64); err == nil && !strings.ContainsAny(value, "xXpP_") {
		return `json_extract(CAST(body AS TEXT), ?) IN (?, ?)`, []any{path, value, f}
	}
	return `json_extract(CAST(body AS TEXT), ?) = ?`, []any{path, value}
}

// jsonPath turns a dotted field ("caller_id.internal.number", "numbers.0")
// into an SQLite JSON path, every key quoted.
func jsonPath(field string) (string, error) {
	if field == "" || strings.ContainsAny(field, `"\`) {
		return "", fmt.Errorf("bad filter field %q", field)
	}
	var b strings.Builder
	b.WriteString("$")
	for part := range strings.SplitSeq(field, ".") {
		if part == "" {
			return "", fmt.Errorf("bad filter field %q", field)
		}
		if isIndex(part) {
			b.WriteString("[" + part + "]")
			continue
		}
		b.WriteString(`."` + part + `"`)
	}
	return b.String(), nil
}

func isIndex(s string) bool {
	if len(s) > 6 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// EachDoc streams every document of a kind ("" = every kind) of every
// account, by account then id. An error from fn stops the walk and is
// returned unwrapped.
func (d *DB) EachDoc(ctx context.Context, kind string, fn func(store.Doc) error) error {
	rows, err := d.r.QueryContext(ctx, `SELECT `+docColumns+` FROM documents WHERE ? = '' OR kind = ?
		ORDER BY account_id, id`, kind, kind)
	if err != nil {
		return fmt.Errorf("each %s: %w", kind, err)
	}
	defer rows.Close()
	for rows.Next() {
		doc, err := scanDoc(rows)
		if err != nil {
			return fmt.Errorf("each %s: %w", kind, err)
		}
		if err := fn(doc); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("each %s: %w", kind, err)
	}
	return nil
}

// Referrers lists the documents of the account pointing to id, by kind,
// id and path; a document pointing to itself is left out. The account's
// own music on hold counts: it is listed as kind "accounts".
func (d *DB) Referrers(ctx context.Context, accountID, id string) ([]store.Referrer, error) {
	refs, err := referrers(ctx, d.r, accountID, id)
	if err != nil {
		return nil, fmt.Errorf("referrers of %s: %w", id, err)
	}
	return refs, nil
}

func referrers(ctx context.Context, q querier, accountID, id string) ([]store.Referrer, error) {
	rows, err := q.QueryContext(ctx, `SELECT d.kind, d.id, d.name, r.path FROM document_refs r
		JOIN documents d ON d.account_id = r.account_id AND d.id = r.from_id
		WHERE r.account_id = ? AND r.to_id = ? AND r.from_id != ?
		UNION ALL
		SELECT 'accounts', a.id, a.name, '`+mohPath+`' FROM account_moh m JOIN accounts a ON a.id = m.account_id
		WHERE m.account_id = ? AND m.media_id = ?
		ORDER BY 1, 2, 4`, accountID, id, id, accountID, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Referrer{}
	for rows.Next() {
		var r store.Referrer
		if err := rows.Scan(&r.Kind, &r.ID, &r.Name, &r.Path); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

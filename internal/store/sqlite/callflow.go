package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/switchboard/switchboard/internal/store"
)

// Call flows are documents of kind "callflows" whose numbers and patterns
// are unique keys of the account. These methods keep store.Store's
// call-flow part on the one document table.

// callflowWrite is a call flow as a document write: its numbers and
// patterns as keys and as its index.
func callflowWrite(c store.Callflow) (store.DocWrite, error) {
	c.Numbers, c.Patterns = dedupe(c.Numbers), dedupe(c.Patterns)
	idx, err := json.Marshal(store.FlowIndex{Numbers: nonNil(c.Numbers), Patterns: nonNil(c.Patterns)})
	if err != nil {
		return store.DocWrite{}, err
	}
	w := store.DocWrite{Doc: store.Doc{Kind: "callflows", ID: c.ID, AccountID: c.AccountID, Name: c.Name, Body: c.Body, Index: idx}}
	for i, n := range c.Numbers {
		w.Keys = append(w.Keys, store.Key{Name: "number", Value: n, Field: "numbers." + strconv.Itoa(i)})
	}
	for i, p := range c.Patterns {
		w.Keys = append(w.Keys, store.Key{Name: "pattern", Value: p, Field: "patterns." + strconv.Itoa(i)})
	}
	return w, nil
}

// CallflowOf reads a call-flow document back as a store.Callflow.
func CallflowOf(d store.Doc) (store.Callflow, error) {
	var idx store.FlowIndex
	if len(d.Index) > 0 {
		if err := json.Unmarshal(d.Index, &idx); err != nil {
			return store.Callflow{}, fmt.Errorf("callflow %s index: %w", d.ID, err)
		}
	}
	if len(idx.Numbers) == 0 {
		idx.Numbers = nil
	}
	if len(idx.Patterns) == 0 {
		idx.Patterns = nil
	}
	return store.Callflow{ID: d.ID, AccountID: d.AccountID, Name: d.Name, Numbers: idx.Numbers, Patterns: idx.Patterns,
		Body: d.Body, Revision: d.Revision, Created: d.Created, Modified: d.Modified}, nil
}

// flowConflict keeps a number's conflict in store.Store's shape: the
// holder is a call flow, named by id and name only.
func flowConflict(err error) error {
	if c, ok := errors.AsType[*store.ConflictError](err); ok {
		c.HolderKind, c.Field = "", ""
	}
	return err
}

// CreateCallflow stores a new document with revision "1-…".
func (d *DB) CreateCallflow(ctx context.Context, c store.Callflow) (store.Callflow, error) {
	w, err := callflowWrite(c)
	if err != nil {
		return store.Callflow{}, err
	}
	doc, err := d.CreateDoc(ctx, w)
	if err != nil {
		return store.Callflow{}, flowConflict(err)
	}
	return CallflowOf(doc)
}

// UpdateCallflow replaces a document, checking ifRevision when not empty.
func (d *DB) UpdateCallflow(ctx context.Context, c store.Callflow, ifRevision string) (store.Callflow, error) {
	w, err := callflowWrite(c)
	if err != nil {
		return store.Callflow{}, err
	}
	doc, err := d.UpdateDoc(ctx, w, ifRevision)
	if err != nil {
		return store.Callflow{}, flowConflict(err)
	}
	return CallflowOf(doc)
}

// DeleteCallflow removes a document, checking ifRevision when not empty.
func (d *DB) DeleteCallflow(ctx context.Context, accountID, id, ifRevision string) error {
	_, err := d.DeleteDoc(ctx, "callflows", accountID, id, ifRevision, true)
	return err
}

// GetCallflow returns one document; ErrNotFound when there is none.
func (d *DB) GetCallflow(ctx context.Context, accountID, id string) (store.Callflow, error) {
	doc, err := d.GetDoc(ctx, "callflows", accountID, id)
	if err != nil {
		return store.Callflow{}, err
	}
	return CallflowOf(doc)
}

// ListCallflows returns the account's documents with ids after o.After, in
// id order, at most o.Limit of them (0: all), and whether more follow.
func (d *DB) ListCallflows(ctx context.Context, accountID string, o store.ListOptions) ([]store.Callflow, bool, error) {
	docs, more, err := d.ListDocs(ctx, "callflows", accountID, store.DocQuery{Limit: o.Limit, After: o.After})
	if err != nil {
		return nil, false, err
	}
	page := make([]store.Callflow, 0, len(docs))
	for _, doc := range docs {
		c, err := CallflowOf(doc)
		if err != nil {
			return nil, false, err
		}
		page = append(page, c)
	}
	return page, more, nil
}

// EachCallflow streams every document of every account, by account then id.
// An error from fn stops the walk and is returned unwrapped.
func (d *DB) EachCallflow(ctx context.Context, fn func(store.Callflow) error) error {
	return d.EachDoc(ctx, "callflows", func(doc store.Doc) error {
		c, err := CallflowOf(doc)
		if err != nil {
			return err
		}
		return fn(c)
	})
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

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

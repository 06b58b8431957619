package server

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/store"
)

// docWriter is actions.DocumentWriter on the store: a change is prepared
// as an API write is (the kind's schema and rules, secrets kept from the
// stored document) and stored on the revision it was computed from, so a
// concurrent edit is never overwritten: the change is computed again on
// the newer document.
type docWriter struct {
	docs     store.Documents
	reserved []netip.Prefix
}

var _ actions.DocumentWriter = docWriter{}

// maxChangeAttempts bounds the retries of a change that keeps meeting
// concurrent writes.
const maxChangeAttempts = 5

// ChangeDoc reads, changes and stores one document.
func (w docWriter) ChangeDoc(ctx context.Context, kind, accountID, id string, change func(doc map[string]any) error) (store.Doc, error) {
	k, ok := document.Lookup(kind)
	if !ok {
		return store.Doc{}, fmt.Errorf("no document kind %q", kind)
	}
	for attempt := 1; ; attempt++ {
		cur, err := w.docs.GetDoc(ctx, kind, accountID, id)
		if err != nil {
			return store.Doc{}, err
		}
		doc, err := document.Decode(cur.Body)
		if err != nil {
			return store.Doc{}, fmt.Errorf("stored %s %s: %w", k.Label, id, err)
		}
		prev, _ := document.Decode(cur.Body)
		if err := change(doc); err != nil {
			return store.Doc{}, err
		}
		dw, err := k.PrepareDoc(&document.Context{AccountID: accountID, Previous: prev, Reserved: w.reserved}, doc, id)
		if err != nil {
			return store.Doc{}, fmt.Errorf("%s %s: %w", k.Label, id, err)
		}
		saved, err := w.docs.UpdateDoc(ctx, dw, cur.Revision)
		if errors.Is(err, store.ErrStaleRevision) && attempt < maxChangeAttempts {
			continue
		}
		if err != nil {
			return store.Doc{}, fmt.Errorf("save %s %s: %w", k.Label, id, err)
		}
		return saved, nil
	}
}

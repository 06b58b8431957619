package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/switchboard/switchboard/internal/store"
)

var _ store.TrunkStore = (*DB)(nil)

// Trunks are documents of kind "trunks" whose source networks are claimed
// for their account; these methods keep store.TrunkStore on the one
// document table.

func trunkWrite(t store.Trunk) (store.DocWrite, error) {
	idx, err := json.Marshal(store.TrunkIndex{SourceCIDRs: nonNil(t.SourceCIDRs), OutboundURI: t.OutboundURI})
	if err != nil {
		return store.DocWrite{}, err
	}
	w := store.DocWrite{Doc: store.Doc{Kind: "trunks", ID: t.ID, AccountID: t.AccountID, Name: t.Name, Body: t.Body, Index: idx}}
	for _, c := range t.SourceCIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return store.DocWrite{}, fmt.Errorf("trunk %s source %q: %w", t.ID, c, err)
		}
		w.Networks = append(w.Networks, p)
	}
	return w, nil
}

// TrunkOf reads a trunk document back as a store.Trunk.
func TrunkOf(d store.Doc) (store.Trunk, error) {
	var idx store.TrunkIndex
	if len(d.Index) > 0 {
		if err := json.Unmarshal(d.Index, &idx); err != nil {
			return store.Trunk{}, fmt.Errorf("trunk %s index: %w", d.ID, err)
		}
	}
	if len(idx.SourceCIDRs) == 0 {
		idx.SourceCIDRs = nil
	}
	return store.Trunk{ID: d.ID, AccountID: d.AccountID, Name: d.Name, SourceCIDRs: idx.SourceCIDRs,
		OutboundURI: idx.OutboundURI, Body: d.Body, Revision: d.Revision, Created: d.Created, Modified: d.Modified}, nil
}

// CreateTrunk stores a new trunk with revision "1-…".
func (d *DB) CreateTrunk(ctx context.Context, t store.Trunk) (store.Trunk, error) {
	w, err := trunkWrite(t)
	if err != nil {
		return store.Trunk{}, err
	}
	doc, err := d.CreateDoc(ctx, w)
	if err != nil {
		return store.Trunk{}, err
	}
	return TrunkOf(doc)
}

// UpdateTrunk replaces a trunk, checking ifRevision when not empty.
func (d *DB) UpdateTrunk(ctx context.Context, t store.Trunk, ifRevision string) (store.Trunk, error) {
	w, err := trunkWrite(t)
	if err != nil {
		return store.Trunk{}, err
	}
	doc, err := d.UpdateDoc(ctx, w, ifRevision)
	if err != nil {
		return store.Trunk{}, err
	}
	return TrunkOf(doc)
}

// DeleteTrunk removes a trunk, checking ifRevision when not empty.
func (d *DB) DeleteTrunk(ctx context.Context, accountID, id, ifRevision string) error {
	_, err := d.DeleteDoc(ctx, "trunks", accountID, id, ifRevision, true)
	return err
}

// GetTrunk reads one trunk; ErrNotFound when there is none.
func (d *DB) GetTrunk(ctx context.Context, accountID, id string) (store.Trunk, error) {
	doc, err := d.GetDoc(ctx, "trunks", accountID, id)
	if err != nil {
		return store.Trunk{}, err
	}
	return TrunkOf(doc)
}

// ListTrunks returns the account's trunks ordered by id.
func (d *DB) ListTrunks(ctx context.Context, accountID string) ([]store.Trunk, error) {
	docs, _, err := d.ListDocs(ctx, "trunks", accountID, store.DocQuery{})
	if err != nil {
		return nil, err
	}
	out := make([]store.Trunk, 0, len(docs))
	for _, doc := range docs {
		t, err := TrunkOf(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// EachTrunk calls fn for every trunk, by account then id.
func (d *DB) EachTrunk(ctx context.Context, fn func(store.Trunk) error) error {
	return d.EachDoc(ctx, "trunks", func(doc store.Doc) error {
		t, err := TrunkOf(doc)
		if err != nil {
			return err
		}
		return fn(t)
	})
}

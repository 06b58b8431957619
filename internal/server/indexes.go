package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/routing"
	"github.com/switchboard/switchboard/internal/store"
)

// docIndex is an in-memory index of one document kind (the number router,
// the compiled flows, the trunk sources). Every index is filled the same
// way: from the store at start, then from each committed write, whoever
// made it (API, import, CLI), never by reading a document per call.
type docIndex interface {
	put(d store.Doc)
	remove(d store.Doc)
}

// indexes feeds each kind's indexes.
type indexes struct {
	byKind map[string][]docIndex
	log    *slog.Logger
}

// load fills every index from the store, then follows its writes. The
// watcher is added first, so no write between the two is missed (a
// document seen twice is only put twice).
func (x *indexes) load(ctx context.Context, docs store.Documents) error {
	docs.Watch(x.changed)
	for kind, idx := range x.byKind {
		n := 0
		err := docs.EachDoc(ctx, kind, func(d store.Doc) error {
			for _, i := range idx {
				i.put(d)
			}
			n++
			return nil
		})
		if err != nil {
			return fmt.Errorf("load %s: %w", kind, err)
		}
		x.log.Info("documents indexed", "kind", kind, "count", n)
	}
	return nil
}

// changed is the store's watcher.
func (x *indexes) changed(c store.Change) {
	for _, i := range x.byKind[c.Doc.Kind] {
		switch c.Op {
		case store.Saved:
			i.put(c.Doc)
		case store.Deleted:
			i.remove(c.Doc)
		}
	}
}

// routerIndex is the number router as a docIndex of call flows.
type routerIndex struct {
	router *routing.Router
	log    *slog.Logger
}

func (ri routerIndex) put(d store.Doc) {
	var idx store.FlowIndex
	if err := json.Unmarshal(d.Index, &idx); err != nil {
		ri.log.Error("callflow index unreadable", "account_id", d.AccountID, "callflow_id", d.ID, "err", err)
		return
	}
	if err := ri.router.Put(d.AccountID, d.ID, idx.Numbers, idx.Patterns); err != nil {
		// A stored flow that no longer compiles must not stop the server.
		ri.log.Warn("callflow not routable", "account_id", d.AccountID, "callflow_id", d.ID, "err", err)
	}
}

func (ri routerIndex) remove(d store.Doc) { ri.router.Remove(d.AccountID, d.ID) }

// reindexPending derives, once, what documents stored before their kind
// recorded it now claim and point to (call flows' references from before
// references were kept). A document its kind now refuses stays pending,
// logged at each start until it is saved again.
func reindexPending(ctx context.Context, docs store.Documents, log *slog.Logger) error {
	pending, err := docs.PendingReindex(ctx)
	if err != nil {
		return err
	}
	for _, d := range pending {
		k, ok := document.Lookup(d.Kind)
		if !ok {
			continue
		}
		w, err := k.Prepare(&document.Context{AccountID: d.AccountID}, d.Body, d.ID)
		if err != nil {
			log.Warn("document not reindexed", "kind", d.Kind, "account_id", d.AccountID, "id", d.ID, "err", err)
			continue
		}
		if err := docs.Reindex(ctx, w); err != nil {
			log.Warn("document not reindexed", "kind", d.Kind, "account_id", d.AccountID, "id", d.ID, "err", err)
		}
	}
	if len(pending) > 0 {
		log.Info("documents reindexed", "count", len(pending))
	}
	return nil
}

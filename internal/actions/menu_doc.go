package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/store"
)

// DocumentReader reads one stored document of an account by kind and id
// (store.Documents does, by its primary key): the menu module reads the
// menu document its "id" names on each call, so an edit to the menu takes
// effect on the next call without recompiling the flows that use it.
type DocumentReader interface {
	GetDoc(ctx context.Context, kind, accountID, id string) (store.Doc, error)
}

// settings are the menu's settings for one call. With an "id", Kazoo's
// precedence: the menu document's settings, read now; a setting the
// document leaves out keeps the node's inline value (so a flow written for
// Switchboard's inline menu keeps working when an id is added). Without an
// id, or when the document cannot be read (a trace warning says why), the
// inline settings alone. The receiver is never changed.
func (a *Menu) settings(ctx context.Context, x *engine.Exec) *Menu {
	if a.ID == "" {
		return a
	}
	docs := deps(x).Documents
	if docs == nil {
		x.Log.Warn("menu document not read: no document reader configured", "menu_id", a.ID)
		return a
	}
	d, err := docs.GetDoc(ctx, "menus", x.Account.ID, a.ID)
	if err == nil {
		m := *a
		if err = json.Unmarshal(d.Body, &m); err == nil {
			m.ID = a.ID
			return &m
		}
		err = fmt.Errorf("decode menu %s: %w", a.ID, err)
	}
	code := "menu_unreadable"
	if errors.Is(err, store.ErrNotFound) {
		code = "menu_not_found"
	}
	x.Trace.Add("warning", "code", code, "message", "menu document "+a.ID+" not read; the node's own settings are used: "+err.Error(),
		"module", x.Node.Module, "node", x.Node.Path)
	x.Log.Warn("menu document not read", "menu_id", a.ID, "err", err)
	return a
}

package server

import (
	"context"
	"fmt"
	"sync"

	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/store"
)

// flowCache loads stored flows as compiled trees, compiling a document only
// when its revision changed: a call never pays for schema validation of an
// unchanged flow.
type flowCache struct {
	store store.Store
	mu    sync.Mutex
	flows map[string]compiledFlow // account/id
}

type compiledFlow struct {
	revision string
	flow     *callflow.Flow
}

func newFlowCache(st store.Store) *flowCache {
	return &flowCache{store: st, flows: map[string]compiledFlow{}}
}

// Flow returns the compiled flow of a stored document.
func (c *flowCache) Flow(ctx context.Context, accountID, id string) (*callflow.Flow, error) {
	doc, err := c.store.GetCallflow(ctx, accountID, id)
	if err != nil {
		return nil, fmt.Errorf("load callflow %s: %w", id, err)
	}
	key := accountID + "/" + id
	c.mu.Lock()
	cached, ok := c.flows[key]
	c.mu.Unlock()
	if ok && cached.revision == doc.Revision {
		return cached.flow, nil
	}
	f, err := callflow.Compile(doc.Body)
	if err != nil {
		return nil, fmt.Errorf("compile callflow %s: %w", id, err)
	}
	f.ID = id
	c.mu.Lock()
	if len(c.flows) > 10000 {
		clear(c.flows)
	}
	c.flows[key] = compiledFlow{revision: doc.Revision, flow: f}
	c.mu.Unlock()
	return f, nil
}

// LoadFlow is engine.FlowSource: the callflow module's jump.
func (c *flowCache) LoadFlow(ctx context.Context, accountID, id string) (*engine.Node, error) {
	f, err := c.Flow(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	return f.Root, nil
}

var _ engine.FlowSource = (*flowCache)(nil)

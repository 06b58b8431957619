package server

import (
	"context"
	"fmt"
	"sync"

	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/store"
)

// flowCache holds every stored flow compiled, kept in step by the store's
// writes (docIndex): a call never reads the database nor pays for schema
// validation to find its flow.
type flowCache struct {
	mu    sync.RWMutex
	flows map[flowKey]compiledFlow
}

// flowKey is a flow's account and id (a struct: a joined string was an
// allocation per call).
type flowKey struct{ account, id string }

// compiledFlow is a stored flow as compiled, or why it did not compile
// (a module whose schema grew stricter since the save): that flow's calls
// get the error, the server still starts.
type compiledFlow struct {
	flow *callflow.Flow
	err  error
}

func newFlowCache() *flowCache {
	return &flowCache{flows: map[flowKey]compiledFlow{}}
}

// put compiles a saved flow.
func (c *flowCache) put(d store.Doc) {
	f, err := callflow.Compile(d.Body)
	if err == nil {
		f.ID = d.ID
	}
	c.mu.Lock()
	c.flows[flowKey{d.AccountID, d.ID}] = compiledFlow{flow: f, err: err}
	c.mu.Unlock()
}

// remove forgets a deleted flow.
func (c *flowCache) remove(d store.Doc) {
	c.mu.Lock()
	delete(c.flows, flowKey{d.AccountID, d.ID})
	c.mu.Unlock()
}

// Flow returns the compiled flow of a stored document.
func (c *flowCache) Flow(_ context.Context, accountID, id string) (*callflow.Flow, error) {
	c.mu.RLock()
	cf, ok := c.flows[flowKey{accountID, id}]
	c.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("load callflow %s: %w", id, store.ErrNotFound)
	}
	if cf.err != nil {
		return nil, fmt.Errorf("compile callflow %s: %w", id, cf.err)
	}
	return cf.flow, nil
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

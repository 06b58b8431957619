package actionstest

import (
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// Running is a call running in its own goroutine, whose trace the test
// watches while another call acts on it (queues).
type Running struct {
	done chan *Call
	mu   sync.Mutex
	tr   *call.Trace
}

// patience bounds every wait for a running call: a test that waits longer
// has failed.
const patience = 10 * time.Second

// Start runs root as Run does, in a goroutine that the test waits for
// before it ends.
func Start(tb testing.TB, root *engine.Node, o Options) *Running {
	tb.Helper()
	r := &Running{done: make(chan *Call, 1)}
	onStart := o.OnStart
	o.OnStart = func(ch *sim.Channel, tr *call.Trace) {
		r.mu.Lock()
		r.tr = tr
		r.mu.Unlock()
		if onStart != nil {
			onStart(ch, tr)
		}
	}
	var wg sync.WaitGroup
	tb.Cleanup(wg.Wait)
	wg.Go(func() { r.done <- Run(tb, root, o) })
	return r
}

// Trace is the call's trace so far; nil before it started.
func (r *Running) Trace() *call.Trace {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tr
}

// Has reports whether the call's trace has a line with op yet.
func (r *Running) Has(op string) bool {
	tr := r.Trace()
	return tr != nil && Count(tr, op) > 0
}

// WaitFor waits until cond holds (internal/waitfor's polling), failing
// the test after a deadline or when the call ends first.
func (r *Running) WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	ended, ok := waitfor.Within(patience, func() (*Call, bool) {
		if cond() {
			return nil, true
		}
		select {
		case c := <-r.done:
			r.done <- c
			return c, true
		default:
			return nil, false
		}
	})
	switch {
	case !ok:
		tb.Fatalf("timed out waiting for %s", what)
	case ended != nil:
		tb.Fatalf("the call ended before %s:\n%s", what, ended.Trace.JSONL())
	}
}

// Wait returns the call once it has ended.
func (r *Running) Wait(tb testing.TB) *Call {
	tb.Helper()
	t := time.NewTimer(patience)
	defer t.Stop()
	select {
	case c := <-r.done:
		return c
	case <-t.C:
		tb.Fatal("timed out waiting for the call to end")
		return nil
	}
}

package server

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

// countingLog is a call log that stores nothing and counts what it is
// asked.
type countingLog struct {
	store.CallLog
	saves, prunes atomic.Int64
	keepLast      atomic.Int64
}

func (l *countingLog) SaveCall(context.Context, store.CallRecord) error {
	l.saves.Add(1)
	return nil
}

func (l *countingLog) Prune(_ context.Context, keepLast int) error {
	l.prunes.Add(1)
	l.keepLast.Store(int64(keepLast))
	return nil
}

// TestSavePrunesByTime: ended calls start a prune of the call log with its
// bound, in the background, at most once per pruneEvery however many calls
// end; calls in progress (the long calls' marks) never do.
func TestSavePrunesByTime(t *testing.T) {
	t.Parallel()
	cl := &countingLog{}
	c := &Calls{callLog: cl, keepLast: 7}
	log := slog.New(slog.DiscardHandler)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 500 {
				rec := store.CallRecord{AccountID: "a", ID: "c", Started: start}
				if j%2 == 0 || i == 0 {
					rec.Ended = start.Add(time.Second)
				}
				c.save(t.Context(), rec, log)
			}
		})
	}
	wg.Wait()
	c.bg.Wait()
	elapsed := time.Since(start)
	if n := cl.saves.Load(); n != 4000 {
		t.Errorf("%d saves, want 4000", n)
	}
	prunes := cl.prunes.Load()
	if most := 1 + int64(elapsed/pruneEvery); prunes < 1 || prunes > most {
		t.Errorf("%d prunes in %v, want 1 to %d", prunes, elapsed, most)
	}
	if k := cl.keepLast.Load(); k != 7 {
		t.Errorf("pruned to %d, want 7", k)
	}

	// A prune is due again; calls in progress alone do not start it.
	c.lastPrune.Store(0)
	for range 1000 {
		c.save(t.Context(), store.CallRecord{AccountID: "a", ID: "c", Started: start}, log)
	}
	c.bg.Wait()
	if n := cl.prunes.Load(); n != prunes {
		t.Errorf("calls in progress started %d prunes", n-prunes)
	}
}

package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// openBatchedLog is a call log whose batcher gathers for window.
func openBatchedLog(t *testing.T, window time.Duration) *CallLogDB {
	t.Helper()
	c, err := OpenCallLog(t.Context(), filepath.Join(t.TempDir(), "calllog.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.batch.close()
	c.batch = newBatcher(c.db, window)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// TestBatchCommitsWhenFull: batchMax writes are committed together as soon
// as the last arrives, without waiting for the window (an hour here: only
// the size can end the gathering).
func TestBatchCommitsWhenFull(t *testing.T) {
	t.Parallel()
	c := openBatchedLog(t, time.Hour)
	started := time.UnixMilli(1_700_000_000_000)
	var wg sync.WaitGroup
	errs := make(chan error, batchMax)
	for i := range batchMax {
		wg.Go(func() {
			errs <- c.SaveCall(t.Context(), store.CallRecord{AccountID: "a", ID: fmt.Sprintf("c%03d", i), Started: started})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	list, err := c.ListCalls(t.Context(), "a", 1000)
	if err != nil || len(list) != batchMax {
		t.Fatalf("listed %d calls, %v; want %d", len(list), err, batchMax)
	}
}

// TestBatchCommitsAfterWindow: a lone write is committed once the window
// after it ends, with nothing else arriving.
func TestBatchCommitsAfterWindow(t *testing.T) {
	t.Parallel()
	c := openBatchedLog(t, 30*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := c.SaveCall(ctx, store.CallRecord{AccountID: "a", ID: "lone", Started: time.UnixMilli(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCall(t.Context(), "a", "lone"); err != nil {
		t.Fatal(err)
	}
}

// TestBatchCloseCommitsGathering: Close commits the batch the writer is
// still gathering (for an hour: only Close can end it) and what is queued
// behind it.
func TestBatchCloseCommitsGathering(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "calllog.db")
	c, err := OpenCallLog(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.batch.close()
	c.batch = newBatcher(c.db, time.Hour)
	save := func(id string) writeReq {
		r := writeReq{ctx: t.Context(), done: make(chan error, 1), fn: func(tx *batchTx) error {
			return tx.exec(t.Context(), c.saveCall, "a", id, "", "", "", 1, nil, "", "", false, "", []byte{})
		}}
		c.batch.reqs <- r
		return r
	}
	first := save("gathered")
	waitfor.True(t, time.Minute, "the writer takes the first write into its batch", func() bool {
		return len(c.batch.reqs) == 0
	})
	second := save("queued")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []writeReq{first, second} {
		if err := <-r.done; err != nil {
			t.Fatal(err)
		}
	}
	c2, err := OpenCallLog(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	for _, id := range []string{"gathered", "queued"} {
		if _, err := c2.GetCall(t.Context(), "a", id); err != nil {
			t.Errorf("after reopening, %s: %v", id, err)
		}
	}
}

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
	c.batch = newBatcher(c.db, c.rows(), window)
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
	c.batch = newBatcher(c.db, c.rows(), time.Hour)
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

// commitRows saves rows as one batch of c's writer (gathering for an
// hour, so that only Close ends it) and returns each row's result.
func commitRows(t *testing.T, path string, rows [][]any) []error {
	t.Helper()
	c, err := OpenCallLog(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.batch.close()
	c.batch = newBatcher(c.db, c.rows(), time.Hour)
	reqs := make([]writeReq, len(rows))
	for i, row := range rows {
		reqs[i] = writeReq{ctx: t.Context(), row: row, done: make(chan error, 1)}
		c.batch.reqs <- reqs[i]
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, len(rows))
	for i, r := range reqs {
		errs[i] = <-r.done
	}
	return errs
}

func callRow(id string, ended any, cause string) []any {
	return []any{"a", id, "", "", "", int64(1000), ended, cause, "", false, "", []byte("t" + id)}
}

// TestBatchRowsInOrder: a batch's calls go in statements of several rows
// and single rows, in their order: a call saved twice in one batch (its
// in-progress row, then the ended call) ends as saved last, whether the
// two share a statement or not; and a bad row fails alone.
func TestBatchRowsInOrder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "calllog.db")
	const n = 2*saveCallsRows + 3 // two statements of many rows, three single
	var rows [][]any
	for i := range n {
		rows = append(rows, callRow(fmt.Sprintf("c%02d", i), nil, ""))
	}
	// "same": twice in the first statement; "apart": in the first, then
	// among the single rows.
	rows[1], rows[5] = callRow("same", nil, ""), callRow("same", int64(2000), "NORMAL_CLEARING")
	rows[3], rows[n-2] = callRow("apart", nil, ""), callRow("apart", int64(3000), "USER_BUSY")
	for i, err := range commitRows(t, path, rows) {
		if err != nil {
			t.Errorf("row %d: %v", i, err)
		}
	}
	bad := [][]any{callRow("ok1", nil, ""), callRow("bad", nil, ""), callRow("ok2", nil, "")}
	bad[1][11] = nil // trace is NOT NULL
	for i, err := range commitRows(t, path, bad) {
		if (err != nil) != (i == 1) {
			t.Errorf("bad batch, row %d: %v", i, err)
		}
	}

	l, err := OpenCallLog(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	list, err := l.ListCalls(t.Context(), "a", 100)
	if err != nil || len(list) != n-2+2 {
		t.Fatalf("%d calls, %v; want %d", len(list), err, n)
	}
	for id, want := range map[string]string{"same": "NORMAL_CLEARING", "apart": "USER_BUSY"} {
		got, err := l.GetCall(t.Context(), "a", id)
		if err != nil {
			t.Fatal(err)
		}
		if got.HangupCause != want || got.Ended.IsZero() || string(got.Trace) != "t"+id {
			t.Errorf("call %s saved twice: %+v, want the ended call", id, got)
		}
	}
}

package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/internal/store/sqlite"
)

// TestSaveCallBatchesConcurrentCalls: writes from many calls at once are
// all stored, each SaveCall returning only once its record is readable,
// and a bad record fails alone.
func TestSaveCallBatchesConcurrentCalls(t *testing.T) {
	t.Parallel()
	l := tempCallLog(t)
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			c := call("acct", fmt.Sprintf("c%03d", i), base)
			if i == 7 {
				c.AccountID = "" // refused before it reaches the batch
			}
			if err := l.SaveCall(t.Context(), c); err != nil {
				errs[i] = err
				return
			}
			if _, err := l.GetCall(t.Context(), "acct", c.ID); err != nil {
				errs[i] = fmt.Errorf("saved but not readable: %w", err)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 7) {
			t.Errorf("call %d: %v", i, err)
		}
	}
	list, err := l.ListCalls(t.Context(), "acct", 1000)
	if err != nil || len(list) != n-1 {
		t.Errorf("listed %d calls, %v; want %d", len(list), err, n-1)
	}
}

// TestCallLogCloseCommitsQueuedWrites: Close stores what was queued, and a
// write after Close fails cleanly.
func TestCallLogCloseCommitsQueuedWrites(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "calllog.db")
	l, err := sqlite.OpenCallLog(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { l.SaveCall(t.Context(), call("acct", fmt.Sprintf("q%d", i), base)) })
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.SaveCall(t.Context(), call("acct", "late", base)); !errors.Is(err, sqlite.ErrClosed) {
		t.Errorf("save after close: %v, want ErrClosed", err)
	}
	l = openCallLog(t, path)
	list, err := l.ListCalls(t.Context(), "acct", 100)
	if err != nil || len(list) != 20 {
		t.Errorf("after reopening: %d calls, %v", len(list), err)
	}
}

package waitfor_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

func TestValueReturnsOnceReady(t *testing.T) {
	var n atomic.Int32
	go func() {
		for range 3 {
			n.Add(1)
		}
	}()
	got := waitfor.Value(t, 10*time.Second, "three increments", func() (int32, bool) {
		v := n.Load()
		return v, v == 3
	})
	if got != 3 {
		t.Fatalf("got %d, want 3", got)
	}
}

func TestWithinGivesUp(t *testing.T) {
	calls := 0
	v, ok := waitfor.Within(20*time.Millisecond, func() (int, bool) { calls++; return calls, false })
	if ok {
		t.Fatal("Within reported ok for a condition that never holds")
	}
	if v != calls || calls < 2 {
		t.Fatalf("Within returned %d after %d looks; want the last value and more than one look", v, calls)
	}
}

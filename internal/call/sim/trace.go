package sim

import (
	"slices"
	"testing"

	"github.com/switchboard/switchboard/internal/call"
)

// Ops returns the trace's op names in order.
func Ops(t *call.Trace) []string {
	var ops []string
	for _, e := range t.Events() {
		ops = append(ops, e.Op)
	}
	return ops
}

// Find returns the trace's events with the given op, in order.
func Find(t *call.Trace, op string) []call.Event {
	var found []call.Event
	for _, e := range t.Events() {
		if e.Op == op {
			found = append(found, e)
		}
	}
	return found
}

// AssertOps fails the test unless the trace's op names are exactly want,
// in order; the failure shows the whole trace.
func AssertOps(t testing.TB, tr *call.Trace, want ...string) {
	t.Helper()
	if got := Ops(tr); !slices.Equal(got, want) {
		t.Errorf("trace ops\n got %q\nwant %q\ntrace:\n%s", got, want, tr.JSONL())
	}
}

// Package waitfor lets tests wait for an event they cannot subscribe to — a
// call ended in the log, a file another process writes, a port that opens —
// by polling a condition until it holds or a deadline passes. A test never
// sleeps a guessed time: on a busy machine the guess is wrong, and on an idle
// one it is slow.
package waitfor

import (
	"testing"
	"time"
)

// Poll bounds between two looks at the condition: quick at first, so a fast
// event is seen at once, then backing off so a slow one costs little CPU.
const (
	firstPoll = time.Millisecond
	maxPoll   = 50 * time.Millisecond
)

// True waits until cond returns true, failing the test with what it was
// waiting for once timeout has passed.
func True(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	Value(t, timeout, what, func() (struct{}, bool) { return struct{}{}, cond() })
}

// Value waits until fn reports ok and returns its value, failing the test
// with what it was waiting for once timeout has passed.
func Value[T any](t testing.TB, timeout time.Duration, what string, fn func() (T, bool)) T {
	t.Helper()
	v, ok := Within(timeout, fn)
	if !ok {
		t.Fatalf("waited %s for %s", timeout, what)
	}
	return v
}

// Within polls fn until it reports ok or timeout passes, for callers that
// report the failure themselves (with what they last saw).
func Within[T any](timeout time.Duration, fn func() (T, bool)) (T, bool) {
	deadline := time.Now().Add(timeout)
	pause := firstPoll
	for {
		v, ok := fn()
		if ok {
			return v, true
		}
		if time.Now().After(deadline) {
			return v, false
		}
		time.Sleep(pause)
		pause = min(2*pause, maxPoll)
	}
}

package sip

import (
	"testing"
	"time"
)

// TestLogLimit: a flood of stranger lines is cut to a burst, then two a
// second, and the next line let through counts what was held back.
func TestLogLimit(t *testing.T) {
	var l logLimit
	now := time.Unix(1000, 0)
	written := 0
	for range 5000 {
		if ok, _ := l.allow(now); ok {
			written++
		}
	}
	if written != strangerLogBurst {
		t.Fatalf("%d of 5000 lines written at once, want %d", written, strangerLogBurst)
	}
	ok, held := l.allow(now.Add(time.Second))
	if !ok || held != 5000-strangerLogBurst {
		t.Errorf("a second later: written %v, %d held back; want true, %d", ok, held, 5000-strangerLogBurst)
	}
}

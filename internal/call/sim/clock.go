package sim

import (
	"sync"
	"time"
)

// simClock is a simulated call's clock: real time flows, and waits the
// call makes (timeouts, prompts, talk time) jump it forward instead of
// sleeping, so webhook requests in between still show their real duration.
type simClock struct {
	start time.Time // the clock's reading at New
	real  time.Time // wall time at New (with its monotonic reading)

	mu     sync.Mutex
	offset time.Duration // simulated time skipped so far
}

func newClock(start time.Time) *simClock {
	now := time.Now()
	if start.IsZero() {
		start = now
	}
	return &simClock{start: start, real: now}
}

// Now is the start plus the real time elapsed plus the simulated time.
func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.start.Add(time.Since(c.real) + c.offset)
}

func (c *simClock) advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

func (c *simClock) skipped() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

package api

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestLoginThrottleGrowsAndResets(t *testing.T) {
	th := newLoginThrottle(Config{}.withDefaults())
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	attempt := func() (bool, time.Duration) {
		ok, wait, _ := th.begin("192.0.2.1", now)
		if ok {
			th.fail("192.0.2.1", now)
		}
		return ok, wait
	}
	// Five failures cost nothing; the sixth starts the first lock.
	for i := range 6 {
		if ok, _ := attempt(); !ok {
			t.Fatalf("failure %d refused: the first 5 are free", i+1)
		}
	}
	var locks []time.Duration
	for range 12 {
		if ok, wait := attempt(); ok {
			t.Fatalf("an attempt inside the lock was checked")
		} else {
			locks = append(locks, wait)
		}
		ok, _, _ := th.begin("192.0.2.1", now.Add(locks[len(locks)-1]))
		if !ok {
			t.Fatalf("refused after the lock ended (locks %v)", locks)
		}
		now = now.Add(locks[len(locks)-1])
		th.fail("192.0.2.1", now)
	}
	if locks[0] != time.Second {
		t.Errorf("first lock %v, want 1 s", locks[0])
	}
	for i := 1; i < len(locks); i++ {
		if locks[i] < locks[i-1] || locks[i] > 15*time.Minute {
			t.Errorf("locks do not grow within 15 min: %v", locks)
			break
		}
	}
	if last := locks[len(locks)-1]; last != 15*time.Minute {
		t.Errorf("lock after many failures %v, want the 15 min cap", last)
	}
	if ok, _, _ := th.begin("198.51.100.1", now); !ok {
		t.Error("another source is refused")
	}
	th.done("198.51.100.1")
	th.succeed("192.0.2.1")
	if ok, _, _ := th.begin("192.0.2.1", now); !ok {
		t.Error("a source is still refused after a success")
	}
}

func TestLoginThrottleBounded(t *testing.T) {
	th := newLoginThrottle(Config{LoginSources: 100}.withDefaults())
	now := time.Now()
	for i := range 1000 {
		key := fmt.Sprintf("10.0.%d.%d", i/256, i%256)
		if ok, _, _ := th.begin(key, now); ok {
			th.fail(key, now)
		}
	}
	if n := th.lru.Len(); n > 100 || len(th.sources) != n {
		t.Errorf("%d sources remembered (map %d), want at most 100", n, len(th.sources))
	}
	// Idle sources expire.
	th.begin("10.9.9.9", now.Add(2*time.Hour))
	if n := len(th.sources); n != 1 {
		t.Errorf("%d sources after an idle hour, want 1", n)
	}
}

// TestLoginThrottleParallel: parallel guesses from one source cannot slip
// past the lock: few are ever checked.
func TestLoginThrottleParallel(t *testing.T) {
	th := newLoginThrottle(Config{}.withDefaults())
	now := time.Now()
	var mu sync.Mutex
	checked := 0
	var wg sync.WaitGroup
	for range 500 {
		wg.Go(func() {
			if ok, _, _ := th.begin("192.0.2.9", now); ok {
				mu.Lock()
				checked++
				mu.Unlock()
				th.fail("192.0.2.9", now)
			}
		})
	}
	wg.Wait()
	if checked > 10 {
		t.Errorf("%d of 500 parallel guesses were checked, want a handful", checked)
	}
}

// TestLoginThrottleNotesOncePerLock: a refused flood is reported once per
// lock, not once per attempt (the log is no amplifier).
func TestLoginThrottleNotesOncePerLock(t *testing.T) {
	th := newLoginThrottle(Config{}.withDefaults())
	now := time.Now()
	for range 6 {
		th.begin("192.0.2.5", now)
		th.fail("192.0.2.5", now)
	}
	notes := 0
	for range 100 {
		if ok, _, first := th.begin("192.0.2.5", now); !ok && first {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("%d notes for one lock, want 1", notes)
	}
	if _, _, refused := th.fail("192.0.2.5", now.Add(time.Minute)); refused != 100 {
		t.Errorf("refused %d, want 100 reported with the next failure", refused)
	}
}

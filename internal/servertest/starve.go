package servertest

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// StarveCPU makes the test process short of CPU, as a server past its
// capacity is, for the tests of the shedding (--shed-latency): goroutines
// that never yield, four per CPU, and 128 sleepers woken by timers every
// 2 ms (as calls are), whose wait in the run queue is the scheduler
// latency the server watches. It returns the function that ends it (it
// may be called more than once; the test's cleanup calls it too).
func StarveCPU(t testing.TB) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var burn atomic.Bool
	burn.Store(true)
	var wg sync.WaitGroup
	for range 128 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		})
	}
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for x := 0; burn.Load(); x++ {
			}
		})
	}
	stop = func() {
		if burn.Swap(false) {
			close(done)
			wg.Wait()
		}
	}
	t.Cleanup(stop)
	return stop
}

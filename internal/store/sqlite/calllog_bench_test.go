package sqlite_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSaveCall measures the call log's write path as a busy server
// uses it: many calls ending at once (RunParallel with 64 goroutines per
// CPU), each saving its record with a trace of a few kilobytes. ns/op is
// wall time per saved call; cpu-µs/op the process's CPU (user+system) per
// saved call, what a loaded server pays.
func BenchmarkSaveCall(b *testing.B) {
	l := tempCallLog(b)
	trace := []byte(strings.Repeat(`{"op":"play","t_ms":120,"id":"prompt.wav"}`+"\n", 40))
	start := time.Now()
	var n atomic.Int64
	b.SetParallelism(64)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := call("acct", fmt.Sprintf("c%d", n.Add(1)), start)
			rec.Ended = start.Add(time.Second)
			rec.HangupCause, rec.HangupBy, rec.Trace = "normal_clearing", "switchboard", trace
			if err := l.SaveCall(b.Context(), rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSaveCallStartEnd is a call's two writes as the server makes
// them: the record of the call in progress, then the ended call with its
// trace. An op is one call (both writes).
func BenchmarkSaveCallStartEnd(b *testing.B) {
	l := tempCallLog(b)
	trace := []byte(strings.Repeat(`{"op":"play","t_ms":120,"id":"prompt.wav"}`+"\n", 40))
	start := time.Now()
	var n atomic.Int64
	b.SetParallelism(64)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := call("acct", fmt.Sprintf("c%d", n.Add(1)), start)
			if err := l.SaveCall(b.Context(), rec); err != nil {
				b.Error(err)
				return
			}
			rec.Ended = start.Add(time.Second)
			rec.HangupCause, rec.HangupBy, rec.Trace = "normal_clearing", "switchboard", trace
			if err := l.SaveCall(b.Context(), rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

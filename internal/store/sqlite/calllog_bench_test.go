package sqlite_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSaveCall measures the call log's write path as a busy server
// uses it: many calls ending at once (RunParallel with 64 goroutines per
// CPU), each saving its record with a trace of a few kilobytes. ns/op is
// the cost per call of the whole process, not one caller's wait.
func BenchmarkSaveCall(b *testing.B) {
	l := tempCallLog(b)
	trace := []byte(strings.Repeat(`{"op":"play","t_ms":120,"id":"prompt.wav"}`+"\n", 40))
	start := time.Now()
	var n atomic.Int64
	b.SetParallelism(64)
	b.ReportAllocs()
	b.ResetTimer()
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
}

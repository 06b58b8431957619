package sqlite_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/store"
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

// BenchmarkCallLogSave is the call log as the load benchmark (bench/sip,
// sweep (a)) drives it: calls end at 1,800 a second (18 every 10 ms), each
// saving its record from a goroutine of its own as Calls.Handle does, so
// that the batches are as large as the batch window makes them at that
// rate; one account, calls named like real ones (a random CallSid and SIP
// Call-ID), the trace of the harness's flow (route, module, answer, play,
// hangup: about 450 bytes); and the server's prune (keep 1,000 per
// account) once per 1,800 saved records, in the background as Calls.save
// runs it (at 1,800 calls/s, once a second). ns/op is fixed by the rate;
// cpu-µs/op is the process's CPU per saved record: what the call log adds
// to a call.
func BenchmarkCallLogSave(b *testing.B) {
	l := tempCallLog(b)
	const (
		account = "4e0a9c3f6a2b4f1d8c7e5b3a1f2d4c6e"
		perTick = 18
		tick    = 10 * time.Millisecond
	)
	start := time.Now()
	var (
		pruning atomic.Bool
		saves   sync.WaitGroup
		prunes  sync.WaitGroup
	)
	t := time.NewTicker(tick)
	defer t.Stop()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := int64(1); i <= int64(b.N); i++ {
		if i%perTick == 1 {
			<-t.C
		}
		saves.Go(func() {
			if err := l.SaveCall(b.Context(), benchRecord(account, i, start)); err != nil {
				b.Error(err)
			}
			if i%1800 == 0 && pruning.CompareAndSwap(false, true) {
				prunes.Go(func() {
					defer pruning.Store(false)
					if err := l.Prune(b.Context(), 1000); err != nil {
						b.Error(err)
					}
				})
			}
		})
	}
	saves.Wait()
	prunes.Wait()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// benchRecord is the i-th call of BenchmarkCallLogSave, as the server
// saves it when the call ends.
func benchRecord(account string, i int64, start time.Time) store.CallRecord {
	var id, sip [16]byte
	rand.Read(id[:])
	rand.Read(sip[:])
	started := start.Add(time.Duration(i) * 555 * time.Microsecond)
	trace := fmt.Appendf(nil, `{"op":"route","t_ms":0,"number":"1000","callflow_id":"6f1d2c3b4a5e6f708192a3b4c5d6e7f8","pattern":""}
{"op":"module","t_ms":0,"module":"play","node":"flow"}
{"op":"answer","t_ms":1}
{"op":"play","t_ms":1,"url":"/tmp/switchboard-bench.Xy12Ab/prompt1s.wav","loop":1}
{"op":"hangup","t_ms":%d,"cause":"NORMAL_CLEARING","by":"switchboard"}
`, 1002+i%7)
	return store.CallRecord{ID: "CA" + hex.EncodeToString(id[:]), SIPCallID: hex.EncodeToString(sip[:]) + "@127.0.0.1",
		AccountID: account, CallflowID: "6f1d2c3b4a5e6f708192a3b4c5d6e7f8", From: "sipp", To: "1000",
		Started: started, Ended: started.Add(time.Second), HangupCause: "NORMAL_CLEARING", HangupBy: "switchboard",
		Trace: trace}
}

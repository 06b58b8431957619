package media

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
)

// latencySplit is what TestPacing reports beside the sink's figures, to
// say where the p99 comes from: the kernel's wake-up latency of this
// process's threads (schedstat: time runnable but not running, per
// wake-up), the Go scheduler's (runnable goroutine to running), the GC's
// pauses and cycles, and the pacers' own view (how late they woke, how
// late a tick's last packet went).
type latencySplit struct {
	sched, gcPause []float64 // runtime/metrics histograms' counts
	schedB, gcB    []float64
	gcCycles       uint64
	runWaitNS      uint64 // schedstat, all threads
	slices         uint64
	wake, late     Histogram
	threadNS       uint64 // the pacing thread's CPU time (schedstat)
}

func readSplit(m *Manager) latencySplit {
	ss := []metrics.Sample{{Name: "/sched/latencies:seconds"}, {Name: "/gc/pauses:seconds"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(ss)
	var out latencySplit
	h := ss[0].Value.Float64Histogram()
	out.schedB = h.Buckets
	for _, c := range h.Counts {
		out.sched = append(out.sched, float64(c))
	}
	h = ss[1].Value.Float64Histogram()
	out.gcB = h.Buckets
	for _, c := range h.Counts {
		out.gcPause = append(out.gcPause, float64(c))
	}
	out.gcCycles = ss[2].Value.Uint64()
	tasks, _ := filepath.Glob("/proc/self/task/*/schedstat")
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		fs := strings.Fields(string(b))
		if len(fs) < 3 {
			continue
		}
		w, _ := strconv.ParseUint(fs[1], 10, 64)
		n, _ := strconv.ParseUint(fs[2], 10, 64)
		out.runWaitNS += w
		out.slices += n
	}
	if tid := m.paceT.tid.Load(); tid != 0 {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/schedstat", tid)); err == nil {
			if fs := strings.Fields(string(b)); len(fs) > 0 {
				out.threadNS, _ = strconv.ParseUint(fs[0], 10, 64)
			}
		}
	}
	out.wake = m.pacingWake.snapshot()
	out.late = m.pacing.snapshot()
	return out
}

// rtQuantile is the q quantile of the difference of two runtime/metrics
// histograms (the upper bound of the bucket it falls in), in ms.
func rtQuantile(b, c0, c1 []float64, q float64) float64 {
	var total float64
	for i := range c1 {
		total += c1[i] - c0[i]
	}
	if total == 0 {
		return 0
	}
	var acc float64
	for i := range c1 {
		acc += c1[i] - c0[i]
		if acc >= q*total {
			if math.IsInf(b[i+1], 1) {
				return b[i] * 1e3
			}
			return b[i+1] * 1e3
		}
	}
	return 0
}

// histQuantile is the q quantile of the difference of two Histograms (the
// bucket's upper bound), in ms; past the last bound it says ">last".
func histQuantile(h0, h1 Histogram, q float64) string {
	total := h1.Count - h0.Count
	if total == 0 {
		return "-"
	}
	var acc uint64
	for i := range h1.Counts {
		acc += h1.Counts[i] - h0.Counts[i]
		if float64(acc) >= q*float64(total) {
			return fmt.Sprintf("≤%.2g", h1.Bounds[i].Seconds()*1e3)
		}
	}
	return fmt.Sprintf(">%.2g", h1.Bounds[len(h1.Bounds)-1].Seconds()*1e3)
}

func (a latencySplit) report(b latencySplit) string {
	avgWait := 0.0
	if n := b.slices - a.slices; n > 0 {
		avgWait = float64(b.runWaitNS-a.runWaitNS) / float64(n) / 1e3
	}
	mean := func(h0, h1 Histogram) float64 {
		if n := h1.Count - h0.Count; n > 0 {
			return float64(h1.Sum-h0.Sum) / float64(n) / 1e6
		}
		return 0
	}
	return fmt.Sprintf("pacer woke late p50 %s p99 %s mean %.2f ms; tick's last packet p50 %s p99 %s mean %.2f ms; Go sched latency p50 %.3f p99 %.3f ms; kernel run-queue wait %.0f µs per slice (%d slices); GC %d cycles, pause p99 %.3f ms",
		histQuantile(a.wake, b.wake, 0.5), histQuantile(a.wake, b.wake, 0.99), mean(a.wake, b.wake),
		histQuantile(a.late, b.late, 0.5), histQuantile(a.late, b.late, 0.99), mean(a.late, b.late),
		rtQuantile(b.schedB, a.sched, b.sched, 0.5), rtQuantile(b.schedB, a.sched, b.sched, 0.99),
		avgWait, b.slices-a.slices, b.gcCycles-a.gcCycles, rtQuantile(b.gcB, a.gcPause, b.gcPause, 0.99))
}

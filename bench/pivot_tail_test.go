package bench

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"testing"
	"time"
)

// gcCycles reads the count of finished GC cycles and the heap bytes
// allocated so far.
type gcReader struct{ s []metrics.Sample }

func newGCReader() *gcReader {
	return &gcReader{s: []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/allocs:objects"}}}
}

func (g *gcReader) read() (cycles, bytes, objects uint64) {
	metrics.Read(g.s)
	return g.s[0].Value.Uint64(), g.s[1].Value.Uint64(), g.s[2].Value.Uint64()
}

// TestPivotEngineTail splits TestPivotEngineTime's calls into those a GC
// cycle finished during (or right after: the cycle's mark phase runs
// before its count moves) and the others, and gives each group's
// percentiles, by the wall clock and by the thread's CPU clock, with the
// allocation and the page faults per call: where the p99 comes from. A
// last run at twice the server's GC percent (a diagnostic, not a
// setting: the figures of the goal are TestPivotEngineTime's, at the
// server's settings) shows how much of the CPU tail the GC's frequency
// makes. Figures only.
func TestPivotEngineTail(t *testing.T) {
	r := pivotRig(t, nil)
	tp, e, root := r.tp, r.e, r.root
	n := calls(5000)
	g := newGCReader()
	server := debug.SetGCPercent(-1)
	debug.SetGCPercent(server)
	for _, clk := range []struct {
		name string
		fn   func() int64
		gc   int // GOGC for the run
	}{{"wall", wallClock, server}, {"CPU", threadCPU, server}, {fmt.Sprintf("CPU, GOGC=%d (half the GC cycles)", 2*server), threadCPU, 2 * server}} {
		if clk.fn() == 0 || clk.gc <= 0 { // no thread clock here; GOGC=off
			continue
		}
		old := debug.SetGCPercent(clk.gc)
		runtime.LockOSThread()
		tp.clock = clk.fn
		warmUp(t, e, root, 100, warmUpCycles, clk.fn)
		rt := make([]time.Duration, n)
		cyc := make([]uint64, n+1)
		faults, preempted := make([]int64, n), make([]int64, n)
		c0, b0, o0 := g.read()
		cyc[0] = c0
		for i := range n {
			f0, p0 := threadUsage()
			start, ch := runStamped(t, e, root, fmt.Sprint("call-", i), clk.fn)
			f1, p1 := threadUsage()
			faults[i], preempted[i] = f1-f0, p1-p0
			rt[i] = time.Duration(tp.called.Load()-start) + time.Duration(ch.first.Load()-tp.responded.Load())
			cyc[i+1], _, _ = g.read()
		}
		c1, b1, o1 := g.read()
		runtime.UnlockOSThread()
		var gc, quiet []time.Duration
		for i := range n {
			// cycle count moved during this call or the next: a cycle
			// was marking during this call
			if cyc[min(i+2, n)] != cyc[i] {
				gc = append(gc, rt[i])
			} else {
				quiet = append(quiet, rt[i])
			}
		}
		t.Logf("%s: %d GC cycles in %d calls; %.0f B and %.1f objects allocated per call (harness included)", clk.name, c1-c0, n, float64(b1-b0)/float64(n), float64(o1-o0)/float64(n))
		report(t, clk.name+": all calls", slices.Clone(rt))
		if len(gc) > 0 {
			report(t, clk.name+": calls during a GC cycle", gc)
		}
		report(t, clk.name+": calls with no GC", quiet)
		// the slowest 1 %: how many overlapped a GC
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return int(rt[b] - rt[a]) })
		inGC := 0
		for _, i := range idx[:n/100] {
			if cyc[min(i+2, n)] != cyc[i] {
				inGC++
			}
		}
		t.Logf("%s: of the slowest %d calls, %d overlapped a GC cycle", clk.name, n/100, inGC)
		var slowF, allF int64
		faulted := 0
		for _, i := range idx[:n/100] {
			slowF += faults[i]
			if faults[i] > 0 {
				faulted++
			}
		}
		for _, f := range faults {
			allF += f
		}
		// Calls the kernel took the CPU from: the part of the wall-clock
		// tail a shared machine adds, which a quiet one would not.
		var kept []time.Duration
		slowPre := 0
		for i := range n {
			if preempted[i] == 0 {
				kept = append(kept, rt[i])
			}
		}
		for _, i := range idx[:n/100] {
			if preempted[i] > 0 {
				slowPre++
			}
		}
		if len(kept) > 0 {
			report(t, clk.name+": calls not preempted", kept)
		}
		t.Logf("%s: %d calls preempted by the kernel, %d of the slowest %d", clk.name, n-len(kept), slowPre, n/100)
		debug.SetGCPercent(old)
		t.Logf("%s: page faults per call (whole call, harness included): %.2f on average, %.2f in the slowest %d (%d of them had one)",
			clk.name, float64(allF)/float64(n), float64(slowF)/float64(n/100), n/100, faulted)
		// calls by how long after a cycle's end they ran: sweeping and
		// refilling the allocation caches follow each cycle
		buckets := map[string][]time.Duration{}
		last := -1000
		for i := range n {
			if cyc[i+1] != cyc[i] {
				last = i
			}
			switch d := i - last; {
			case d <= 2:
				buckets["0-2 calls after"] = append(buckets["0-2 calls after"], rt[i])
			case d <= 10:
				buckets["3-10 calls after"] = append(buckets["3-10 calls after"], rt[i])
			default:
				buckets["later"] = append(buckets["later"], rt[i])
			}
		}
		for _, k := range []string{"0-2 calls after", "3-10 calls after", "later"} {
			if len(buckets[k]) > 0 {
				report(t, clk.name+": "+k, buckets[k])
			}
		}
	}
}

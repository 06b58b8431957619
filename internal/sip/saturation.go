package sip

import (
	"context"
	"log/slog"
	"math"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// The process sheds new calls by itself when it is saturated, without an
// operator guessing a rate (Config.ShedLatency): every saturationWindow it
// reads how long the Go scheduler kept runnable goroutines waiting, and
// the p99 of the window, against the limit, moves a limit on the calls in
// progress (shed.go): the new INVITEs over it get 503 with Retry-After
// before any work is spent on them. Past its capacity the
// server is CPU-bound: every goroutine waits its turn, the SIP read loop
// falls behind, 200s and BYEs go out late and the callers retransmit,
// which costs more CPU still. The scheduler's latency rises as soon as
// the CPU is short, well before the retransmissions start (T1, 500 ms),
// and it costs nothing per call to watch.

const (
	saturationWindow = 100 * time.Millisecond
	// saturationMinSamples is how many scheduling events a window needs
	// before its p99 is trusted: an idle process judges nothing.
	saturationMinSamples = 20
	schedLatencyMetric   = "/sched/latencies:seconds"
)

// saturation watches the scheduler's latency; a zero limit watches nothing.
type saturation struct {
	limit time.Duration
	log   *slog.Logger // nil: silent
	lines logLimit     // a flapping state must not flood the log
	p99   atomic.Int64 // nanoseconds, over the last window
	over  atomic.Bool
	force atomic.Int32 // tests: 1 saturated, -1 not, 0 measured

	sample []metrics.Sample
	prev   []uint64
	adm    *admission // told of each window's judgement; nil: none
	lastAt time.Time

	// The datagrams' wait in the SIP socket (shed_queue.go), judged
	// against queueLimit beside the latency; queue nil: not measured.
	queueLimit time.Duration
	queue      *queueWait
	queueLeast atomic.Int64 // nanoseconds, the last window's least wait; -1 unjudged
}

func (sa *saturation) init(limit time.Duration, log *slog.Logger, adm *admission) {
	sa.limit, sa.log, sa.adm = limit, log, adm
	sa.sample = []metrics.Sample{{Name: schedLatencyMetric}}
}

// saturated reports whether every new call is to be shed now: only when
// a test forces it. The scheduler's latency limits the calls in progress
// instead (admission.adjust), so that the calls taken approach what the
// machine can carry.
func (sa *saturation) saturated() bool { return sa.force.Load() == 1 }

// run reads the scheduler's latency every window until ctx ends.
func (sa *saturation) run(ctx context.Context) {
	if sa.limit <= 0 {
		return
	}
	sa.read()
	t := time.NewTicker(saturationWindow)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sa.read()
		}
	}
}

// read takes one reading and judges the window since the last one.
func (sa *saturation) read() {
	metrics.Read(sa.sample)
	if sa.sample[0].Value.Kind() != metrics.KindFloat64Histogram {
		return // not in this Go version: never shed
	}
	h := sa.sample[0].Value.Float64Histogram()
	p, n := quantileSince(h, sa.prev, 0.99)
	sa.prev = append(sa.prev[:0], h.Counts...)
	if n < saturationMinSamples {
		p = 0
	}
	sa.p99.Store(int64(p))
	over := p > sa.limit
	qload := -1.0 // the queue's wait not judged: the latency alone
	if sa.queue != nil {
		qp, qn := sa.queue.take()
		if qn >= queueMinRead {
			qload = float64(qp) / float64(sa.queueLimit)
			sa.queueLeast.Store(int64(qp))
		} else {
			sa.queueLeast.Store(-1)
		}
	}
	now := time.Now()
	if sa.adm != nil && sa.force.Load() == 0 && !sa.lastAt.IsZero() {
		sa.adm.adjust(float64(p)/float64(sa.limit), qload, n >= saturationMinSamples, now.Sub(sa.lastAt), now)
	}
	sa.lastAt = now
	if sa.over.Swap(over) == over || sa.log == nil {
		return
	}
	// Once per change, not per call refused, and within the log limit.
	ok, held := sa.lines.allow(now)
	switch {
	case !ok:
	case over:
		sa.log.Warn("short of CPU: limiting the calls in progress", "sched_latency_p99", p.String(), "limit", sa.limit.String(), "suppressed", held)
	default:
		sa.log.Info("CPU no longer short", "sched_latency_p99", p.String(), "suppressed", held)
	}
}

// quantileSince is the q-quantile (the upper bound of its bucket) of the
// observations a cumulative histogram gained since the counts prev (nil:
// all of them), and how many it gained.
func quantileSince(h *metrics.Float64Histogram, prev []uint64, q float64) (time.Duration, uint64) {
	delta := func(i int) uint64 {
		if i < len(prev) && prev[i] <= h.Counts[i] {
			return h.Counts[i] - prev[i]
		}
		return h.Counts[i]
	}
	var total uint64
	for i := range h.Counts {
		total += delta(i)
	}
	if total == 0 {
		return 0, 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var cum uint64
	for i := range h.Counts {
		cum += delta(i)
		if cum < rank {
			continue
		}
		ub := h.Buckets[i+1]
		if math.IsInf(ub, 1) {
			ub = h.Buckets[i]
		}
		return time.Duration(ub * float64(time.Second)), total
	}
	return 0, total
}

// SchedLatency is the Go scheduler's p99 latency over the last window (0
// before the first window, or when the window saw too little to judge):
// the figure the shedding goes by; on is false when Config.ShedLatency is
// not set and nothing is measured.
func (s *Server) SchedLatency() (p99 time.Duration, on bool) {
	return time.Duration(s.sat.p99.Load()), s.sat.limit > 0
}

// ShedQueueDelay is the SIP UDP socket's standing queue over the last
// window: the least wait of its datagrams before the read loop took them
// (0 when it saw too few to judge), the figure that tells a busy server
// that keeps up from one that falls behind (shed_queue.go); on is false
// when it is not measured (Config.ShedQueueDelay or ShedLatency not set).
func (s *Server) ShedQueueDelay() (least time.Duration, on bool) {
	if s.sat.queue == nil {
		return 0, false
	}
	return time.Duration(max(0, s.sat.queueLeast.Load())), true
}

// ShedCap is the rate of new calls the adaptive limit lets in (ShedLimit
// over the calls' length, measured; the limit itself a second while that
// is not known yet), 0 while there is no limit: what an operator graphs
// beside the calls shed to see how much the server takes when short of
// CPU; on is false when Config.ShedLatency is not set.
func (s *Server) ShedCap() (perSecond float64, on bool) {
	_, _, perSecond = s.adm.limitNow(time.Now())
	return perSecond, s.sat.limit > 0
}

// ShedLimit is the adaptive limit on the calls in progress that the
// scheduler's latency set (0 while there is none: every call is taken) and
// the calls in progress it counts (taken and not yet ended), what an
// operator graphs to see the server's capacity as it learns it; on is
// false when Config.ShedLatency is not set.
func (s *Server) ShedLimit() (limit float64, inProgress int, on bool) {
	limit, inProgress, _ = s.adm.limitNow(time.Now())
	return limit, inProgress, s.sat.limit > 0
}

// ShedSetup is the calls taken over UDP still in setup (INVITE read, ACK
// not yet), and the last window's setup time (the 90th percentile of its
// ACKs' setup times, or how long a stalled setup waited): what an
// operator graphs beside ShedLimit to see the read loop fall behind
// (shed_setup.go). on is false when Config.ShedLatency is not set.
func (s *Server) ShedSetup() (inSetup int, setupTime time.Duration, on bool) {
	n, d := s.adm.setupNow(time.Now())
	return n, d, s.sat.limit > 0
}

// Why a new call was shed (ShedCounts).
const (
	ShedMaxCalls  = "max_calls" // Config.MaxCalls running
	ShedRate      = "rate"      // over Config.MaxCallsPerSecond
	ShedSaturated = "saturated" // Config.ShedLatency passed
)

// shedCounts counts the calls shed, by reason.
type shedCounts struct{ maxCalls, rate, saturated atomic.Uint64 }

// ShedCounts returns how many new calls were refused with 503 for load
// since start, by reason (ShedMaxCalls, ShedRate, ShedSaturated): what an
// operator graphs (/metrics) to see that the server sheds, and why.
func (s *Server) ShedCounts() map[string]uint64 {
	return map[string]uint64{
		ShedMaxCalls:  s.shedN.maxCalls.Load(),
		ShedRate:      s.shedN.rate.Load(),
		ShedSaturated: s.shedN.saturated.Load(),
	}
}

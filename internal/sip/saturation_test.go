package sip_test

import (
	"math"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/servertest"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// TestQuantileSince: the p99 of what a cumulative histogram gained since
// the last reading, not since the process started.
func TestQuantileSince(t *testing.T) {
	h := &metrics.Float64Histogram{
		Buckets: []float64{0, 0.001, 0.01, 0.1, math.Inf(1)},
		Counts:  []uint64{1000, 0, 0, 5},
	}
	if p, n := sip.QuantileSince(h, nil, 0.99); n != 1005 || p != time.Millisecond {
		t.Errorf("from nothing: p99 %v of %d, want 1ms of 1005", p, n)
	}
	prev := append([]uint64(nil), h.Counts...)
	h.Counts = []uint64{1010, 0, 0, 10}
	// The new window: 10 fast, 5 beyond 100 ms: the p99 is in the last
	// bucket, whose bound is infinite, so its lower bound stands.
	if p, n := sip.QuantileSince(h, prev, 0.99); n != 15 || p != 100*time.Millisecond {
		t.Errorf("window: p99 %v of %d, want 100ms of 15", p, n)
	}
	if p, n := sip.QuantileSince(h, h.Counts, 0.99); n != 0 || p != 0 {
		t.Errorf("empty window: p99 %v of %d, want 0 of 0", p, n)
	}
}

// TestSaturationSeesStarvedCPU: with more busy goroutines than CPUs, the
// scheduler keeps runnable goroutines waiting and the watch judges the
// process saturated; once they stop, it no longer does.
func TestSaturationSeesStarvedCPU(t *testing.T) {
	sa := sip.NewSaturation(20 * time.Millisecond)
	sa.Read()
	last := time.Now()
	// judge reads a window once it is long enough to hold the samples a
	// judgement needs (the runtime samples one scheduling in eight).
	judge := func() bool {
		if time.Since(last) < 200*time.Millisecond {
			return false
		}
		last = time.Now()
		sa.Read()
		return true
	}

	cool := servertest.StarveCPU(t)
	waitfor.True(t, 20*time.Second, "saturation seen while the CPUs are busy", func() bool {
		return judge() && sa.Saturated()
	})
	cool()
	waitfor.True(t, 20*time.Second, "saturation gone once the CPUs are free", func() bool {
		return judge() && !sa.Saturated()
	})
}

// TestShedWhenSaturated: while the server judges itself short of CPU
// (--shed-latency), a new call gets 503 with Retry-After before any flow
// runs, and is reported refused for its account; once it is not, calls
// run again.
func TestShedWhenSaturated(t *testing.T) {
	t.Parallel()
	refused := make(chan sip.Refusal, 10)
	ts := newServer(t, sip.Config{ShedLatency: time.Second}, func(s *sip.Server) {
		s.OnRefuse(func(r sip.Refusal) { refused <- r })
	})
	ctx := testCtx(t, 10*time.Second)
	p := newPhone(t, "udp")

	sip.ForceSaturated(ts.Server, 1)
	d, code, err := p.call(ctx, ts.Addr(), "sip-486")
	if err != nil {
		t.Fatal(err)
	}
	if code != 503 {
		t.Fatalf("a call while saturated: %d, want 503", code)
	}
	if ra := d.InviteResponse.GetHeader("Retry-After"); ra == nil || ra.Value() == "" {
		t.Error("503 without Retry-After")
	}
	select {
	case r := <-refused:
		if r.Code != 503 || r.Reason != "Overloaded" || r.AccountID != "acct" {
			t.Errorf("refusal %+v", r)
		}
	case <-ctx.Done():
		t.Fatal("shed call not reported")
	}
	select {
	case id := <-ts.running:
		t.Fatalf("the flow ran for a shed call (%s)", id)
	default:
	}
	if n := ts.ShedCounts()[sip.ShedSaturated]; n != 1 {
		t.Errorf("calls shed as saturated: %d, want 1", n)
	}
	if p, on := ts.SchedLatency(); !on || p < 0 {
		t.Errorf("scheduler latency %v, watched %v: want watched", p, on)
	}

	sip.ForceSaturated(ts.Server, -1)
	if _, code, err := p.call(ctx, ts.Addr(), "sip-486"); err != nil || code != 486 {
		t.Fatalf("a call once not saturated: %d %v, want 486", code, err)
	}
}

// TestShedLimitCountsCallsInProgress: with --shed-latency on (and the
// socket read with its receive stamps), a call taken
// counts among the calls in progress (what the adaptive limit holds) from
// its INVITE, over UDP (admitted as it is read, then claimed) and over
// TCP, until it ends, and not a moment longer: a call refused by its flow
// and a call hung up by its caller leave nothing behind, so no caller can
// keep a place in the limit once its call is over.
func TestShedLimitCountsCallsInProgress(t *testing.T) {
	t.Parallel()
	// On, never reached; the SIP socket read with its receive stamps.
	ts := newServer(t, sip.Config{ShedLatency: time.Second, ShedQueueDelay: sip.DefaultShedQueueDelay})
	if _, on := ts.ShedQueueDelay(); !on {
		t.Fatal("the socket's standing queue is not measured with --shed-queue-delay set")
	}
	inProgress := func() int {
		_, n, on := ts.ShedLimit()
		if !on {
			t.Fatal("the limit is off with --shed-latency set")
		}
		return n
	}
	ctx := testCtx(t, 20*time.Second)
	for _, network := range []string{"udp", "tcp"} {
		p := newPhone(t, network)
		d := p.answered(ctx, ts.Addr(), "answer-wait")
		waitfor.True(t, 5*time.Second, network+": the call answered is in progress", func() bool { return inProgress() == 1 })
		if _, code, err := p.call(ctx, ts.Addr(), "sip-486"); err != nil || code != 486 {
			t.Fatalf("%s: a call its flow refuses: %d %v", network, code, err)
		}
		if err := d.Bye(ctx); err != nil {
			t.Fatalf("%s: BYE: %v", network, err)
		}
		waitfor.True(t, 5*time.Second, network+": no call in progress once both ended", func() bool { return inProgress() == 0 })
		if l, _, _ := ts.ShedLimit(); l != 0 {
			t.Errorf("%s: limit %.0f with the latency far under --shed-latency, want none", network, l)
		}
	}
}

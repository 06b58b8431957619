package server_test

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// TestShedByDefault: with the shedding the binary starts with
// (--shed-latency's default), a burst of calls arriving while the process
// is short of CPU is answered at once: the calls over what it can take
// get 503 with Retry-After, and every call taken is answered, plays its
// prompt and ends with the server's BYE. Once the CPU is free again, calls
// are taken.
func TestShedByDefault(t *testing.T) {
	s := servertest.NewAt(t, slog.LevelInfo, withSIP("127.0.0.1"), func(c *server.Config) {
		c.SIP.ShedLatency = sip.DefaultShedLatency
		c.SIP.ShedQueueDelay = sip.DefaultShedQueueDelay
		c.Media.LocalPaths = true
	})
	wav := filepath.Join(t.TempDir(), "prompt.wav")
	if err := os.WriteFile(wav, silenceWAV(100*time.Millisecond), 0o600); err != nil {
		t.Fatal(err)
	}
	putFlow(t, s, "1000", map[string]any{"module": "play", "data": map[string]any{"id": wav, "answer": true}})
	server, err := net.ResolveUDPAddr("udp", s.SIPAddr())
	if err != nil {
		t.Fatal(err)
	}
	if code, err := newRawCaller(t, server).call(); err != nil || code != 200 {
		t.Fatalf("a call before the overload: %d %v", code, err)
	}

	cool := servertest.StarveCPU(t)
	// The latency over its limit long enough to set a limit on the calls
	// in progress (two windows, or one far over): a burst that meets a
	// latency just over the limit may rightly be taken whole.
	waitfor.True(t, 30*time.Second, "the server limits the calls in progress, short of CPU", func() bool {
		limit, _, on := s.SIP().ShedLimit()
		return on && limit > 0
	})

	// A burst of 150 calls at once, each from its own socket (the limit
	// is at least 25 calls in progress, and there are none: up to 25 are
	// taken, as fast as the pace under the limit lets them in).
	const burst = 150
	codes := make([]int, burst)
	errs := make([]error, burst)
	retryAfter := make([]bool, burst)
	var calls sync.WaitGroup
	for i := range burst {
		c := newRawCaller(t, server)
		calls.Go(func() {
			codes[i], errs[i] = c.call()
			retryAfter[i] = bytes.Contains(c.last, []byte("\r\nRetry-After: "))
		})
	}
	calls.Wait()
	// While still short of CPU: the cap the burst met is in /metrics,
	// with the calls shed and the latency it goes by.
	m := scrape(t, s, s.Token)
	cool()
	for _, name := range []string{"switchboard_shed_cap_calls_per_second", "switchboard_shed_limit_calls"} {
		if c, ok := m[name]; !ok || c <= 0 {
			t.Errorf("%s = %v (exported %v) while shedding, want a limit", name, c, ok)
		}
	}
	// Its value may be 0 here: a window with too few samples says nothing.
	for _, name := range []string{"switchboard_sched_latency_p99_seconds", "switchboard_shed_calls_in_progress",
		"switchboard_calls_in_setup", "switchboard_shed_setup_seconds"} {
		if _, ok := m[name]; !ok {
			t.Errorf("%s not exported while --shed-latency is on", name)
		}
	}
	dashboardNamesExist(t, m)
	taken, shed := 0, 0
	for i := range burst {
		switch {
		case errs[i] != nil:
			t.Errorf("call %d: %v", i, errs[i])
		case codes[i] == 200:
			taken++
		case codes[i] == 503:
			shed++
			if !retryAfter[i] {
				t.Errorf("call %d: 503 without Retry-After", i)
			}
		default:
			t.Errorf("call %d: answered %d", i, codes[i])
		}
	}
	t.Logf("of %d calls offered while short of CPU: %d taken (answered, prompt, BYE), %d shed with 503", burst, taken, shed)
	if shed == 0 {
		t.Error("no call shed while short of CPU")
	}
	if taken == 0 {
		t.Error("no call taken: shedding is not meant to refuse all")
	}
	if n := s.SIP().ShedCounts()[sip.ShedSaturated]; n != uint64(shed) {
		t.Errorf("calls counted shed %d, callers saw %d", n, shed)
	}
	if n := m[`switchboard_calls_shed_total{reason="saturated"}`]; n != float64(shed) {
		t.Errorf("/metrics counts %v calls shed, callers saw %d", n, shed)
	}
	waitfor.True(t, 30*time.Second, "a call taken once the CPU is free", func() bool {
		code, err := newRawCaller(t, server).call()
		return err == nil && code == 200
	})
}

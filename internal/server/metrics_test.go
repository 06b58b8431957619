package server_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
	"github.com/switchboard/switchboard/internal/sip/siptest"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// scrape reads /metrics with token and returns every sample by its name
// with labels as written ("switchboard_calls_started_total",
// `switchboard_rtp_packets_total{direction="out"}`).
func scrape(t *testing.T, s *servertest.Server, token string) map[string]float64 {
	t.Helper()
	status, body := s.DoRaw("GET", "/metrics", token, nil, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", status, body)
	}
	return parseMetrics(t, body)
}

func parseMetrics(t *testing.T, body []byte) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetricsNeedAnOperatorToken(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	if status, _ := s.DoRaw("GET", "/metrics", "", nil, nil); status != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", status)
	}
	_, tenant := s.AddAccount("tenant")
	if status, _ := s.DoRaw("GET", "/metrics", tenant, nil, nil); status != http.StatusForbidden {
		t.Errorf("tenant token: %d, want 403", status)
	}
	m := scrape(t, s, s.Token)
	for _, name := range []string{"switchboard_calls_active", "switchboard_calls_started_total", "go_goroutines"} {
		if _, ok := m[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	// The API is unchanged around it.
	if status, _ := s.Do("GET", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, nil); status != http.StatusOK {
		t.Errorf("API: %d", status)
	}
}

func TestMetricsAddrServesWithoutToken(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, func(c *server.Config) { c.MetricsAddr = "127.0.0.1:0" })
	res, err := http.Get("http://" + s.Server.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if _, ok := parseMetrics(t, buf.Bytes())["switchboard_calls_started_total"]; !ok {
		t.Errorf("no call counter:\n%.500s", buf.Bytes())
	}
}

func TestMetricsMoveWithASimulatedCall(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	putFlow(t, s, "7200", map[string]any{"module": "response", "data": map[string]any{"code": 486}})
	before := scrape(t, s, s.Token)
	if _, _, _, err := s.Simulate(t.Context(), sim.SimulateOptions{To: "7200"}, nil); err != nil {
		t.Fatal(err)
	}
	ctx, ch := sim.New(t.Context(), call.Info{ID: "refused", AccountID: s.AccountID, Request: "4040"}, sim.Script{})
	s.Calls().Handle(ctx, ch, call.NewTrace(ch.Clock(), nil))
	after := scrape(t, s, s.Token)
	if d := after["switchboard_calls_started_total"] - before["switchboard_calls_started_total"]; d != 2 {
		t.Errorf("calls started moved by %v, want 2", d)
	}
	if after["switchboard_calls_active"] != 0 {
		t.Errorf("calls active %v after both ended", after["switchboard_calls_active"])
	}
	if after[`switchboard_calls_ended_total{cause="sip:404"}`] != 1 || after[`switchboard_calls_ended_total{cause="sip:486"}`] != 1 {
		t.Errorf("refused call not counted by cause: %v", after)
	}
	if after[`switchboard_store_write_duration_seconds_count{op="call"}`] < 2 {
		t.Errorf("call-log writes not timed")
	}
}

func TestMetricsMoveWithASIPCall(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, withSIP("127.0.0.1"))
	putFlow(t, s, "1000", map[string]any{"module": "tts", "data": map[string]any{"text": "Hello."}})
	p := siptest.NewPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := p.Call(ctx, s.SIPAddr(), "1000", siptest.CallOptions{})
	if err != nil || c.Status != 200 {
		t.Fatalf("call: %d %v", c.Status, err)
	}
	during := scrape(t, s, s.Token)
	if v, ok := during["switchboard_rtp_pacing_realtime"]; !ok || v != 0 {
		t.Errorf("during the call: pacing realtime %v (exported %v), want 0 at the default priority", v, ok)
	}
	if during["switchboard_calls_active"] != 1 || during["switchboard_media_sessions"] != 1 || during["switchboard_rtp_ports_in_use"] != 1 {
		t.Errorf("during the call: active %v, sessions %v, ports %v", during["switchboard_calls_active"],
			during["switchboard_media_sessions"], during["switchboard_rtp_ports_in_use"])
	}
	select {
	case <-c.Ended():
	case <-ctx.Done():
		t.Fatal("no BYE after the prompt")
	}
	// Send errors are judged while the phone still listens: a packet the
	// pacer had in hand when the BYE went out may meet the closed socket
	// after c.Close (an ICMP port unreachable), and counting that is right.
	if v, ok := scrape(t, s, s.Token)["switchboard_rtp_send_errors_total"]; !ok || v != 0 {
		t.Errorf("RTP send errors before the phone hung up: %v (exported %v), want 0", v, ok)
	}
	c.Close()
	m := waitfor.Value(t, 10*time.Second, "the call's end in /metrics", func() (map[string]float64, bool) {
		m := scrape(t, s, s.Token)
		ended, written := false, false // counted when the call's log is written, just after it ends
		for k := range m {
			ended = ended || strings.HasPrefix(k, "switchboard_calls_ended_total")
			// The write's time is observed once the batch commits, a moment after.
			written = written || strings.HasPrefix(k, "switchboard_store_write_duration_seconds")
		}
		return m, ended && written && m["switchboard_calls_active"] == 0 && m["switchboard_media_sessions"] == 0
	})
	for name, min := range map[string]float64{
		`switchboard_sip_requests_total{direction="in",method="INVITE"}`: 1,
		`switchboard_sip_requests_total{direction="in",method="ACK"}`:    1,
		`switchboard_sip_requests_total{direction="out",method="BYE"}`:   1,
		`switchboard_sip_responses_total{code="200",direction="out"}`:    1,
		`switchboard_sip_responses_total{code="200",direction="in"}`:     1,
		`switchboard_rtp_packets_total{direction="out"}`:                 20,
		`switchboard_rtp_bytes_total{direction="out"}`:                   20 * 172,
		"switchboard_calls_started_total":                                1,
		"switchboard_rtp_pacing_lateness_seconds_count":                  20,
		"switchboard_rtp_pacing_wake_lateness_seconds_count":             20,
	} {
		if m[name] < min {
			t.Errorf("%s = %v, want at least %v", name, m[name], min)
		}
	}
	if v, ok := m["switchboard_rtp_pacing_spills_total"]; !ok || v != 0 {
		t.Errorf("switchboard_rtp_pacing_spills_total = %v, %v; want 0 at the default priority", v, ok)
	}
	if v, ok := m["switchboard_rtp_pacing_demotions_total"]; !ok || v != 0 {
		t.Errorf("pacing demotions %v (exported %v), want 0", v, ok)
	}
	if v, ok := m["switchboard_rtp_pacing_realtime"]; !ok || v != 0 {
		t.Errorf("pacing realtime %v (exported %v) with no call left, want 0", v, ok)
	}
	if m["switchboard_rtp_ports_in_use"] != 0 {
		t.Errorf("ports in use after the call: %v", m["switchboard_rtp_ports_in_use"])
	}
	for _, reason := range []string{"max_calls", "rate", "saturated"} {
		if v, ok := m[`switchboard_calls_shed_total{reason="`+reason+`"}`]; !ok || v != 0 {
			t.Errorf("calls shed for %s: %v (exported %v), want 0", reason, v, ok)
		}
	}
	for _, name := range []string{"switchboard_sched_latency_p99_seconds", "switchboard_shed_cap_calls_per_second",
		"switchboard_shed_limit_calls", "switchboard_shed_calls_in_progress",
		"switchboard_calls_in_setup", "switchboard_shed_setup_seconds"} {
		if _, ok := m[name]; ok {
			t.Errorf("%s exported while --shed-latency is off", name)
		}
	}
	dashboardNamesExist(t, m)
}

// dashboardNamesExist checks that every switchboard_ metric the Grafana
// dashboard in deploy/ queries is one the server exports (the webhook
// histogram appears with the first webhook: its name is checked by
// prefix against the registry's help text instead).
func dashboardNamesExist(t *testing.T, scraped map[string]float64) {
	t.Helper()
	b, err := os.ReadFile("../../deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{"switchboard_webhook_duration_seconds": true}
	if _, ok := scraped["switchboard_sched_latency_p99_seconds"]; !ok {
		// Exported only with --shed-latency: TestShedByDefault checks them.
		for _, name := range []string{"switchboard_sched_latency_p99_seconds", "switchboard_shed_cap_calls_per_second",
			"switchboard_shed_limit_calls", "switchboard_shed_calls_in_progress",
			"switchboard_calls_in_setup", "switchboard_shed_setup_seconds"} {
			have[name] = true
		}
	}
	for k := range scraped {
		name, _, _ := strings.Cut(k, "{")
		have[name] = true
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			have[strings.TrimSuffix(name, suffix)] = true
		}
	}
	for _, name := range regexp.MustCompile(`switchboard_[a-z0-9_]+`).FindAllString(string(b), -1) {
		base := name
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if !have[name] && !have[base] {
			t.Errorf("the dashboard queries %s, which the server does not export", name)
		}
	}
}

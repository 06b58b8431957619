package server_test

import (
	"context"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
	"github.com/switchboard/switchboard/internal/sip/siptest"
	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// withSIP turns SIP on at 127.0.0.1:0, trusting trust.
func withSIP(trust ...string) servertest.Option {
	return func(c *server.Config) {
		c.SIP.Addr = "127.0.0.1:0"
		c.Trust = trust
	}
}

func putFlow(t testing.TB, s *servertest.Server, number string, flow map[string]any) {
	t.Helper()
	status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/callflows", s.Token,
		map[string]any{"data": map[string]any{"name": "f" + number, "numbers": []string{number}, "flow": flow}})
	if status != http.StatusCreated {
		t.Fatalf("create flow: %d %v", status, env)
	}
}

func TestSIPCallRunsTheFlow(t *testing.T) {
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
	select {
	case <-c.Ended():
	case <-ctx.Done():
		t.Fatal("no BYE after the prompt")
	}
	c.Close()
	if n := c.Packets(0) + c.Packets(8); n < 20 {
		t.Errorf("%d audio packets for the prompt", n)
	}
	// The call log is written once the engine is done, just after the BYE.
	rec := waitfor.Value(t, 10*time.Second, "the call's hangup in the call log", func() (store.CallRecord, bool) {
		var rec store.CallRecord
		rec, err = s.CallLog().GetCall(ctx, s.AccountID, c.CallID())
		return rec, err == nil && strings.Contains(string(rec.Trace), `"op":"hangup"`)
	})
	if err != nil {
		t.Fatalf("call log: %v", err)
	}
	var ops []string
	for _, line := range strings.Split(strings.TrimSpace(string(rec.Trace)), "\n") {
		op, _, _ := strings.Cut(strings.TrimPrefix(line, `{"op":"`), `"`)
		ops = append(ops, op)
	}
	if got := strings.Join(ops, " "); got != "route module answer say hangup" {
		t.Errorf("trace ops %q:\n%s", got, rec.Trace)
	}
}

func TestSIPUnknownNumberAndUntrustedSource(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, withSIP())
	p := siptest.NewPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := p.Call(ctx, s.SIPAddr(), "4040", siptest.CallOptions{})
	if err != nil || c.Status != 403 {
		t.Fatalf("untrusted: %d %v, want 403", c.Status, err)
	}
	// A trunk of the account makes 127.0.0.1 trusted.
	base := "/v2/accounts/" + s.AccountID + "/trunks"
	status, env := s.Do("PUT", base, s.Token, map[string]any{"data": map[string]any{
		"name": "lab", "source_cidrs": []string{"127.0.0.1"}, "outbound_uri": "sip:gw.example.net;transport=tcp", "note": "kept",
	}})
	if status != http.StatusCreated {
		t.Fatalf("create trunk: %d %v", status, env)
	}
	doc := env["data"].(map[string]any)
	if doc["note"] != "kept" || doc["source_cidrs"].([]any)[0] != "127.0.0.1/32" {
		t.Errorf("stored trunk %v", doc)
	}
	c, err = p.Call(ctx, s.SIPAddr(), "4040", siptest.CallOptions{})
	if err != nil || c.Status != 404 {
		t.Fatalf("unknown number: %d %v, want 404", c.Status, err)
	}
	status, _ = s.Do("DELETE", base+"/"+doc["id"].(string), s.Token, nil)
	if status != http.StatusOK {
		t.Fatalf("delete trunk: %d", status)
	}
	c, err = p.Call(ctx, s.SIPAddr(), "4040", siptest.CallOptions{})
	if err != nil || c.Status != 403 {
		t.Fatalf("after delete: %d %v, want 403", c.Status, err)
	}
}

// TestSIPCallsReleaseResources places 200 calls (answer, a short prompt,
// hang up) and checks that goroutines and open files come back to where
// they were.
func TestSIPCallsReleaseResources(t *testing.T) {
	if testing.Short() {
		t.Skip("200 calls")
	}
	s := servertest.New(t, withSIP("127.0.0.1"))
	putFlow(t, s, "2000", map[string]any{"module": "tts", "data": map[string]any{"text": "Hi."}})
	p := siptest.NewPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	calls := func(n int, p *siptest.Phone) {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		sem := make(chan struct{}, 20)
		for range n {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := callAndWaitBye(ctx, s, p); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("call: %v", err)
		}
		settle(s)
	}
	// Warm up: the TTS cache, media pacers, the database's reader pool
	// (which opens files up to its size under concurrent calls).
	calls(40, p)
	g0, f0 := runtime.NumGoroutine(), openFiles(t)
	calls(200, p)
	g1, f1 := settled(t, g0, f0)
	t.Logf("UDP: goroutines %d -> %d, open files %d -> %d", g0, g1, f0, f1)
	if g1 > g0+5 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines grew from %d to %d:\n%s", g0, g1, buf[:runtime.Stack(buf, true)])
	}
	if f1 > f0+2 {
		t.Errorf("open files grew from %d to %d: %v", f0, f1, fdList())
	}

	// Over TCP: a phone's connection is the server's too; when the phone
	// goes, nothing of it stays.
	tp := siptest.NewPhone(t, "tcp")
	calls(50, tp)
	tp.Close()
	settle(s)
	g1, f1 = settled(t, g0, f0)
	t.Logf("TCP: goroutines %d -> %d, open files %d -> %d", g0, g1, f0, f1)
	if g1 > g0+5 || f1 > f0+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("after TCP calls: goroutines %d -> %d, files %d -> %d: %v\n%s", g0, g1, f0, f1, fdList(), buf[:runtime.Stack(buf, true)])
	}
}

// callAndWaitBye places one call to 2000 and waits for the server's BYE.
func callAndWaitBye(ctx context.Context, s *servertest.Server, p *siptest.Phone) error {
	c, err := p.Call(ctx, s.SIPAddr(), "2000", siptest.CallOptions{})
	if err != nil {
		return err
	}
	defer c.Close()
	if c.Status != 200 {
		return &statusError{c.Status}
	}
	select {
	case <-c.Ended():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "status " + strconv.Itoa(e.code) }

// settle waits until no SIP call is in progress.
func settle(s *servertest.Server) {
	waitfor.Within(10*time.Second, func() (struct{}, bool) { return struct{}{}, s.SIP().Calls() == 0 })
}

// settled waits (up to 15 s) for the goroutines and open files to come back
// near g0 and f0, and returns what it last counted, for the caller to judge.
func settled(t *testing.T, g0, f0 int) (goroutines, files int) {
	v, _ := waitfor.Within(15*time.Second, func() ([2]int, bool) {
		g, f := runtime.NumGoroutine(), openFiles(t)
		return [2]int{g, f}, g <= g0+5 && f <= f0+2
	})
	return v[0], v[1]
}

func fdList() []string {
	entries, _ := os.ReadDir("/proc/self/fd")
	var out []string
	for _, e := range entries {
		l, _ := os.Readlink("/proc/self/fd/" + e.Name())
		out = append(out, e.Name()+"="+l)
	}
	return out
}

// openFiles counts the process's open files, but for SQLite's: its read
// pool opens connections lazily up to a fixed bound as concurrency asks,
// which is not a leak of calls.
func openFiles(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	n := 0
	for _, e := range entries {
		l, _ := os.Readlink("/proc/self/fd/" + e.Name())
		if strings.HasSuffix(l, ".db") || strings.HasSuffix(l, ".db-wal") || strings.HasSuffix(l, ".db-shm") {
			continue
		}
		n++
	}
	return n
}

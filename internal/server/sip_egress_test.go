package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
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

// TestEgressSIPDialOfATenant: a tenant's webhook answers <Dial><Sip> to
// a host its egress policy does not allow (toll fraud from the server's
// address): no INVITE leaves, the dial line is failed, and an error line
// names the policy.
func TestEgressSIPDialOfATenant(t *testing.T) {
	t.Parallel()
	// The "premium-rate" SIP host: a UDP socket that must receive nothing.
	toll, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2: %v", err)
	}
	defer toll.Close()
	// The tenant's app, on an address --webhook-allow lets it reach.
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Skipf("no 127.0.0.3: %v", err)
	}
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, "<Response><Dial><Sip>sip:+19005550100@%s</Sip></Dial><Say>after the dial</Say></Response>", toll.LocalAddr())
	})}}
	app.Start()
	defer app.Close()

	s := servertest.New(t, func(c *server.Config) {
		c.SIP.Addr = "127.0.0.1:0"
		c.Egress.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.3/32")}
	})
	b, tokenB := s.AddAccount("Tenant B")
	if status, env := s.Do("PUT", "/v2/accounts/"+b+"/trunks", tokenB, map[string]any{"data": map[string]any{
		"name": "B's PBX", "source_cidrs": []string{"127.0.0.1"}}}); status != http.StatusCreated {
		t.Fatalf("trunk: %d %v", status, env)
	}
	if status, env := s.Do("PUT", "/v2/accounts/"+b+"/callflows", tokenB, map[string]any{"data": map[string]any{
		"numbers": []string{"5000"}, "flow": map[string]any{"module": "pivot", "data": map[string]any{"voice_url": app.URL}},
	}}); status != http.StatusCreated {
		t.Fatalf("flow: %d %v", status, env)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := siptest.NewPhone(t, "udp").Call(ctx, s.SIPAddr(), "5000", siptest.CallOptions{})
	if err != nil || c.Status != 200 {
		t.Fatalf("call: %d %v", c.Status, err)
	}
	defer c.Close()
	rec := waitfor.Value(t, 15*time.Second, "the call's hangup in the call log", func() (store.CallRecord, bool) {
		rec, err := s.CallLog().GetCall(ctx, b, c.CallID())
		return rec, err == nil && strings.Contains(string(rec.Trace), `"op":"hangup"`)
	})
	tr := string(rec.Trace)
	var dial, errLine string
	for _, line := range strings.Split(tr, "\n") {
		switch {
		case strings.HasPrefix(line, `{"op":"dial"`):
			dial = line
		case strings.HasPrefix(line, `{"op":"error"`) && strings.Contains(line, "egress"):
			errLine = line
		}
	}
	if !strings.Contains(dial, `"status":"failed"`) || !strings.Contains(dial, "refused by the egress policy") {
		t.Errorf("dial line %q, want failed and refused by the egress policy\n%s", dial, tr)
	}
	if !strings.Contains(errLine, "refused by the egress policy") || !strings.Contains(tr, "after the dial") {
		t.Errorf("no error line naming the policy, or the document stopped:\n%s", tr)
	}
	// The dial was decided before the call went on: whatever was sent to
	// the toll host is in its socket buffer by now.
	toll.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 2048)
	if n, from, err := toll.ReadFrom(buf); err == nil {
		t.Errorf("the toll host received %d bytes from %s: %.80q", n, from, buf[:n])
	} else if !strings.Contains(err.Error(), "timeout") {
		t.Errorf("toll socket: %v", err)
	}
}

// TestEgressPlayOfATenant: a tenant's webhook answers <Play> of a file on
// the operator's loopback: the fetch is refused (the caller hears none of
// it) and the play line says the egress policy refused it.
func TestEgressPlayOfATenant(t *testing.T) {
	t.Parallel()
	var fetched sync.Once
	hit := make(chan struct{})
	secretFile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Do(func() { close(hit) })
		http.Error(w, secret, http.StatusOK)
	}))
	defer secretFile.Close()
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Skipf("no 127.0.0.3: %v", err)
	}
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, "<Response><Play>%s/recording.wav</Play></Response>", secretFile.URL)
	})}}
	app.Start()
	defer app.Close()
	s := servertest.New(t, func(c *server.Config) {
		c.SIP.Addr = "127.0.0.1:0"
		c.Egress.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.3/32")}
	})
	b, tokenB := s.AddAccount("Tenant B")
	if status, env := s.Do("PUT", "/v2/accounts/"+b+"/trunks", tokenB, map[string]any{"data": map[string]any{
		"name": "B's PBX", "source_cidrs": []string{"127.0.0.1"}}}); status != http.StatusCreated {
		t.Fatalf("trunk: %d %v", status, env)
	}
	if status, env := s.Do("PUT", "/v2/accounts/"+b+"/callflows", tokenB, map[string]any{"data": map[string]any{
		"numbers": []string{"5100"}, "flow": map[string]any{"module": "pivot", "data": map[string]any{"voice_url": app.URL}},
	}}); status != http.StatusCreated {
		t.Fatalf("flow: %d %v", status, env)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := siptest.NewPhone(t, "udp").Call(ctx, s.SIPAddr(), "5100", siptest.CallOptions{})
	if err != nil || c.Status != 200 {
		t.Fatalf("call: %d %v", c.Status, err)
	}
	defer c.Close()
	rec := waitfor.Value(t, 15*time.Second, "the call's hangup in the call log", func() (store.CallRecord, bool) {
		rec, err := s.CallLog().GetCall(ctx, b, c.CallID())
		return rec, err == nil && strings.Contains(string(rec.Trace), `"op":"hangup"`)
	})
	var play string
	for _, line := range strings.Split(string(rec.Trace), "\n") {
		if strings.HasPrefix(line, `{"op":"play"`) {
			play = line
		}
	}
	if !strings.Contains(play, "refused by the egress policy") {
		t.Errorf("play line %q\n%s", play, rec.Trace)
	}
	select {
	case <-hit:
		t.Error("the loopback file server was asked")
	default:
	}
}

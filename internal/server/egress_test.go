package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
)

// secret is what an app on the operator's loopback answers: a tenant must
// never hear it, nor read it back through the pivot debug log.
const secret = "the operator's secret"

// loopbackApp is a TwiML app on 127.0.0.1 that says the secret, and
// records the fallback requests it gets.
type loopbackApp struct {
	*httptest.Server
	mu    sync.Mutex
	forms []string
}

func newLoopbackApp(t *testing.T) *loopbackApp {
	a := &loopbackApp{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		a.mu.Lock()
		a.forms = append(a.forms, r.URL.String()+" "+r.Form.Encode())
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, "<Response><Say>%s</Say></Response>", secret)
	}))
	t.Cleanup(a.Close)
	return a
}

// on127002 serves h on 127.0.0.2 (an address --webhook-allow lets every
// account reach), skipping the test where that address is missing.
func on127002(t *testing.T, h http.Handler) *httptest.Server {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2: %v", err)
	}
	s := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// pivotCall stores a pivot flow for number in an account and simulates a
// call to it, returning the call id and its trace as JSON text.
func pivotCall(t *testing.T, s *servertest.Server, account, token, number string, pivot map[string]any) (string, string) {
	t.Helper()
	status, env := s.Do("PUT", "/v2/accounts/"+account+"/callflows", token, map[string]any{"data": map[string]any{
		"numbers": []string{number}, "flow": map[string]any{"module": "pivot", "data": pivot},
	}})
	if status != http.StatusCreated {
		t.Fatalf("create flow %s: %d %v", number, status, env)
	}
	status, env = s.Do("POST", "/v2/accounts/"+account+"/simulate", token, map[string]any{"data": map[string]any{"to": number}})
	if status != http.StatusOK {
		t.Fatalf("simulate %s: %d %v", number, status, env)
	}
	id, _ := servertest.Lookup(env, "data.call_id").(string)
	tr, _ := json.Marshal(servertest.Lookup(env, "data.trace"))
	return id, string(tr)
}

// debugLog is the pivot debug log of a call as JSON text.
func debugLog(t *testing.T, s *servertest.Server, account, token, call string) string {
	t.Helper()
	_, raw := s.DoRaw("GET", "/v2/accounts/"+account+"/pivot/debug/"+call, token, nil, nil)
	return string(raw)
}

// TestEgressWebhooksOfATenant: a tenant's pivot cannot reach loopback by
// address or by name, the cloud metadata address, nor loopback through a
// redirect from a host it may reach; each refusal is a webhook failure
// naming the egress policy, and nothing of the target is heard or readable
// through the pivot debug log. The operator's account still reaches its
// app on loopback.
func TestEgressWebhooksOfATenant(t *testing.T) {
	t.Parallel()
	app := newLoopbackApp(t)
	redirector := on127002(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, app.URL+"/after-redirect", http.StatusFound)
	}))
	s := servertest.New(t, func(c *server.Config) {
		c.Egress.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
	})

	if _, tr := pivotCall(t, s, s.AccountID, s.Token, "1000", map[string]any{"voice_url": app.URL}); !strings.Contains(tr, secret) {
		t.Fatalf("the operator's account does not reach its loopback app: %s", tr)
	}

	b, tokenB := s.AddAccount("Tenant B")
	port := app.URL[strings.LastIndex(app.URL, ":"):]
	for i, tc := range []struct{ name, url string }{
		{"loopback address", app.URL + "/voice"},
		{"metadata address", "http://169.254.169.254/latest/meta-data/"},
		{"name resolving to loopback", "http://localhost" + port + "/voice"},
		{"redirect to loopback from an allowed host", redirector.URL + "/voice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			call, tr := pivotCall(t, s, b, tokenB, fmt.Sprint(2000+i), map[string]any{"voice_url": tc.url})
			if strings.Contains(tr, secret) {
				t.Errorf("tenant heard the target: %s", tr)
			}
			if !strings.Contains(tr, `"op":"webhook"`) || !strings.Contains(tr, "refused by the egress policy") || !strings.Contains(tr, `"code":11200`) {
				t.Errorf("trace does not say the egress policy refused (11200): %s", tr)
			}
			if dbg := debugLog(t, s, b, tokenB, call); strings.Contains(dbg, secret) || !strings.Contains(dbg, "egress policy") {
				t.Errorf("pivot debug: %s", dbg)
			}
		})
	}
	t.Run("webhook module", func(t *testing.T) {
		status, env := s.Do("PUT", "/v2/accounts/"+b+"/callflows", tokenB, map[string]any{"data": map[string]any{
			"numbers": []string{"2100"}, "flow": map[string]any{"module": "webhook", "data": map[string]any{"uri": app.URL + "/hook"}},
		}})
		if status != http.StatusCreated {
			t.Fatalf("create flow: %d %v", status, env)
		}
		status, env = s.Do("POST", "/v2/accounts/"+b+"/simulate", tokenB, map[string]any{"data": map[string]any{"to": "2100"}})
		if status != http.StatusOK {
			t.Fatalf("simulate: %d %v", status, env)
		}
		// The call's end waits for the request, so its record is kept.
		call, _ := servertest.Lookup(env, "data.call_id").(string)
		if dbg := debugLog(t, s, b, tokenB, call); !strings.Contains(dbg, "refused by the egress policy") {
			t.Errorf("webhook module's record: %s", dbg)
		}
	})
	app.mu.Lock()
	n := len(app.forms)
	app.mu.Unlock()
	if n != 1 {
		t.Errorf("the loopback app got %d requests, want only the operator's", n)
	}
}

// TestEgressAccountSetting: the operator lets one account reach a private
// network (PATCH …/accounts/{id} egress_allow); the account itself cannot,
// and the setting survives a restart.
func TestEgressAccountSetting(t *testing.T) {
	t.Parallel()
	app := newLoopbackApp(t)
	s := servertest.New(t)
	b, tokenB := s.AddAccount("Tenant B")
	body := map[string]any{"data": map[string]any{"egress_allow": []string{"127.0.0.1"}}}
	if status, env := s.Do("PATCH", "/v2/accounts/"+b, tokenB, body); status != http.StatusForbidden {
		t.Fatalf("tenant set its own egress: %d %v", status, env)
	}
	if status, env := s.Do("PATCH", "/v2/accounts/"+b, s.Token, map[string]any{"data": map[string]any{"egress_allow": []string{"nope"}}}); status != http.StatusBadRequest {
		t.Errorf("bad network: %d %v", status, env)
	}
	if _, tr := pivotCall(t, s, b, tokenB, "3000", map[string]any{"voice_url": app.URL}); strings.Contains(tr, secret) {
		t.Fatalf("reached loopback before the operator allowed it: %s", tr)
	}
	if status, env := s.Do("PATCH", "/v2/accounts/"+b, s.Token, body); status != http.StatusOK {
		t.Fatalf("operator set egress_allow: %d %v", status, env)
	}
	if _, tr := pivotCall(t, s, b, tokenB, "3001", map[string]any{"voice_url": app.URL}); !strings.Contains(tr, secret) {
		t.Errorf("allowed account does not reach 127.0.0.1: %s", tr)
	}
	s.Restart()
	if _, tr := pivotCall(t, s, b, tokenB, "3002", map[string]any{"voice_url": app.URL}); !strings.Contains(tr, secret) {
		t.Errorf("after a restart the account's egress_allow is lost: %s", tr)
	}
}

// TestEgressCredentialsRedacted: user:password in a webhook URL is never
// in the trace, the debug log nor the fallback's ErrorUrl.
func TestEgressCredentialsRedacted(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var fallback []string
	fb := on127002(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		fallback = append(fallback, r.Form.Encode())
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, "<Response><Say>fallback</Say></Response>")
	}))
	s := servertest.New(t, func(c *server.Config) {
		c.Egress.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
	})
	b, tokenB := s.AddAccount("Tenant B")
	call, tr := pivotCall(t, s, b, tokenB, "4000", map[string]any{
		"voice_url": "http://alice:hunter2@127.0.0.1:1/voice", "fallback_url": fb.URL + "/fallback", "method": "post"})
	if strings.Contains(tr, "hunter2") || !strings.Contains(tr, "alice:***@") || !strings.Contains(tr, "fallback") {
		t.Errorf("trace: %s", tr)
	}
	if dbg := debugLog(t, s, b, tokenB, call); strings.Contains(dbg, "hunter2") {
		t.Errorf("debug log keeps the password: %s", dbg)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(fallback) != 1 || strings.Contains(fallback[0], "hunter2") || !strings.Contains(fallback[0], "Error-Url=") {
		t.Errorf("fallback requests: %q", fallback)
	}
}

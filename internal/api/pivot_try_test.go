package api_test

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

const pivotTry = "/v2/accounts/{account}/pivot/try"

// customer is a customer web server for Try it: it answers each path as
// told and keeps what each request carried.
type customer struct {
	*httptest.Server
	hits atomic.Int32
	mu   sync.Mutex
	seen []url.Values // each request's parameters (query or form)
	// release lets the slow path answer (closed when the test ends).
	release chan struct{}
}

func newCustomer(t *testing.T) *customer {
	c := &customer{release: make(chan struct{})}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		_ = r.ParseForm()
		c.mu.Lock()
		c.seen = append(c.seen, r.Form)
		c.mu.Unlock()
		switch r.URL.Path {
		case "/good":
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, "<?xml version=\"1.0\"?>\n<Response>\n  <Say>Hello from the app.</Say>\n</Response>\n")
		case "/bad-xml":
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, "<Response>\n  <Say>Unclosed\n  <Hangup/>\n</Response>\n")
		case "/unsupported":
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, "<Response><Say>Hi</Say><Pay/><say>lower</say></Response>")
		case "/kazoo":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"module":"tts","data":{"text":"Hello"}}`)
		case "/kazoo-bad":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "{\n\"module\": \"tts\",\n\"data\": {\"text\": }\n}")
		case "/kazoo-unknown":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"module":"no_such_module","data":{}}`)
		case "/xml-as-json":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "<Response><Say>Hi</Say></Response>")
		case "/xml-as-text":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "<Response><Say>Hi</Say></Response>")
		case "/error":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/moved":
			http.Redirect(w, r, "/good", http.StatusFound)
		case "/slow":
			select {
			case <-c.release:
			case <-r.Context().Done():
			}
		case "/big":
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, "<Response><Say>"+strings.Repeat("la ", 6000)+"</Say></Response>")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() { close(c.release); c.Close() })
	return c
}

// findings returns a try's findings as "severity: message" lines.
func findings(t testing.TB, r servertest.Response) []string {
	t.Helper()
	var out []string
	list, _ := servertest.Lookup(r.JSON(t), "data.findings").([]any)
	for _, f := range list {
		m := f.(map[string]any)
		line := m["severity"].(string) + ": " + m["message"].(string)
		if l, ok := m["line"].(float64); ok {
			line += fmt.Sprintf(" @%d", int(l))
		}
		out = append(out, line)
	}
	return out
}

// hasFinding checks that some finding starts with severity and holds each
// of parts.
func hasFinding(severity string, parts ...string) func(t testing.TB, s *servertest.Server, r servertest.Response) {
	return func(t testing.TB, s *servertest.Server, r servertest.Response) {
		t.Helper()
		for _, f := range findings(t, r) {
			if !strings.HasPrefix(f, severity+": ") {
				continue
			}
			all := true
			for _, p := range parts {
				all = all && strings.Contains(f, p)
			}
			if all {
				return
			}
		}
		t.Errorf("no %s finding with %q in %q", severity, parts, findings(t, r))
	}
}

func try(u, format string, extra ...string) map[string]any {
	d := map[string]any{"voice_url": u, "req_format": format}
	for i := 0; i+1 < len(extra); i += 2 {
		d[extra[i]] = extra[i+1]
	}
	return data(d)
}

func TestPivotTry(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	c := newCustomer(t)
	okNoFindings := func(t testing.TB, s *servertest.Server, r servertest.Response) {
		t.Helper()
		equalAt(t, r, "data.ok", true)
		if _, ok := servertest.Lookup(r.JSON(t), "data.findings").([]any); !ok {
			t.Errorf("findings is not a list: %s", r.Body)
		}
		if f := findings(t, r); len(f) != 0 {
			t.Errorf("findings %q, want none", f)
		}
	}
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "good TwiML", Method: "POST", URL: pivotTry, Body: try(c.URL+"/good", "twiml"), ExpectedStatus: 200,
			ExpectedContent: []string{`"kind":"twiml"`, `Hello from the app.`, `"status":200`, `"content_type":"text/xml"`, `"CallSid":"try-`},
			After:           okNoFindings},
		{Name: "a URL with a query", Method: "POST", URL: pivotTry, Body: try(c.URL+"/good?x=1", "twiml"), ExpectedStatus: 200,
			ExpectedContent: []string{`"kind":"twiml"`}, After: okNoFindings},
		{Name: "good Kazoo JSON, POSTed as JSON", Method: "POST", URL: pivotTry, Body: try(c.URL+"/kazoo", "kazoo", "method", "post", "req_body_format", "json"),
			ExpectedStatus: 200, ExpectedContent: []string{`"kind":"kazoo"`, `"Call-ID":"try-`, `"method":"POST"`}, After: okNoFindings},
		{Name: "bad XML: the line", Method: "POST", URL: pivotTry, Body: try(c.URL+"/bad-xml", "twiml"), ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				equalAt(t, r, "data.ok", false)
				hasFinding("error", "cannot be run", "not well-formed", " @")(t, s, r)
			}},
		{Name: "unsupported and misspelt verbs", Method: "POST", URL: pivotTry, Body: try(c.URL+"/unsupported", "twiml"), ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				equalAt(t, r, "data.ok", true)
				hasFinding("warning", "<Pay>", "not supported")(t, s, r)
				hasFinding("warning", "<say>", "case-sensitive")(t, s, r)
			}},
		{Name: "Kazoo JSON with TwiML chosen", Method: "POST", URL: pivotTry, Body: try(c.URL+"/kazoo", "twiml"), ExpectedStatus: 200,
			After: hasFinding("warning", "Kazoo JSON", "Format is TwiML")},
		{Name: "TwiML with Kazoo chosen", Method: "POST", URL: pivotTry, Body: try(c.URL+"/good", "kazoo"), ExpectedStatus: 200,
			After: hasFinding("warning", "TwiML", "Format is Kazoo JSON")},
		{Name: "bad JSON: the line", Method: "POST", URL: pivotTry, Body: try(c.URL+"/kazoo-bad", "kazoo"), ExpectedStatus: 200,
			After: hasFinding("error", "JSON cannot be read", "@3")},
		{Name: "unknown module", Method: "POST", URL: pivotTry, Body: try(c.URL+"/kazoo-unknown", "kazoo"), ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				equalAt(t, r, "data.ok", false)
				if f := findings(t, r); len(f) == 0 {
					t.Errorf("no finding for an unknown module")
				}
			}},
		{Name: "XML sent as application/json", Method: "POST", URL: pivotTry, Body: try(c.URL+"/xml-as-json", "twiml"), ExpectedStatus: 200,
			After: hasFinding("error", "Content-Type", "application/json", "text/xml")},
		{Name: "XML sent as text/plain", Method: "POST", URL: pivotTry, Body: try(c.URL+"/xml-as-text", "twiml"), ExpectedStatus: 200,
			After: hasFinding("warning", "Content-Type", "text/plain")},
		{Name: "HTTP 500", Method: "POST", URL: pivotTry, Body: try(c.URL+"/error", "twiml"), ExpectedStatus: 200,
			ExpectedContent: []string{`"status":500`, `boom`}, After: hasFinding("error", "HTTP 500", "If the server fails")},
		{Name: "404", Method: "POST", URL: pivotTry, Body: try(c.URL+"/nothing", "twiml"), ExpectedStatus: 200,
			After: hasFinding("error", "HTTP 404")},
		{Name: "redirect followed and said", Method: "POST", URL: pivotTry, Body: try(c.URL+"/moved", "twiml"), ExpectedStatus: 200,
			ExpectedContent: []string{`"final_url":"` + c.URL + `/good"`, `Hello from the app.`}, After: hasFinding("info", "redirected", "/good")},
		{Name: "slow: time-limited", Method: "POST", URL: pivotTry, Body: data(map[string]any{"voice_url": c.URL + "/slow", "req_format": "twiml", "req_timeout_ms": 300}),
			ExpectedStatus: 200, After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				equalAt(t, r, "data.ok", false)
				equalAt(t, r, "data.status", 0.0)
				hasFinding("error", "No answer within the time limit")(t, s, r)
			}},
		{Name: "big: body cut", Method: "POST", URL: pivotTry, Body: try(c.URL+"/big", "twiml"), ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				equalAt(t, r, "data.truncated", true)
				if b := servertest.Lookup(r.JSON(t), "data.body").(string); len(b) > 8<<10 {
					t.Errorf("body shown is %d bytes", len(b))
				}
			}},
		{Name: "no URL", Method: "POST", URL: pivotTry, Body: try("", "twiml"), ExpectedStatus: 400, After: refusedAt("voice_url", "required")},
		{Name: "not http", Method: "POST", URL: pivotTry, Body: try("ftp://example.com/x", "twiml"), ExpectedStatus: 400, After: refusedAt("voice_url", "pattern")},
		{Name: "bad format", Method: "POST", URL: pivotTry, Body: try(c.URL+"/good", "xml"), ExpectedStatus: 400, After: refusedAt("req_format", "enum")},
		{Name: "bad method", Method: "POST", URL: pivotTry, Body: try(c.URL+"/good", "twiml", "method", "delete"), ExpectedStatus: 400, After: refusedAt("method", "enum")},
		{Name: "not an object", Method: "POST", URL: pivotTry, Body: `{"data": "x"}`, ExpectedStatus: 400},
		{Name: "stranger", Method: "POST", URL: pivotTry, Token: "-", Body: try(c.URL+"/good", "twiml"), ExpectedStatus: 401},
	})
}

// TestPivotTryEgress: a tenant's try goes only where its calls' webhooks
// may, loopback and cloud metadata refused before anything is sent, and
// no account tries through another's.
func TestPivotTryEgress(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	c := newCustomer(t)
	idB, tokB := s.AddAccount("tenant b")
	_, tokC := s.AddAccount("tenant c")
	s.Set("b", idB)
	s.Set("token_b", tokB)
	s.Set("token_c", tokC)
	tenantTry := "/v2/accounts/{b}/pivot/try"
	before := c.hits.Load()
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "tenant to loopback", Method: "POST", URL: tenantTry, Token: "{token_b}", Body: try(c.URL+"/good", "twiml"), ExpectedStatus: 200,
			NotExpectedContent: []string{"Hello from the app."},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				equalAt(t, r, "data.ok", false)
				hasFinding("error", "may not be reached from this account")(t, s, r)
			}},
		{Name: "tenant to cloud metadata", Method: "POST", URL: tenantTry, Token: "{token_b}", Body: try("http://169.254.169.254/latest/meta-data/", "twiml"),
			ExpectedStatus: 200, After: hasFinding("error", "may not be reached from this account", "169.254.169.254")},
		{Name: "the operator's token on the tenant's path: the tenant's policy", Method: "POST", URL: tenantTry, Body: try(c.URL+"/good", "twiml"),
			ExpectedStatus: 200, After: hasFinding("error", "may not be reached from this account")},
		{Name: "loopback spelt as an IPv4-mapped address", Method: "POST", URL: tenantTry, Token: "{token_b}",
			Body: try("http://[::ffff:127.0.0.1]:1/x", "twiml"), ExpectedStatus: 200, After: hasFinding("error", "may not be reached")},
		{Name: "another tenant's path", Method: "POST", URL: tenantTry, Token: "{token_c}", Body: try(c.URL+"/good", "twiml"), ExpectedStatus: 403},
		{Name: "the operator's path from a tenant", Method: "POST", URL: pivotTry, Token: "{token_b}", Body: try(c.URL+"/good", "twiml"), ExpectedStatus: 403},
	})
	if n := c.hits.Load() - before; n != 0 {
		t.Errorf("the customer server got %d requests from refused tries", n)
	}
}

// TestPivotTryParamsMatchACall holds Try it's parameter names to what a
// simulated call's Pivot block sends, in both formats.
func TestPivotTryParamsMatchACall(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	c := newCustomer(t)
	for i, format := range []string{"twiml", "kazoo"} {
		number := []string{"7001", "7002"}[i]
		flow := map[string]any{"numbers": []string{number}, "flow": map[string]any{
			"module": "pivot", "data": map[string]any{"voice_url": c.URL + "/good", "req_format": format, "method": "post"}}}
		if st, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, data(flow)); st != 201 {
			t.Fatalf("flow: %d %v", st, env)
		}
		c.mu.Lock()
		c.seen = nil
		c.mu.Unlock()
		if st, env := s.Do("POST", "/v2/accounts/"+s.AccountID+"/simulate", s.Token, data(map[string]any{"to": number})); st != 200 {
			t.Fatalf("simulate: %d %v", st, env)
		}
		if st, env := s.Do("POST", "/v2/accounts/"+s.AccountID+"/pivot/try", s.Token, try(c.URL+"/good", format, "method", "post")); st != 200 {
			t.Fatalf("try: %d %v", st, env)
		}
		c.mu.Lock()
		seen := slices.Clone(c.seen)
		c.mu.Unlock()
		if len(seen) < 2 {
			t.Fatalf("%s: %d requests seen, want the call's and the try's", format, len(seen))
		}
		callKeys := slices.Sorted(maps.Keys(seen[0]))
		tryKeys := slices.Sorted(maps.Keys(seen[len(seen)-1]))
		if !slices.Equal(callKeys, tryKeys) {
			t.Errorf("%s: a call sends %v, Try it sends %v", format, callKeys, tryKeys)
		}
	}
}

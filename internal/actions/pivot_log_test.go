package actions_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call/sim"
)

// Every webhook exchange is visible in full (the Pivot debug view reads
// the call log; the trace's webhook line shows the parameters): the
// logged request is what the customer's server received, header for
// header and body byte for byte, and the logged answer is what it sent.
// Form, JSON and GET requests, the last redirected: one record holds the
// first request and the final answer.
func TestPivotExchangeLoggedInFull(t *testing.T) {
	t.Parallel()
	const doc = `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response><Say voice=\"alice\">Hello &amp; welcome</Say></Response>"
	for _, tc := range []struct {
		name string
		data map[string]any
		path string // where the first request went
	}{
		{"form POST", map[string]any{"method": "POST", "req_format": "twiml"}, "/start"},
		{"JSON POST", map[string]any{"method": "POST", "req_format": "kazoo", "req_body_format": "json"}, "/start"},
		{"GET, redirected", map[string]any{"method": "GET", "req_format": "twiml", "voice_url": "{{base}}/moved?tenant=a%20b"}, "/moved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := map[string]any{"voice_url": "{{base}}/start?tenant=a%20b"}
			for k, v := range tc.data {
				data[k] = v
			}
			c := actionstest.NewCustomer(t, map[string][]actionstest.Reply{
				"/start": {{Type: "text/xml; charset=utf-8", Body: doc}},
				"/moved": {{Status: http.StatusFound, Location: "{{base}}/start?tenant=a%20b"}},
			})
			log := &actionstest.CallLog{}
			deps := actionstest.Deps()
			deps.CallLog = log
			r := runCall(t, compileFlow(t, pivotNode(expand(data, c.URL), nil)), actionstest.Options{Deps: deps})
			sim.AssertOps(t, r.Trace, "module", "webhook", "answer", "say", "hangup")

			hooks := log.Webhooks()
			if len(hooks) != 1 {
				t.Fatalf("%d exchanges logged, want 1", len(hooks))
			}
			h, got := hooks[0], c.Request(t, tc.path, 0)
			if h.Method != got.Method || h.Status != http.StatusOK || h.Error != "" || h.CallID != "call-1" || h.Iteration != 1 {
				t.Errorf("logged %s status %d error %q call %s iteration %d; server got %s", h.Method, h.Status, h.Error, h.CallID, h.Iteration, got.Method)
			}
			if h.URL != got.URL {
				t.Errorf("logged URL %q, server got %q", h.URL, got.URL)
			}
			if h.RequestBody != string(got.Body) {
				t.Errorf("logged body %q\nserver got  %q", h.RequestBody, got.Body)
			}
			for _, k := range []string{"User-Agent", "Accept", "X-Twilio-Signature", "X-Switchboard-Signature", "X-Switchboard-Timestamp"} {
				if h.RequestHeaders[k] == "" {
					t.Errorf("request header %s not logged (%v)", k, h.RequestHeaders)
				}
			}
			if got.Method == "POST" && h.RequestHeaders["Content-Type"] == "" {
				t.Errorf("Content-Type not logged (%v)", h.RequestHeaders)
			}
			for k, v := range h.RequestHeaders {
				if sent := got.Header.Get(k); sent != v {
					t.Errorf("logged %s %q, server got %q", k, v, sent)
				}
			}
			if h.ResponseBody != doc || h.ResponseHeaders["content-type"] != "text/xml; charset=utf-8" || h.ResponseHeaders["content-length"] == "" {
				t.Errorf("logged answer %q, headers %v", h.ResponseBody, h.ResponseHeaders)
			}

			// The trace's line: every parameter the server got, as it
			// got it (but the voice_url's own query).
			params, _ := r.Line(t, "webhook", 0)["params"].(map[string]any)
			traced := url.Values{}
			actionstest.FlattenJSON(traced, "", params)
			n := 0
			for k := range got.Values {
				if k == "tenant" || k == "bodySHA256" { // the URL's own, the signature's
					continue
				}
				n++
				if traced.Get(k) != got.Param(k) {
					t.Errorf("traced %s = %q, server got %q", k, traced.Get(k), got.Param(k))
				}
			}
			if n < 10 || len(traced) != n {
				t.Errorf("traced %d parameters, server got %d (%v)", len(traced), n, params)
			}
		})
	}
}

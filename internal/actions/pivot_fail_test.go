package actions_test

// Pivot failures: the fallback URL, the "_" child, the apology, the
// per-call document limit; and what runs at the call's end (cdr_url).

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/pivot"
)

// ---- failures ----

// failure is one way the customer server can fail the first request.
type failure struct {
	name  string
	reply actionstest.Reply
	data  map[string]any // pivot data added
	// closed makes the voice_url point at a server that is gone.
	closed bool
	code   int
	status int // the webhook line's HTTP status
	// fetched is the kind of a document that was retrieved (its webhook
	// line has no error) but could not be run.
	fetched string
}

func failures() []failure {
	return []failure{
		{name: "connection refused", closed: true, code: 11205, status: 0},
		{name: "connection refused, no retry", closed: true, data: map[string]any{"retries": 0}, code: 11205, status: 0},
		{name: "timeout", reply: actionstest.Reply{Hold: true}, data: map[string]any{"req_timeout_ms": 200}, code: 11200, status: 0},
		{name: "HTTP 500", reply: actionstest.Reply{Status: 500, Type: "text/xml", Body: `<Response><Say>server error page</Say></Response>`}, code: 11217, status: 500},
		{name: "HTTP 404", reply: actionstest.Reply{Status: 404, Type: "text/html", Body: "not found"}, code: 11217, status: 404},
		{name: "HTTP 204", reply: actionstest.Reply{Status: 204, Type: "none"}, code: 11770, status: 204},
		{name: "empty body", reply: actionstest.Reply{Type: "text/xml", Body: ""}, code: 11770, status: 200},
		{name: "white space only", reply: actionstest.Reply{Type: "application/json", Body: " \n "}, code: 11770, status: 200},
		{name: "XML not well-formed", reply: actionstest.Reply{Type: "text/xml", Body: `<Response><Say>unclosed</Response>`}, code: 12100, status: 200},
		{name: "XML without Response", reply: actionstest.Reply{Type: "application/xml", Body: `<Document><Say>x</Say></Document>`}, code: 12100, status: 200},
		{name: "HTML page", reply: actionstest.Reply{Type: "text/html", Body: `<html><body>hello</body></html>`}, code: 12100, status: 200},
		{name: "invalid JSON", reply: actionstest.Reply{Type: "application/json", Body: `{"module":"tts",`}, code: 12100, status: 200},
		{name: "JSON array", reply: actionstest.Reply{Type: "application/json", Body: `[{"module":"tts"}]`}, code: 12100, status: 200},
		{name: "unknown content type", reply: actionstest.Reply{Type: "image/png", Body: "\x89PNG"}, code: 12300, status: 200},
		{name: "Kazoo JSON missing required data", reply: actionstest.KazooAnswer(`{"module":"tts","data":{}}`), code: 12200, status: 200, fetched: "kazoo"},
		{name: "Kazoo JSON unknown module", reply: actionstest.KazooAnswer(`{"module":"no_such_module","data":{}}`), code: 12200, status: 200, fetched: "kazoo"},
		{name: "Kazoo JSON bad child", reply: actionstest.KazooAnswer(`{"module":"tts","data":{"text":"x"},"children":{"_":{"module":"play","data":{"id":7}}}}`), code: 12200, status: 200, fetched: "kazoo"},
		{name: "TwiML bad version", reply: actionstest.Reply{Type: "text/xml", Body: `<Response version="2099-01-01"><Say>x</Say></Response>`}, code: 12101, status: 200, fetched: "twiml"},
	}
}

// setUp sets the failure up: the voice_url, and the docs served.
func (f failure) setUp(t *testing.T, docs map[string][]actionstest.Reply) (voiceURL string, c *actionstest.Customer) {
	t.Helper()
	if f.closed {
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		voiceURL = gone.URL + "/start"
	} else {
		docs = maps.Clone(docs)
		if docs == nil {
			docs = map[string][]actionstest.Reply{}
		}
		docs["/start"] = []actionstest.Reply{f.reply}
	}
	c = actionstest.NewCustomer(t, docs)
	if voiceURL == "" {
		voiceURL = c.URL + "/start"
	}
	return voiceURL, c
}

func TestFailures(t *testing.T) {
	t.Parallel()
	for _, f := range failures() {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			for _, with := range []string{"nothing", "fallback_url", "child", "fallback_url and child"} {
				t.Run(with, func(t *testing.T) {
					t.Parallel()
					voiceURL, c := f.setUp(t, map[string][]actionstest.Reply{
						"/fallback": {actionstest.Doc(`<Say>fallback speaking</Say>`)},
					})
					data := map[string]any{"voice_url": voiceURL, "method": "POST", "req_format": "twiml"}
					maps.Copy(data, f.data)
					var children map[string]any
					if strings.Contains(with, "child") {
						children = map[string]any{"_": ttsNode("child speaking")}
					}
					if strings.Contains(with, "fallback") {
						data["fallback_url"] = c.URL + "/fallback"
					}
					r := runCall(t, compileFlow(t, pivotNode(data, children)), actionstest.Options{})

					// The failed exchange, then an error line with its code.
					wl := r.Line(t, "webhook", 0)
					actionstest.WantFields(t, wl, map[string]any{"url": voiceURL, "status": f.status, "method": "POST"})
					if f.fetched != "" {
						actionstest.WantFields(t, wl, map[string]any{"response": f.fetched, "error": actionstest.NoField{}})
					} else if e, _ := wl["error"].(string); e == "" || wl["response"] != nil {
						t.Errorf("webhook line without an error, or with a response: %v", wl)
					}
					el := r.Line(t, "error", 0)
					actionstest.WantFields(t, el, map[string]any{"code": f.code, "url": voiceURL})
					if m, _ := el["message"].(string); !strings.Contains(m, fmt.Sprint(f.code)) && f.code != 12200 {
						t.Errorf("error message %q does not name %d", m, f.code)
					}

					switch with {
					case "nothing":
						sim.AssertOps(t, r.Trace, "module", "webhook", "error", "say", "hangup")
						actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": apology, "voice": "woman", "language": "en-US", "loop": 1})
						actionstest.WantFields(t, r.Line(t, "hangup", 0), map[string]any{"cause": "NORMAL_TEMPORARY_FAILURE", "by": "switchboard"})
						if r.Result.Err == nil {
							t.Error("the call's result has no error")
						}
					case "child":
						sim.AssertOps(t, r.Trace, "module", "webhook", "error", "module", "answer", "say", "hangup")
						actionstest.WantFields(t, r.Line(t, "module", 1), map[string]any{"module": "tts", "node": "flow.children._"})
						actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "child speaking"})
						actionstest.WantFields(t, r.Line(t, "hangup", 0), map[string]any{"cause": "NORMAL_CLEARING", "by": "switchboard"})
					default: // the fallback saves the call; the child is not used
						sim.AssertOps(t, r.Trace, "module", "webhook", "error", "webhook", "answer", "say", "hangup")
						fb := c.Request(t, "/fallback", 0)
						actionstest.WantParams(t, fb, map[string]string{
							"ErrorCode": fmt.Sprint(f.code), "ErrorUrl": voiceURL, "CallSid": testCallID,
						})
						actionstest.WantFields(t, r.Line(t, "webhook", 1), map[string]any{"url": c.URL + "/fallback", "status": 200, "iteration": 2})
						actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "fallback speaking"})
						actionstest.WantFields(t, r.Line(t, "hangup", 0), map[string]any{"cause": "NORMAL_CLEARING", "by": "switchboard"})
					}
				})
			}
		})
	}
}

func TestFailureAttempts(t *testing.T) {
	t.Parallel()
	// The server sees one request per failure, except a timeout (the
	// request reached it) and no connection at all (it saw nothing).
	for _, f := range failures() {
		if f.closed {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			voiceURL, c := f.setUp(t, nil)
			data := map[string]any{"voice_url": voiceURL, "method": "GET", "req_format": "twiml"}
			maps.Copy(data, f.data)
			runCall(t, compileFlow(t, pivotNode(data, nil)), actionstest.Options{})
			if got := c.Paths(); len(got) != 1 || got[0] != "GET /start" {
				t.Errorf("requests %q, want one GET /start", got)
			}
		})
	}
}

func TestFailureMidCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		data     map[string]any
		children map[string]any
		ops      []string
		check    func(t *testing.T, r *actionstest.Call, c *actionstest.Customer)
	}{
		{
			name: "an action that fails ends with the apology",
			ops:  []string{"module", "webhook", "answer", "gather", "webhook", "error", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "webhook", 1), map[string]any{"url": c.URL + "/broken", "status": 500})
				actionstest.WantFields(t, r.Line(t, "error", 0), map[string]any{"code": 11217, "url": c.URL + "/broken"})
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": apology})
			},
		},
		{
			name: "a fallback asked mid-call gets ErrorCode and ErrorUrl",
			data: map[string]any{"fallback_url": "{{base}}/fallback"},
			ops:  []string{"module", "webhook", "answer", "gather", "webhook", "error", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantParams(t, c.Request(t, "/fallback", 0), map[string]string{
					"ErrorCode": "11217", "ErrorUrl": c.URL + "/broken", "CallStatus": "in-progress", "Digits": actionstest.Absent,
				})
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "fallback speaking"})
			},
		},
		{
			name: "the fallback is asked once per call",
			data: map[string]any{"fallback_url": "{{base}}/fallback-redirects"},
			ops:  []string{"module", "webhook", "answer", "gather", "webhook", "error", "webhook", "redirect", "webhook", "error", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "error", 1), map[string]any{"code": 11217, "url": c.URL + "/broken"})
				if n := len(c.Requests()); n != 4 {
					t.Errorf("requests %q", c.Paths())
				}
			},
		},
		{
			name:     "the failure branch mid-call",
			children: map[string]any{"_": ttsNode("child speaking")},
			ops:      []string{"module", "webhook", "answer", "gather", "webhook", "error", "module", "say", "hangup"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := map[string]any{"voice_url": "{{base}}/start", "method": "POST", "req_format": "twiml"}
			maps.Copy(data, tc.data)
			r, c := runPivot(t, map[string][]actionstest.Reply{
				"/start":              {actionstest.Doc(`<Gather numDigits="1" action="/broken"/>`)},
				"/broken":             {{Status: 500, Body: "oops"}},
				"/fallback":           {actionstest.Doc(`<Say>fallback speaking</Say>`)},
				"/fallback-redirects": {actionstest.Doc(`<Redirect>/broken</Redirect>`)},
			}, data, tc.children, actionstest.Options{Script: sim.Script{Inputs: []string{"3"}}})
			sim.AssertOps(t, r.Trace, tc.ops...)
			if tc.check != nil {
				tc.check(t, r, c)
			}
		})
	}
}

func TestDocumentLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   engine.Config
		limit int
		msg   string
	}{
		{"default: the idle guard, 10 documents with nothing said", engine.Config{}, 10, "with nothing said, played or gathered"},
		{"a hard cap of 3", engine.Config{MaxDocuments: 3}, 3, "more than 3 webhook documents"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A Redirect loop ends at the limit, even with a fallback (a
			// limit is not the server's failure) or a child.
			r, c := runPivot(t, map[string][]actionstest.Reply{
				"/loop":     {actionstest.Doc(`<Redirect>loop</Redirect>`)},
				"/fallback": {actionstest.Doc(`<Say>fallback</Say>`)},
			}, map[string]any{"voice_url": "{{base}}/loop", "method": "POST", "req_format": "twiml", "fallback_url": "{{base}}/fallback"},
				map[string]any{"_": ttsNode("child")}, actionstest.Options{Config: tc.cfg})
			var want []string
			want = append(want, "module")
			for range tc.limit {
				want = append(want, "webhook", "redirect")
			}
			want = append(want, "error", "say", "hangup")
			sim.AssertOps(t, r.Trace, want...)
			if n := len(c.Requests()); n != tc.limit {
				t.Errorf("%d requests, want %d", n, tc.limit)
			}
			actionstest.WantFields(t, r.Line(t, "webhook", tc.limit-1), map[string]any{"iteration": tc.limit})
			el := r.Line(t, "error", 0)
			actionstest.WantFields(t, el, map[string]any{"code": 11200, "url": c.URL + "/loop"})
			if m := fmt.Sprint(el["message"]); !strings.Contains(m, tc.msg) {
				t.Errorf("error message %q", m)
			}
			actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": apology})
			actionstest.WantFields(t, r.Line(t, "hangup", 0), map[string]any{"cause": "NORMAL_TEMPORARY_FAILURE", "by": "switchboard"})
		})
	}
}

// TestLongIVRIsNotALoop: 30 rounds of a Gather menu, each saying
// something, run to the end: only documents with nothing heard between
// them count as a loop.
func TestLongIVRIsNotALoop(t *testing.T) {
	t.Parallel()
	const rounds = 30
	inputs := make([]string, rounds)
	for i := range inputs {
		inputs[i] = "1"
	}
	r, c := runPivot(t, map[string][]actionstest.Reply{
		"/ivr":      {actionstest.Doc(`<Gather numDigits="1" action="/ivr/next"><Say>Press one.</Say></Gather>`)},
		"/ivr/next": {actionstest.Doc(`<Say>Again.</Say><Redirect>/ivr</Redirect>`)},
	}, map[string]any{"voice_url": "{{base}}/ivr", "method": "POST", "req_format": "twiml"}, nil,
		actionstest.Options{Script: sim.Script{Inputs: inputs}})
	if n := len(c.Requests()); n < 2*rounds {
		t.Errorf("%d requests, want at least %d", n, 2*rounds)
	}
	for _, l := range r.Trace.Events() {
		if l.Op == "error" {
			t.Errorf("error line %v", l.Fields)
		}
	}
}

func TestCDR(t *testing.T) {
	t.Parallel()
	start := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	tests := []struct {
		name   string
		doc    string
		script sim.Script
		by     string
		cause  string
	}{
		{"Switchboard hangs up", `<Say>bye</Say><Hangup/>`, sim.Script{}, "switchboard", "NORMAL_CLEARING"},
		{"the caller hangs up", `<Gather/>`, sim.Script{Inputs: []string{"hangup"}}, "caller", "NORMAL_CLEARING"},
		{"rejected", `<Reject reason="busy"/>`, sim.Script{}, "switchboard", "USER_BUSY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := actionstest.NewCustomer(t, map[string][]actionstest.Reply{"/start": {actionstest.Doc(tc.doc)}, "/cdr": {{Body: "ignored"}}})
			root := compileFlow(t, pivotNode(map[string]any{
				"voice_url": c.URL + "/start", "method": "GET", "req_format": "twiml", "cdr_url": c.URL + "/cdr?k=v",
			}, nil))
			r := runCall(t, root, actionstest.Options{Script: tc.script, Start: start})
			res, tr := r.Result, r.Trace
			if res.By != tc.by || res.Cause != tc.cause {
				t.Errorf("result %+v, want by %s cause %s", res, tc.by, tc.cause)
			}
			// Posted by the time Run returns, after the hangup line.
			if got := c.Paths(); len(got) != 2 || got[1] != "POST /cdr" {
				t.Fatalf("requests %q", got)
			}
			cdr := c.Request(t, "/cdr", 0)
			if ct := cdr.Header.Get("Content-Type"); ct != pivot.ContentTypeForm {
				t.Errorf("CDR Content-Type %q", ct)
			}
			if cdr.RawQuery != "k=v" {
				t.Errorf("CDR query %q", cdr.RawQuery)
			}
			end := r.Channel.Clock().Now()
			actionstest.WantExactly(t, cdr, map[string]string{
				"CallSid": testCallID, "Call-ID": testCallID, "AccountSid": testAccountSid, "Account-ID": testAccount,
				"From": testFrom, "To": testTo, "Request": testTo, "CallStatus": "completed",
				"Hangup-Cause": tc.cause, "HangupBy": tc.by, "Direction": "inbound",
			}, "CallDuration", "Timestamp", "k")
			ts, err := time.Parse(time.RFC1123Z, cdr.Param("Timestamp"))
			if err != nil || ts.Before(start) || ts.After(end) {
				t.Errorf("Timestamp %q (%v), want between %v and %v", cdr.Param("Timestamp"), err, start, end)
			}
			if want := fmt.Sprint(int(ts.Sub(start).Seconds())); cdr.Param("CallDuration") != want {
				t.Errorf("CallDuration %q, want %s", cdr.Param("CallDuration"), want)
			}
			if sig := cdr.Header.Get("X-Twilio-Signature"); sig != pivot.TwilioSignature(testSecret, cdr.URL, cdr.Form) {
				t.Errorf("CDR X-Twilio-Signature %q does not verify", sig)
			}
			// The CDR is not a webhook document of the call.
			if n := actionstest.Count(tr, "webhook"); n != 1 {
				t.Errorf("%d webhook lines", n)
			}
		})
	}
}

func TestDebugFlag(t *testing.T) {
	t.Parallel()
	for _, debug := range []bool{false, true} {
		t.Run(fmt.Sprint(debug), func(t *testing.T) {
			t.Parallel()
			vars := engine.NewVars()
			runPivot(t, map[string][]actionstest.Reply{"/start": {actionstest.Doc(`<Hangup/>`)}},
				map[string]any{"voice_url": "{{base}}/start", "req_format": "twiml", "debug": debug}, nil, actionstest.Options{Vars: vars})
			if vars.Debug() != debug {
				t.Errorf("Vars.Debug() = %v, want %v", vars.Debug(), debug)
			}
		})
	}
}

func TestNoWebhookClient(t *testing.T) {
	t.Parallel()
	// An engine built without the webhook client (the server refuses to
	// start so, actions.Deps.Validate) fails the call cleanly.
	root := compileFlow(t, pivotNode(map[string]any{"voice_url": "http://127.0.0.1:1/x"}, map[string]any{"_": ttsNode("never")}))
	r := runCall(t, root, actionstest.Options{Deps: &actions.Deps{}})
	res := r.Result
	sim.AssertOps(t, r.Trace, "module", "error", "say", "hangup")
	if res.Err == nil || !strings.Contains(res.Err.Error(), "no webhook client") {
		t.Errorf("result %+v", res)
	}
}

package actions_test

// Pivot against a scripted customer web server (actionstest.Customer):
// the call and flow shared by the pivot_*_test.go files and
// queue_test.go, then the request (parameters, methods, body formats,
// signatures) and answer (content types, HTTP redirects) tests; the
// failures are in pivot_fail_test.go.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/pivot"
)

// ---- the call ----

const (
	testCallID  = "call-1"
	testAccount = "acct"
	testSecret  = "secret"
	testFrom    = "+15551230001"
	testTo      = "+15559870002"
	apology     = "We are sorry, an application error has occurred. Goodbye."
)

// testAccountSid is AccountSid as Twilio shapes it, derived from testAccount.
var testAccountSid = call.AccountSid(testAccount)

func testInfo() call.Info {
	return call.Info{
		ID: testCallID, AccountID: testAccount,
		From: testFrom, FromName: "Alice", FromRealm: "caller.example.com",
		To: testTo, ToRealm: "sb.example.com", Request: testTo, Direction: "inbound",
		SIPHeaders: map[string]string{"X-Ticket": "T-42"},
	}
}

// ---- the flow ----

func pivotNode(data map[string]any, children map[string]any) map[string]any {
	n := map[string]any{"module": "pivot", "data": data}
	if children != nil {
		n["children"] = children
	}
	return n
}

func ttsNode(text string) map[string]any {
	return map[string]any{"module": "tts", "data": map[string]any{"text": text}}
}

// compileFlow prepares a flow document whose first block is node, as a
// saved flow is (schema defaults applied).
func compileFlow(t *testing.T, node map[string]any) *engine.Node {
	t.Helper()
	b, err := json.Marshal(map[string]any{"numbers": []string{testTo}, "flow": node})
	if err != nil {
		t.Fatal(err)
	}
	return actionstest.Prepare(t, string(b))
}

// expand replaces "{{base}}" in the string values of data.
func expand(data map[string]any, base string) map[string]any {
	out := make(map[string]any, len(data))
	for k, v := range data {
		if s, ok := v.(string); ok {
			v = strings.ReplaceAll(s, "{{base}}", base)
		}
		out[k] = v
	}
	return out
}

// ---- running a call ----

// runCall runs root on a simulated call of testInfo (unless o gives one).
func runCall(t *testing.T, root *engine.Node, o actionstest.Options) *actionstest.Call {
	t.Helper()
	if o.Info.ID == "" {
		o.Info = testInfo()
	}
	return actionstest.Run(t, root, o)
}

// runPivot serves docs, runs a flow whose first block is a pivot with data
// (voice_url and the rest; "{{base}}" is the server) and children.
func runPivot(t *testing.T, docs map[string][]actionstest.Reply, data, children map[string]any, o actionstest.Options) (*actionstest.Call, *actionstest.Customer) {
	t.Helper()
	c := actionstest.NewCustomer(t, docs)
	root := compileFlow(t, pivotNode(expand(data, c.URL), children))
	return runCall(t, root, o), c
}

// pivotCase is one call through a pivot block against scripted documents.
type pivotCase struct {
	name string
	// doc is the TwiML verbs of the document at startPath; start, when
	// set, replaces it with several replies. Neither: nothing is served
	// there.
	doc   string
	start []actionstest.Reply
	// docs are the other documents served.
	docs map[string][]actionstest.Reply
	// data is added to the pivot's data.
	data     map[string]any
	children map[string]any
	script   sim.Script
	ops      []string
	check    func(t *testing.T, r *actionstest.Call, c *actionstest.Customer)
}

// runPivotCases runs each case in parallel, with its data over base (the
// pivot's data), and checks the trace's ops before the case's own check.
func runPivotCases(t *testing.T, base map[string]any, cases []pivotCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			docs := map[string][]actionstest.Reply{}
			switch {
			case tc.start != nil:
				docs[startPath] = tc.start
			case tc.doc != "":
				docs[startPath] = []actionstest.Reply{actionstest.Doc(tc.doc)}
			}
			maps.Copy(docs, tc.docs)
			data := maps.Clone(base)
			maps.Copy(data, tc.data)
			r, c := runPivot(t, docs, data, tc.children, actionstest.Options{Script: tc.script})
			sim.AssertOps(t, r.Trace, tc.ops...)
			if tc.check != nil {
				tc.check(t, r, c)
			}
		})
	}
}

// ---- the request ----

// twimlBase are the parameters of the twiml format for testInfo.
func twimlBase(status string) map[string]string {
	return map[string]string{
		"CallSid": testCallID, "AccountSid": testAccountSid, "From": testFrom, "To": testTo,
		"Caller": testFrom, "Called": testTo, "CallerName": "Alice", "CallStatus": status,
		"ApiVersion": "2010-04-01", "Direction": "inbound",
		"FromCity": "", "FromState": "", "FromZip": "", "FromCountry": "",
		"ToCity": "", "ToState": "", "ToZip": "", "ToCountry": "",
	}
}

// kazooBase are the parameters of the kazoo format for testInfo.
func kazooBase(status string) map[string]string {
	return map[string]string{
		"Account-ID": testAccount, "Api-Version": "4.x", "Call-ID": testCallID, "Call-Status": status,
		"Caller-ID-Name": "Alice", "Caller-ID-Number": testFrom, "Direction": "inbound",
		"From": testFrom, "From-Realm": "caller.example.com", "Language": "en-US",
		"Request": testTo, "Request-Realm": "sb.example.com", "To": testTo, "To-Realm": "sb.example.com",
		"Custom-SIP-Headers[X-Ticket]": "T-42",
	}
}

// wantGatherAction checks the request for TestRequestFormats' Gather
// action: the format's parameters in progress, Digits, and the action's
// own query.
func wantGatherAction(t *testing.T, r actionstest.Received, base func(status string) map[string]string) {
	t.Helper()
	want := base("in-progress")
	want["Digits"], want["step"] = "1234", "2"
	if _, twiml := want["CallSid"]; twiml {
		want["FinishedOnKey"] = ""
	}
	actionstest.WantExactly(t, r, want)
}

func TestRequestFormats(t *testing.T) {
	t.Parallel()
	const answer = `<Say>one</Say><Gather numDigits="4" action="next?step=2"/>`
	tests := []struct {
		name string
		data map[string]any
		// check the first and the second request (the Gather's action)
		check func(t *testing.T, first, second actionstest.Received)
	}{
		{
			name: "twiml GET appends after the voice_url query",
			data: map[string]any{"method": "get", "req_format": "twiml", "voice_url": "{{base}}/ivr/start?tenant=7&lang=fr"},
			check: func(t *testing.T, first, second actionstest.Received) {
				if first.Method != "GET" || len(first.Body) != 0 || first.Header.Get("Content-Type") != "" {
					t.Errorf("first request %s with Content-Type %q and body %q", first.Method, first.Header.Get("Content-Type"), first.Body)
				}
				if want := "tenant=7&lang=fr&CallSid=call-1&AccountSid=" + testAccountSid + "&"; !strings.HasPrefix(first.RawQuery, want) {
					t.Errorf("query %q, want it to start with %q", first.RawQuery, want)
				}
				want := twimlBase("ringing")
				want["tenant"], want["lang"] = "7", "fr"
				actionstest.WantExactly(t, first, want)
				// The Gather's action is requested with its own method, POST.
				if second.Method != "POST" || second.RawQuery != "step=2" {
					t.Errorf("action request %s ?%s, want POST ?step=2", second.Method, second.RawQuery)
				}
				wantGatherAction(t, second, twimlBase)
			},
		},
		{
			name: "twiml POST form",
			data: map[string]any{"method": "POST", "req_format": "twiml"},
			check: func(t *testing.T, first, second actionstest.Received) {
				if first.Method != "POST" || first.RawQuery != "" {
					t.Errorf("first request %s ?%s", first.Method, first.RawQuery)
				}
				if ct := first.Header.Get("Content-Type"); ct != pivot.ContentTypeForm {
					t.Errorf("Content-Type %q, want %q", ct, pivot.ContentTypeForm)
				}
				if !strings.HasPrefix(string(first.Body), "CallSid=call-1&AccountSid="+testAccountSid+"&From=%2B15551230001&To=%2B15559870002&Caller=") {
					t.Errorf("body %s", first.Body)
				}
				actionstest.WantExactly(t, first, twimlBase("ringing"))
				wantGatherAction(t, second, twimlBase)
			},
		},
		{
			name: "twiml POST JSON",
			data: map[string]any{"method": "post", "req_format": "twiml", "req_body_format": "json"},
			check: func(t *testing.T, first, second actionstest.Received) {
				if ct := first.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				if first.JSON["CallSid"] != testCallID || first.JSON["CallStatus"] != "ringing" || first.JSON["FromCity"] != "" {
					t.Errorf("JSON body %s", first.Body)
				}
				sum := sha256.Sum256(first.Body)
				if got := first.RawQuery; got != "bodySHA256="+hex.EncodeToString(sum[:]) {
					t.Errorf("query %q, want bodySHA256 of the body", got)
				}
				actionstest.WantExactly(t, first, twimlBase("ringing"), "bodySHA256")
				// The action has no JSON setting of its own: the block's body format.
				if ct := second.Header.Get("Content-Type"); ct != "application/json" || second.JSON["Digits"] != "1234" {
					t.Errorf("action request %s %s", ct, second.Body)
				}
			},
		},
		{
			name: "kazoo GET",
			data: map[string]any{"method": "get", "req_format": "kazoo"},
			check: func(t *testing.T, first, second actionstest.Received) {
				if first.Method != "GET" {
					t.Errorf("method %s", first.Method)
				}
				if !strings.Contains(first.RawQuery, "&Custom-SIP-Headers[X-Ticket]=T-42") {
					t.Errorf("nested object not sent as Key[Sub]=v: %q", first.RawQuery)
				}
				actionstest.WantExactly(t, first, kazooBase("ringing"))
				wantGatherAction(t, second, kazooBase)
			},
		},
		{
			name: "kazoo POST form",
			data: map[string]any{"method": "post", "req_format": "kazoo", "req_body_format": "form"},
			check: func(t *testing.T, first, second actionstest.Received) {
				if ct := first.Header.Get("Content-Type"); ct != pivot.ContentTypeForm {
					t.Errorf("Content-Type %q", ct)
				}
				actionstest.WantExactly(t, first, kazooBase("ringing"))
			},
		},
		{
			name: "kazoo POST JSON keeps objects",
			data: map[string]any{"method": "POST", "req_format": "kazoo", "req_body_format": "json"},
			check: func(t *testing.T, first, second actionstest.Received) {
				actionstest.WantExactly(t, first, kazooBase("ringing"), "bodySHA256")
				if h, ok := first.JSON["Custom-SIP-Headers"].(map[string]any); !ok || h["X-Ticket"] != "T-42" {
					t.Errorf("Custom-SIP-Headers %v, want an object", first.JSON["Custom-SIP-Headers"])
				}
				if !strings.HasPrefix(string(first.Body), `{"Account-ID":"acct","Api-Version":"4.x","Call-ID":"call-1",`) {
					t.Errorf("JSON body %s", first.Body)
				}
			},
		},
		{
			name: "schema defaults: kazoo parameters by GET",
			data: map[string]any{},
			check: func(t *testing.T, first, second actionstest.Received) {
				if first.Method != "GET" {
					t.Errorf("method %s, want GET", first.Method)
				}
				actionstest.WantExactly(t, first, kazooBase("ringing"))
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := map[string]any{"voice_url": "{{base}}/ivr/start"}
			maps.Copy(data, tc.data)
			r, c := runPivot(t, map[string][]actionstest.Reply{
				"/ivr/start": {actionstest.Doc(answer)},
				"/ivr/next":  {actionstest.Doc(`<Hangup/>`)},
			}, data, nil, actionstest.Options{Script: sim.Script{Inputs: []string{"1234"}}})
			sim.AssertOps(t, r.Trace, "module", "webhook", "answer", "say", "gather", "webhook", "hangup")
			if got := c.Paths(); len(got) != 2 {
				t.Fatalf("requests %q, want 2", got)
			}
			tc.check(t, c.Request(t, "/ivr/start", 0), c.Request(t, "/ivr/next", 0))

			// The trace's webhook line shows what was sent (not the
			// voice_url's own query, nor the signature's bodySHA256).
			first := c.Request(t, "/ivr/start", 0)
			wl := r.Line(t, "webhook", 0)
			params, _ := wl["params"].(map[string]any)
			sent := url.Values{}
			actionstest.FlattenJSON(sent, "", params)
			notParams := map[string]bool{"tenant": true, "lang": true, "bodySHA256": true}
			for k := range first.Values {
				if !notParams[k] && sent.Get(k) != first.Param(k) {
					t.Errorf("trace params %s = %q, server got %q", k, sent.Get(k), first.Param(k))
				}
			}
			for k := range sent {
				if !first.Has(k) {
					t.Errorf("trace params %s = %q, not sent", k, sent.Get(k))
				}
			}
			actionstest.WantFields(t, wl, map[string]any{"method": first.Method, "status": 200, "iteration": 1, "response": "twiml"})
		})
	}
}

func TestRequestGetNoQuery(t *testing.T) {
	t.Parallel()
	// A GET with no parameters of its own still sends them after "?".
	r, c := runPivot(t, map[string][]actionstest.Reply{"/start": {actionstest.Doc(`<Hangup/>`)}},
		map[string]any{"voice_url": "{{base}}/start", "method": "GET", "req_format": "twiml"}, nil, actionstest.Options{})
	sim.AssertOps(t, r.Trace, "module", "webhook", "answer", "hangup")
	got := c.Request(t, "/start", 0)
	if !strings.HasPrefix(got.RawQuery, "CallSid=call-1&AccountSid="+testAccountSid+"&From=%2B15551230001&") {
		t.Errorf("query %q", got.RawQuery)
	}
	actionstest.WantFields(t, r.Line(t, "webhook", 0), map[string]any{
		"method": "GET", "format": "twiml", "status": 200, "url": c.URL + "/start?" + got.RawQuery,
	})
}

func TestCallStatusAndVariables(t *testing.T) {
	t.Parallel()
	// ringing on the first request, in-progress after, even when nothing
	// answered the call yet (a leading Pause); <Set> and <Redirect><Variable>
	// values ride on every later request, and Digits only on the one after
	// the Gather.
	r, c := runPivot(t, map[string][]actionstest.Reply{
		"/1": {actionstest.Doc(`<Pause length="2"/><Set><Variable key="tier" value="gold"/></Set><Redirect method="GET">/2</Redirect>`)},
		"/2": {actionstest.Doc(`<Gather numDigits="2" action="/3"/>`)},
		"/3": {actionstest.Doc(`<Redirect><Variable key="lang" value="fr &amp; de"/>/4</Redirect>`)},
		"/4": {actionstest.Doc(`<Hangup/>`)},
	}, map[string]any{"voice_url": "{{base}}/1", "method": "POST", "req_format": "twiml"}, nil,
		actionstest.Options{Script: sim.Script{Inputs: []string{"42"}}})
	sim.AssertOps(t, r.Trace, "module", "webhook", "pause", "set", "redirect", "webhook",
		"answer", "gather", "webhook", "set", "redirect", "webhook", "hangup")
	actionstest.WantParams(t, c.Request(t, "/1", 0), map[string]string{"CallStatus": "ringing", "tier": actionstest.Absent, "Digits": actionstest.Absent})
	actionstest.WantParams(t, c.Request(t, "/2", 0), map[string]string{"CallStatus": "in-progress", "tier": "gold", "Digits": actionstest.Absent})
	actionstest.WantParams(t, c.Request(t, "/3", 0), map[string]string{"CallStatus": "in-progress", "tier": "gold", "Digits": "42"})
	actionstest.WantParams(t, c.Request(t, "/4", 0), map[string]string{"CallStatus": "in-progress", "tier": "gold", "lang": "fr & de", "Digits": actionstest.Absent})
	if c.Request(t, "/2", 0).Method != "GET" || c.Request(t, "/4", 0).Method != "POST" {
		t.Errorf("methods %q", c.Paths())
	}
	actionstest.WantFields(t, r.Line(t, "set", 0), map[string]any{"key": "tier", "value": "gold"})
	actionstest.WantFields(t, r.Line(t, "set", 1), map[string]any{"key": "lang", "value": "fr & de"})
	actionstest.WantFields(t, r.Line(t, "webhook", 3), map[string]any{"iteration": 4})
}

func TestSignatures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data map[string]any
		// formBody: the first request has a form body, which
		// X-Twilio-Signature covers besides the URL
		formBody bool
	}{
		{"GET", map[string]any{"method": "GET"}, false},
		{"POST form", map[string]any{"method": "POST"}, true},
		{"POST JSON", map[string]any{"method": "POST", "req_body_format": "json"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := map[string]any{"voice_url": "{{base}}/start?a=1", "req_format": "twiml"}
			maps.Copy(data, tc.data)
			// The second request comes ten simulated minutes later (a Dial
			// that rings 600 s): the timestamp is still the real time, or a
			// server checking it against its clock would refuse it.
			r, c := runPivot(t, map[string][]actionstest.Reply{
				"/start": {actionstest.Doc(`<Dial timeout="600" action="/after">+15550000000</Dial>`)},
				"/after": {actionstest.Doc(`<Hangup/>`)},
			}, data, nil, actionstest.Options{Script: sim.Script{Dials: []string{"no-answer"}}})
			sim.AssertOps(t, r.Trace, "module", "webhook", "answer", "dial", "webhook", "hangup")
			if r.Channel.Skipped() < 10*time.Minute {
				t.Fatalf("simulated time %v, want 10 min", r.Channel.Skipped())
			}
			for _, got := range c.Requests() {
				form := got.Form // nil for GET and JSON: the URL carries everything
				if got.Path == "/start" && (form != nil) != tc.formBody {
					t.Errorf("%s: %s with form %v", got.Path, got.Method, form)
				}
				if got.JSON != nil {
					sum := sha256.Sum256(got.Body)
					if got.Values.Get("bodySHA256") != hex.EncodeToString(sum[:]) {
						t.Errorf("%s: bodySHA256 %q does not match the body", got.Path, got.Values.Get("bodySHA256"))
					}
				}
				sig := got.Header.Get("X-Twilio-Signature")
				if want := pivot.TwilioSignature(testSecret, got.URL, form); sig != want || sig == "" {
					t.Errorf("%s: X-Twilio-Signature %q, want %q", got.Path, sig, want)
				}
				if sig == pivot.TwilioSignature("other", got.URL, form) {
					t.Errorf("%s: the signature does not depend on the secret", got.Path)
				}
				sb, ts := got.Header.Get("X-Switchboard-Signature"), got.Header.Get("X-Switchboard-Timestamp")
				if !pivot.VerifySwitchboardSignature(testSecret, sb, ts, got.Method, got.URL, got.Body, time.Now(), 5*time.Minute) {
					t.Errorf("%s: X-Switchboard-Signature %q (timestamp %s, now %d) does not verify", got.Path, sb, ts, time.Now().Unix())
				}
				if pivot.VerifySwitchboardSignature("other", sb, ts, got.Method, got.URL, got.Body, time.Now(), 0) {
					t.Errorf("%s: the Switchboard signature verifies with another secret", got.Path)
				}
				if pivot.VerifySwitchboardSignature(testSecret, sb, ts, got.Method, got.URL+"&x=1", got.Body, time.Now(), 0) {
					t.Errorf("%s: the Switchboard signature verifies for another URL", got.Path)
				}
			}
		})
	}
}

func TestAnswerContentTypes(t *testing.T) {
	t.Parallel()
	const twimlBody = `<Response><Say>typed</Say></Response>`
	tests := []struct {
		name  string
		reply actionstest.Reply
		ops   []string
		check func(t *testing.T, r *actionstest.Call, c *actionstest.Customer)
	}{
		{
			name:  "TwiML as text/xml",
			reply: actionstest.Reply{Type: "text/xml", Body: twimlBody},
			ops:   opsSay,
		},
		{
			name:  "TwiML as application/xml with a charset",
			reply: actionstest.Reply{Type: "application/xml; charset=ISO-8859-1", Body: twimlBody},
			ops:   opsSay,
		},
		{
			name:  "TwiML as text/html",
			reply: actionstest.Reply{Type: "text/html; charset=utf-8", Body: "\n  " + twimlBody},
			ops:   opsSay,
		},
		{
			name:  "TwiML as text/plain",
			reply: actionstest.Reply{Type: "text/plain", Body: twimlBody},
			ops:   opsSay,
		},
		{
			name:  "TwiML without a Content-Type",
			reply: actionstest.Reply{Type: "none", Body: twimlBody},
			ops:   opsSay,
		},
		{
			name:  "Kazoo JSON as text/plain",
			reply: actionstest.Reply{Type: "text/plain", Body: `{"module":"tts","data":{"text":"typed"}}`},
			ops:   []string{"module", "webhook", "module", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "webhook", 0), map[string]any{"response": "kazoo"})
				actionstest.WantFields(t, r.Line(t, "module", 1), map[string]any{"module": "tts"})
			},
		},
		{
			name:  "Kazoo JSON as application/octet-stream",
			reply: actionstest.Reply{Type: "application/octet-stream", Body: ` {"module":"tts","data":{"text":"typed"}}`},
			ops:   []string{"module", "webhook", "module", "answer", "say", "hangup"},
		},
		{
			name:  "plain text is read out, then the call ends",
			reply: actionstest.Reply{Type: "text/plain; charset=utf-8", Body: "Our offices\n  are   closed."},
			ops:   opsSay,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "webhook", 0), map[string]any{"response": "text"})
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "Our offices are closed.", "loop": 1})
			},
		},
		{
			name:  "audio is played, then the call ends",
			reply: actionstest.Reply{Type: "audio/mpeg", Body: "ID3 not really mp3"},
			ops:   []string{"module", "webhook", "answer", "play", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "webhook", 0), map[string]any{"response": "audio"})
				actionstest.WantFields(t, r.Line(t, "play", 0), map[string]any{"url": c.URL + "/start", "loop": 1})
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, c := runPivot(t, map[string][]actionstest.Reply{"/start": {tc.reply}},
				map[string]any{"voice_url": "{{base}}/start", "method": "POST", "req_format": "twiml"},
				map[string]any{"_": ttsNode("the failure branch")}, actionstest.Options{})
			sim.AssertOps(t, r.Trace, tc.ops...)
			if tc.check != nil {
				tc.check(t, r, c)
			} else {
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "typed"})
			}
			actionstest.WantFields(t, r.Line(t, "hangup", 0), map[string]any{"cause": "NORMAL_CLEARING", "by": "switchboard"})
		})
	}
}

func TestHTTPRedirects(t *testing.T) {
	t.Parallel()
	t.Run("followed, and the final URL is the document's", func(t *testing.T) {
		t.Parallel()
		r, c := runPivot(t, map[string][]actionstest.Reply{
			"/start":            {{Status: http.StatusFound, Location: "/moved/here"}},
			"/moved/here":       {{Status: http.StatusMovedPermanently, Location: "{{base}}/moved/again/doc"}},
			"/moved/again/doc":  {actionstest.Doc(`<Redirect>next</Redirect>`)},
			"/moved/again/next": {actionstest.Doc(`<Say>arrived</Say>`)},
		}, map[string]any{"voice_url": "{{base}}/start", "method": "POST", "req_format": "twiml"}, nil, actionstest.Options{})
		sim.AssertOps(t, r.Trace, "module", "webhook", "redirect", "webhook", "answer", "say", "hangup")
		if got := strings.Join(c.Paths(), ", "); got != "POST /start, GET /moved/here, GET /moved/again/doc, POST /moved/again/next" {
			t.Errorf("requests: %s", got)
		}
		actionstest.WantFields(t, r.Line(t, "webhook", 0), map[string]any{
			"url": c.URL + "/start", "final_url": c.URL + "/moved/again/doc", "status": 200,
		})
		actionstest.WantFields(t, r.Line(t, "redirect", 0), map[string]any{"url": c.URL + "/moved/again/next", "method": "POST"})
		actionstest.WantFields(t, r.Line(t, "webhook", 1), map[string]any{"final_url": actionstest.NoField{}})
	})
	t.Run("10 are followed", func(t *testing.T) {
		t.Parallel()
		docs := map[string][]actionstest.Reply{"/r10": {actionstest.Doc(`<Say>ten</Say>`)}}
		for i := range 10 {
			docs[fmt.Sprintf("/r%d", i)] = []actionstest.Reply{{Status: http.StatusTemporaryRedirect, Location: fmt.Sprintf("/r%d", i+1)}}
		}
		r, c := runPivot(t, docs, map[string]any{"voice_url": "{{base}}/r0", "method": "GET", "req_format": "twiml"}, nil, actionstest.Options{})
		sim.AssertOps(t, r.Trace, "module", "webhook", "answer", "say", "hangup")
		if n := len(c.Requests()); n != 11 {
			t.Errorf("%d requests, want 11", n)
		}
	})
	t.Run("the 11th fails with 11215", func(t *testing.T) {
		t.Parallel()
		r, c := runPivot(t, map[string][]actionstest.Reply{"/loop": {{Status: http.StatusFound, Location: "/loop"}}},
			map[string]any{"voice_url": "{{base}}/loop", "method": "GET", "req_format": "twiml"}, nil, actionstest.Options{})
		sim.AssertOps(t, r.Trace, "module", "webhook", "error", "say", "hangup")
		if n := len(c.Requests()); n != 11 {
			t.Errorf("%d requests, want 11", n)
		}
		actionstest.WantFields(t, r.Line(t, "error", 0), map[string]any{"code": 11215, "url": c.URL + "/loop"})
	})
}

package actions_test

// Kazoo JSON answers (a call-flow node that replaces the rest of the flow,
// and may hold further pivots) and the kazoo request format.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/engine"
)

// runKazooCases runs Kazoo cases: a GET in the kazoo format to /start
// (the cases serve it in docs).
func runKazooCases(t *testing.T, cases []pivotCase) {
	t.Helper()
	runPivotCases(t, map[string]any{"voice_url": "{{base}}/start", "method": "get", "req_format": "kazoo"}, cases)
}

func TestKazooAnswers(t *testing.T) {
	t.Parallel()
	runKazooCases(t, []pivotCase{
		{
			name: "the answer replaces the rest of the flow",
			docs: map[string][]actionstest.Reply{"/start": {actionstest.KazooAnswer(`{"module":"tts","data":{"text":"from kazoo"},
				"children":{"_":{"module":"play","data":{"id":"https://cdn.example.com/bye.mp3"}}}}`)}},
			children: map[string]any{"_": ttsNode("the pivot's own child is dropped")},
			ops:      []string{"module", "webhook", "module", "answer", "say", "module", "play", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "webhook", 0), map[string]any{"format": "kazoo", "response": "kazoo", "method": "GET", "status": 200})
				actionstest.WantFields(t, r.Line(t, "module", 1), map[string]any{"module": "tts", "node": "flow"})
				actionstest.WantFields(t, r.Line(t, "module", 2), map[string]any{"module": "play", "node": "flow.children._"})
				// The answer gets the module's schema defaults, as a saved flow.
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "from kazoo", "voice": "female", "language": "en-US"})
				actionstest.WantFields(t, r.Line(t, "play", 0), map[string]any{"url": "https://cdn.example.com/bye.mp3", "loop": 1})
				r.WantHangup(t, "NORMAL_CLEARING", "switchboard")
				if r.Result.Nodes != 3 {
					t.Errorf("%d nodes visited, want 3", r.Result.Nodes)
				}
			},
		},
		{
			name: "an answer may hold a further pivot, here answered in TwiML",
			docs: map[string][]actionstest.Reply{
				"/start":  {actionstest.KazooAnswer(`{"module":"pivot","data":{"voice_url":"{{base}}/second","req_format":"twiml","method":"post"}}`)},
				"/second": {actionstest.Doc(`<Say>second document</Say>`)},
			},
			ops: []string{"module", "webhook", "module", "webhook", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				c.WantPaths(t, "GET /start", "POST /second")
				actionstest.WantExactly(t, c.Request(t, "/start", 0), kazooBase("ringing"))
				// the second pivot asks with its own settings; the call's second document
				actionstest.WantExactly(t, c.Request(t, "/second", 0), twimlBase("in-progress"))
				actionstest.WantFields(t, r.Line(t, "webhook", 1), map[string]any{"format": "twiml", "iteration": 2})
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "second document"})
			},
		},
		{
			name: "a TwiML Redirect to a Kazoo answer",
			docs: map[string][]actionstest.Reply{
				"/start": {actionstest.Doc(`<Redirect method="GET">/json</Redirect>`)},
				"/json":  {actionstest.KazooAnswer(`{"module":"tts","data":{"text":"now in kazoo"}}`)},
			},
			ops: []string{"module", "webhook", "redirect", "webhook", "module", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "now in kazoo"})
			},
		},
		{
			name: "collect_dtmf then a pivot: the digits by collection, sent once",
			docs: map[string][]actionstest.Reply{
				"/start": {actionstest.KazooAnswer(`{"module":"collect_dtmf","data":{"max_digits":4,"collection_name":"pin"},
					"children":{"_":{"module":"pivot","data":{"voice_url":"{{base}}/check"}}}}`)},
				"/check": {actionstest.Doc(`<Gather numDigits="1" action="/menu" method="GET"/>`)},
				"/menu":  {actionstest.Doc(`<Hangup/>`)},
			},
			script: sim.Script{Inputs: []string{"1234", "9"}},
			ops:    []string{"module", "webhook", "module", "answer", "gather", "module", "webhook", "gather", "webhook", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				c.WantPaths(t, "GET /start", "GET /check", "GET /menu")
				want := kazooBase("in-progress")
				want["Digits[pin]"] = "1234"
				actionstest.WantExactly(t, c.Request(t, "/check", 0), want)
				if !strings.Contains(c.Request(t, "/check", 0).RawQuery, "&Digits[pin]=1234") {
					t.Errorf("query %q", c.Request(t, "/check", 0).RawQuery)
				}
				want = kazooBase("in-progress")
				want["Digits"] = "9"
				actionstest.WantExactly(t, c.Request(t, "/menu", 0), want)
				actionstest.WantFields(t, r.Line(t, "webhook", 1), map[string]any{"params": map[string]any{
					"Account-ID": "acct", "Api-Version": "4.x", "Call-ID": "call-1", "Call-Status": "in-progress",
					"Caller-ID-Name": "Alice", "Caller-ID-Number": testFrom, "Direction": "inbound",
					"From": testFrom, "From-Realm": "caller.example.com", "Language": "en-US",
					"Request": testTo, "Request-Realm": "sb.example.com", "To": testTo, "To-Realm": "sb.example.com",
					"Custom-SIP-Headers": map[string]any{"X-Ticket": "T-42"}, "Digits": map[string]any{"pin": "1234"},
				}})
			},
		},
		{
			name: "collect_dtmf then a twiml-format pivot: Digits and Digits[name]",
			docs: map[string][]actionstest.Reply{
				"/start": {actionstest.KazooAnswer(`{"module":"collect_dtmf","data":{"max_digits":2},
					"children":{"_":{"module":"collect_dtmf","data":{"max_digits":3,"collection_name":"acct"},
					"children":{"_":{"module":"pivot","data":{"voice_url":"{{base}}/check","req_format":"twiml","method":"POST"}}}}}}`)},
				"/check": {actionstest.Doc(`<Hangup/>`)},
			},
			script: sim.Script{Inputs: []string{"12", "345"}},
			ops:    []string{"module", "webhook", "module", "answer", "gather", "module", "gather", "module", "webhook", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				want := twimlBase("in-progress")
				want["Digits"], want["Digits[acct]"] = "12", "345"
				actionstest.WantExactly(t, c.Request(t, "/check", 0), want)
			},
		},
		{
			name: "Set variables go as Custom-Application-Vars",
			docs: map[string][]actionstest.Reply{
				"/start": {actionstest.Doc(`<Set><Variable key="tier" value="gold"/></Set><Redirect>/next</Redirect>`)},
				"/next":  {actionstest.Doc(`<Hangup/>`)},
			},
			data: map[string]any{"method": "POST", "req_body_format": "json"},
			ops:  []string{"module", "webhook", "set", "redirect", "webhook", "answer", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				got := c.Request(t, "/next", 0)
				want := kazooBase("in-progress")
				want["Custom-Application-Vars[tier]"] = "gold"
				actionstest.WantExactly(t, got, want, "bodySHA256")
				if v, ok := got.JSON["Custom-Application-Vars"].(map[string]any); !ok || v["tier"] != "gold" {
					t.Errorf("Custom-Application-Vars %v, want an object", got.JSON["Custom-Application-Vars"])
				}
				if !strings.HasPrefix(string(got.Body), `{"Custom-Application-Vars":{"tier":"gold"},"Account-ID":"acct",`) {
					t.Errorf("body %s: the variables first, the call's parameters over them", got.Body)
				}
			},
		},
		{
			name: "verb callback parameters take Kazoo's names",
			docs: map[string][]actionstest.Reply{
				"/start":    {actionstest.Doc(`<Dial action="/dialed">+15557770000</Dial>`)},
				"/dialed":   {actionstest.Doc(`<Record action="/recorded" finishOnKey="#"/>`)},
				"/recorded": {actionstest.Doc(`<Hangup/>`)},
			},
			script: sim.Script{Inputs: []string{"#"}, Dials: []string{"busy"}},
			ops:    []string{"module", "webhook", "answer", "dial", "webhook", "record", "webhook", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				want := kazooBase("in-progress")
				want["Dial-Call-Status"], want["Dial-Call-ID"], want["Dial-Call-Duration"] = "busy", "", "0"
				actionstest.WantExactly(t, c.Request(t, "/dialed", 0), want)
				want = kazooBase("in-progress")
				want["Recording-Url"], want["Recording-Duration"], want["Digits"] = "sim://recordings/call-1/1.wav", "3", "#"
				got := c.Request(t, "/recorded", 0)
				actionstest.WantExactly(t, got, want, "Recording-ID")
				if !recordingID.MatchString(got.Param("Recording-ID")) {
					t.Errorf("Recording-ID %q", got.Param("Recording-ID"))
				}
			},
		},
		{
			name:     "the fallback gets Error-Code and Error-Url",
			docs:     map[string][]actionstest.Reply{"/start": {{Status: 503, Body: "down"}}, "/fallback": {actionstest.KazooAnswer(`{"module":"tts","data":{"text":"fallback"}}`)}},
			data:     map[string]any{"fallback_url": "{{base}}/fallback"},
			children: map[string]any{"_": ttsNode("not this")},
			ops:      []string{"module", "webhook", "error", "webhook", "module", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				want := kazooBase("")
				delete(want, "Call-Status") // not pinned down for a fallback (see the report)
				want["Error-Code"], want["Error-Url"] = "11217", c.URL+"/start"
				actionstest.WantExactly(t, c.Request(t, "/fallback", 0), want, "Call-Status")
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "fallback"})
			},
		},
		{
			name: "a nested pivot that fails takes its own child",
			docs: map[string][]actionstest.Reply{
				"/start":  {actionstest.KazooAnswer(`{"module":"pivot","data":{"voice_url":"{{base}}/broken"},"children":{"_":{"module":"tts","data":{"text":"inner child"}}}}`)},
				"/broken": {{Status: 500, Body: "oops"}},
			},
			children: map[string]any{"_": ttsNode("outer child, dropped")},
			ops:      []string{"module", "webhook", "module", "webhook", "error", "module", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "error", 0), map[string]any{"code": 11217, "url": c.URL + "/broken"})
				actionstest.WantFields(t, r.Line(t, "module", 2), map[string]any{"module": "tts", "node": "flow.children._"})
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "inner child"})
			},
		},
		{
			name: "a response node refuses the unanswered call",
			docs: map[string][]actionstest.Reply{"/start": {actionstest.KazooAnswer(`{"module":"response","data":{"code":486}}`)}},
			ops:  []string{"module", "webhook", "module", "reject", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "reject", 0), map[string]any{"reason": "sip:486"})
				r.WantHangup(t, "sip:486", "switchboard")
			},
		},
		{
			name:   "the caller hangs up in the answer's collect_dtmf",
			docs:   map[string][]actionstest.Reply{"/start": {actionstest.KazooAnswer(`{"module":"collect_dtmf","data":{"max_digits":4},"children":{"_":{"module":"tts","data":{"text":"never"}}}}`)}},
			script: sim.Script{Inputs: []string{"hangup"}},
			ops:    []string{"module", "webhook", "module", "answer", "gather", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "gather", 0), map[string]any{"interrupted": true})
				r.WantHangup(t, "NORMAL_CLEARING", "caller")
			},
		},
	})
}

func TestKazooChainLimit(t *testing.T) {
	t.Parallel()
	// Every answer is a pivot asking again: the call's document limit ends
	// the chain, with the apology, whatever the nested pivots' children.
	for _, limit := range []int{0, 5} {
		t.Run(fmt.Sprintf("MaxDocuments %d", limit), func(t *testing.T) {
			t.Parallel()
			want := limit
			if want == 0 {
				want = 10 // the idle guard's default
			}
			r, c := runPivot(t, map[string][]actionstest.Reply{
				"/loop": {actionstest.KazooAnswer(`{"module":"pivot","data":{"voice_url":"{{base}}/loop"},"children":{"_":{"module":"tts","data":{"text":"child"}}}}`)},
			}, map[string]any{"voice_url": "{{base}}/loop"}, nil, actionstest.Options{Config: engine.Config{MaxDocuments: limit, MaxNodes: 100}})
			var ops []string
			for range want {
				ops = append(ops, "module", "webhook")
			}
			ops = append(ops, "module", "error", "say", "hangup")
			sim.AssertOps(t, r.Trace, ops...)
			if n := len(c.Requests()); n != want {
				t.Errorf("%d requests, want %d", n, want)
			}
			actionstest.WantFields(t, r.Line(t, "error", 0), map[string]any{"code": 11200, "url": c.URL + "/loop"})
			actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": apology})
			r.WantHangup(t, "NORMAL_TEMPORARY_FAILURE", "switchboard")
		})
	}
}

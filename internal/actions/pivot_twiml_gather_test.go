package actions_test

// TwiML <Gather> run by Pivot.

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
)

func TestTwiMLGather(t *testing.T) {
	t.Parallel()
	menu := map[string][]actionstest.Reply{"/ivr/menu": {actionstest.Doc(`<Say>got it</Say>`)}}
	gatherOps := []string{"module", "webhook", "answer", "gather", "webhook", "say", "hangup"}
	fallThrough := []string{"module", "webhook", "answer", "gather", "say", "hangup"}
	digits := func(d string) func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
		return func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
			actionstest.WantFields(t, r.Line(t, "gather", 0), map[string]any{"digits": d})
			c.WantPaths(t, "POST "+startPath, "POST /ivr/menu")
			want := twimlBase("in-progress")
			want["Digits"] = d
			got := c.Request(t, "/ivr/menu", 0)
			want["FinishedOnKey"] = got.Param("FinishedOnKey") // checked per case below
			actionstest.WantExactly(t, got, want)
		}
	}
	finished := func(d, key string) func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
		return func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
			digits(d)(t, r, c)
			if got := c.Request(t, "/ivr/menu", 0); !got.Has("FinishedOnKey") || got.Param("FinishedOnKey") != key {
				t.Errorf("FinishedOnKey = %q (sent %v), want %q", got.Param("FinishedOnKey"), got.Has("FinishedOnKey"), key)
			}
		}
	}
	runVerbCases(t, []pivotCase{
		{
			name: "digits go to the action",
			doc:  `<Gather action="/ivr/menu" numDigits="4"><Say>Enter your PIN</Say></Gather><Say>not reached</Say>`,
			docs: menu, script: sim.Script{Inputs: []string{"1234"}}, ops: gatherOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				digits("1234")(t, r, c)
				actionstest.WantFields(t, r.Line(t, "gather", 0), map[string]any{
					"num_digits": 4, "timeout": 5, "finish_on_key": "#", "digits": "1234",
					"prompts": []map[string]any{{"op": "say", "text": "Enter your PIN", "voice": "", "language": "", "loop": 1}},
				})
				actionstest.WantFields(t, r.Line(t, "webhook", 1), map[string]any{"method": "POST", "url": c.URL + "/ivr/menu", "iteration": 2})
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "got it"})
			},
		},
		{
			name: "the finish key ends the input and is not sent", doc: `<Gather action="/ivr/menu"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"12#34"}}, ops: gatherOps, check: finished("12", "#"),
		},
		{
			name: "finishOnKey *", doc: `<Gather action="/ivr/menu" finishOnKey="*"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"9#8*7"}}, ops: gatherOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				digits("9#8")(t, r, c)
				actionstest.WantFields(t, r.Line(t, "gather", 0), map[string]any{"finish_on_key": "*"})
			},
		},
		{
			name: `finishOnKey "": no key ends the input`, doc: `<Gather action="/ivr/menu" finishOnKey=""/>`,
			docs: menu, script: sim.Script{Inputs: []string{"12#"}}, ops: gatherOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				digits("12#")(t, r, c)
				actionstest.WantFields(t, r.Line(t, "gather", 0), map[string]any{"finish_on_key": ""})
			},
		},
		{
			name: "invalid finishOnKey falls back to # with a warning", doc: `<Gather action="/ivr/menu" finishOnKey="x"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"5#"}},
			ops: []string{"module", "webhook", "warning", "answer", "gather", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13310, "Gather", "finishOnKey")
				digits("5")(t, r, c)
			},
		},
		{
			name: "numDigits: later keys are dropped", doc: `<Gather action="/ivr/menu" numDigits="2"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"987"}}, ops: gatherOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				digits("98")(t, r, c)
				actionstest.WantFields(t, r.Line(t, "gather", 0), map[string]any{"num_digits": 2})
			},
		},
		{
			name: "invalid numDigits: unlimited, with a warning", doc: `<Gather action="/ivr/menu" numDigits="two"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"123#"}},
			ops: []string{"module", "webhook", "warning", "answer", "gather", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13314, "Gather", "numDigits")
				digits("123")(t, r, c)
				actionstest.WantFields(t, r.Line(t, "gather", 0), map[string]any{"num_digits": 0})
			},
		},
		{
			name: "no input falls through to the next verb after the timeout",
			doc:  `<Gather action="/ivr/menu" timeout="12"><Play>/beep.wav</Play></Gather><Say>We did not get your answer</Say>`,
			docs: menu, script: sim.Script{Inputs: []string{""}}, ops: fallThrough,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "gather", 0), map[string]any{
					"digits": "", "timeout": 12,
					"prompts": []map[string]any{{"op": "play", "url": c.URL + "/beep.wav", "loop": 1}},
				})
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "We did not get your answer"})
				c.WantPaths(t, "POST "+startPath)
				// the prompt (1 s) and the timeout (12 s) in simulated time
				if d := r.At(t, "gather", 0); d < 13*time.Second {
					t.Errorf("gather ended at %v, want after 13 s", d)
				}
			},
		},
		{
			name: "the finish key before any digit is no input", doc: `<Gather action="/ivr/menu"/><Say>nothing</Say>`,
			docs: menu, script: sim.Script{Inputs: []string{"#1"}}, ops: fallThrough,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "gather", 0), map[string]any{"digits": ""})
				c.WantPaths(t, "POST "+startPath)
			},
		},
		{
			name: "no input at the end of the document hangs up", doc: `<Gather action="/ivr/menu"/>`,
			docs: menu, ops: []string{"module", "webhook", "answer", "gather", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				c.WantPaths(t, "POST "+startPath)
				r.WantHangup(t, "NORMAL_CLEARING", "switchboard")
			},
		},
		{
			name: "actionOnEmptyResult requests the action with no Digits",
			doc:  `<Gather action="/ivr/menu" actionOnEmptyResult="TRUE"/><Say>not reached</Say>`,
			docs: menu, script: sim.Script{Inputs: []string{""}}, ops: gatherOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				c.WantPaths(t, "POST "+startPath, "POST /ivr/menu")
				want := twimlBase("in-progress")
				want["FinishedOnKey"] = ""
				actionstest.WantExactly(t, c.Request(t, "/ivr/menu", 0), want)
			},
		},
		{
			name: "actionOnEmptyResult with digits sends them",
			doc:  `<Gather action="/ivr/menu" actionOnEmptyResult="true"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"7#"}}, ops: gatherOps, check: digits("7"),
		},
		{
			name:   "no action: the current document again, by POST",
			start:  []actionstest.Reply{actionstest.Doc(`<Gather numDigits="1"/><Say>not reached</Say>`), actionstest.Doc(`<Say>again</Say>`)},
			script: sim.Script{Inputs: []string{"5"}}, ops: gatherOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				c.WantPaths(t, "POST "+startPath, "POST "+startPath)
				want := twimlBase("in-progress")
				want["Digits"], want["FinishedOnKey"] = "5", ""
				actionstest.WantExactly(t, c.Request(t, startPath, 1), want)
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "again"})
			},
		},
		{
			name:   "no action after a GET: the document's URL without the parameters appended",
			start:  []actionstest.Reply{actionstest.Doc(`<Gather numDigits="1"/>`), actionstest.Doc(`<Say>again</Say>`)},
			data:   map[string]any{"method": "GET", "voice_url": "{{base}}" + startPath + "?menu=main"},
			script: sim.Script{Inputs: []string{"5"}}, ops: gatherOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				c.WantPaths(t, "GET "+startPath, "POST "+startPath)
				again := c.Request(t, startPath, 1)
				if again.RawQuery != "menu=main" {
					t.Errorf("re-requested with query %q, want menu=main", again.RawQuery)
				}
				want := twimlBase("in-progress")
				want["Digits"], want["menu"], want["FinishedOnKey"] = "5", "main", ""
				actionstest.WantExactly(t, again, want)
			},
		},
		{
			name:   "no action after a signed JSON POST: no stale bodySHA256",
			start:  []actionstest.Reply{actionstest.Doc(`<Gather numDigits="1"/>`), actionstest.Doc(`<Say>again</Say>`)},
			data:   map[string]any{"req_body_format": "json"},
			script: sim.Script{Inputs: []string{"5"}}, ops: gatherOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				again := c.Request(t, startPath, 1)
				if n := len(again.Values["bodySHA256"]); n != 1 {
					t.Errorf("bodySHA256 sent %d times: %q", n, again.RawQuery)
				}
				actionstest.WantParams(t, again, map[string]string{"Digits": "5", "CallStatus": "in-progress"})
			},
		},
		{
			name: "method GET, in any case", doc: `<Gather action="/ivr/menu?from=gather" method="gEt" numDigits="1"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"3"}}, ops: gatherOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				c.WantPaths(t, "POST "+startPath, "GET /ivr/menu")
				got := c.Request(t, "/ivr/menu", 0)
				if !strings.HasPrefix(got.RawQuery, "from=gather&CallSid=") {
					t.Errorf("query %q", got.RawQuery)
				}
				actionstest.WantParams(t, got, map[string]string{"Digits": "3", "from": "gather"})
			},
		},
		{
			name: "an invalid method warns and POSTs", doc: `<Gather action="/ivr/menu" method="PUT" numDigits="1"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"3"}},
			ops: []string{"module", "webhook", "warning", "answer", "gather", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13312, "Gather", "method")
				c.WantPaths(t, "POST "+startPath, "POST /ivr/menu")
			},
		},
		{
			name: "a relative action resolves against the document", doc: `<Gather action="menu?step=2" numDigits="1"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"3"}}, ops: gatherOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				if got := c.Request(t, "/ivr/menu", 0).RawQuery; got != "step=2" {
					t.Errorf("query %q", got)
				}
			},
		},
		{
			name: "a dot-dot action", doc: `<Gather action="../top" numDigits="1"/>`,
			docs: map[string][]actionstest.Reply{"/top": {actionstest.Doc(`<Say>top</Say>`)}}, script: sim.Script{Inputs: []string{"3"}}, ops: gatherOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				c.WantPaths(t, "POST "+startPath, "POST /top")
			},
		},
		{
			name: "nested Say, Play and Pause are the prompts, in order",
			doc:  `<Gather action="/ivr/menu" numDigits="1"><Say voice="alice" language="fr-FR" loop="2">Appuyez</Say><Play>beep.wav</Play><Pause length="2"/></Gather>`,
			docs: menu, script: sim.Script{Inputs: []string{"1"}}, ops: gatherOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "gather", 0), map[string]any{"prompts": []map[string]any{
					{"op": "say", "text": "Appuyez", "voice": "alice", "language": "fr-FR", "loop": 2},
					{"op": "play", "url": c.URL + "/ivr/beep.wav", "loop": 1},
					{"op": "pause", "seconds": 2},
				}})
				o := r.ChannelOp(t, "gather").Options.(call.GatherOptions)
				if len(o.Prompts) != 3 || o.Prompts[2].Pause != 2*time.Second {
					t.Errorf("gather options %+v", o)
				}
			},
		},
		{
			name: "other nested verbs are dropped with a warning",
			doc:  `<Gather action="/ivr/menu" numDigits="1"><Dial>+15550001111</Dial><Play digits="1"/><Say>only this</Say></Gather>`,
			docs: menu, script: sim.Script{Inputs: []string{"1"}},
			ops: []string{"module", "webhook", "warning", "warning", "answer", "gather", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13320, "Dial", "")
				wantWarning(t, r, 1, 13320, "Play", "digits")
				actionstest.WantFields(t, r.Line(t, "gather", 0), map[string]any{"prompts": []map[string]any{
					{"op": "say", "text": "only this", "voice": "", "language": "", "loop": 1},
				}})
			},
		},
		{
			name: "the caller hangs up mid-gather", doc: `<Say>Welcome</Say><Gather action="/ivr/menu"><Say>Press a key</Say></Gather><Say>never</Say>`,
			docs: menu, script: sim.Script{Inputs: []string{"hangup"}},
			ops: []string{"module", "webhook", "answer", "say", "gather", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "gather", 0), map[string]any{"digits": "", "interrupted": true, "error": actionstest.NoField{}})
				r.WantHangup(t, "NORMAL_CLEARING", "caller")
				c.WantPaths(t, "POST "+startPath)
				if r.Result.Err != nil {
					t.Errorf("a caller's hangup is not a failure: %v", r.Result.Err)
				}
			},
		},
		{
			name: "the caller hangs up in a later document's gather", doc: `<Gather action="/ivr/menu" numDigits="1"/>`,
			docs:   map[string][]actionstest.Reply{"/ivr/menu": {actionstest.Doc(`<Gather action="/ivr/never"/>`)}},
			script: sim.Script{Inputs: []string{"1", "hangup"}},
			ops:    []string{"module", "webhook", "answer", "gather", "webhook", "gather", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "gather", 1), map[string]any{"interrupted": true})
				r.WantHangup(t, "NORMAL_CLEARING", "caller")
				c.WantPaths(t, "POST "+startPath, "POST /ivr/menu")
			},
		},
	})
}

package actions_test

// TwiML verbs run by Pivot, one table per verb: the document is served at
// /ivr/start (so relative URLs have a directory to resolve in), the call
// is simulated, and the trace and the requests the customer server
// actionstest.Received are checked.

import (
	"maps"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
)

const startPath = "/ivr/start"

type verbCase struct {
	name string
	// doc is the verbs of the document at /ivr/start; start, when set,
	// replaces it with several replies.
	doc   string
	start []actionstest.Reply
	// docs are the other documents served.
	docs map[string][]actionstest.Reply
	// data is added to the pivot's data (default: POST, twiml).
	data     map[string]any
	children map[string]any
	script   sim.Script
	ops      []string
	check    func(t *testing.T, r *actionstest.Call, c *actionstest.Customer)
}

func runVerbCases(t *testing.T, cases []verbCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			docs := map[string][]actionstest.Reply{startPath: {actionstest.Doc(tc.doc)}}
			if tc.start != nil {
				docs[startPath] = tc.start
			}
			maps.Copy(docs, tc.docs)
			data := map[string]any{"voice_url": "{{base}}" + startPath, "method": "POST", "req_format": "twiml"}
			maps.Copy(data, tc.data)
			r, c := runPivot(t, docs, data, tc.children, actionstest.Options{Script: tc.script})
			sim.AssertOps(t, r.Trace, tc.ops...)
			if tc.check != nil {
				tc.check(t, r, c)
			}
		})
	}
}

func wantWarning(t *testing.T, r *actionstest.Call, i int, code int, verb, attr string) {
	t.Helper()
	want := map[string]any{"code": code, "verb": verb}
	if attr != "" {
		want["attr"] = attr
	}
	actionstest.WantFields(t, r.Line(t, "warning", i), want)
}

var (
	opsSay      = []string{"module", "webhook", "answer", "say", "hangup"}
	opsPlay     = []string{"module", "webhook", "answer", "play", "hangup"}
	recordingID = regexp.MustCompile(`^RE[0-9a-f]{32}$`)
	smsID       = regexp.MustCompile(`^SM[0-9a-f]{32}$`)
)

func TestTwiMLSay(t *testing.T) {
	t.Parallel()
	say := func(want map[string]any) func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
		return func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
			actionstest.WantFields(t, r.Line(t, "say", 0), want)
			r.WantHangup(t, "NORMAL_CLEARING", "switchboard")
		}
	}
	runVerbCases(t, []verbCase{
		{
			name: "text, voice and language", doc: `<Say voice="Polly.Joanna" language="en-GB">Hello there</Say>`, ops: opsSay,
			check: say(map[string]any{"text": "Hello there", "voice": "Polly.Joanna", "language": "en-GB", "loop": 1}),
		},
		{
			name: "defaults", doc: `<Say>Hi</Say>`, ops: opsSay,
			check: say(map[string]any{"text": "Hi", "voice": "", "language": "", "loop": 1}),
		},
		{
			name: "loop", doc: `<Say loop="3">again</Say>`, ops: opsSay,
			check: say(map[string]any{"text": "again", "loop": 3}),
		},
		{
			name: "loop 0 repeats up to the cap", doc: `<Say loop="0">forever</Say>`, ops: opsSay,
			check: say(map[string]any{"text": "forever", "loop": 0}),
		},
		{
			name: "loop above the cap is capped with a warning", doc: `<Say loop="5000">many</Say>`,
			ops: []string{"module", "webhook", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13510, "Say", "loop")
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"loop": 1000})
			},
		},
		{
			name: "negative loop falls back to 1", doc: `<Say loop="-2">once</Say>`,
			ops: []string{"module", "webhook", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13510, "Say", "loop")
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"loop": 1})
			},
		},
		{
			name: "whitespace is collapsed", doc: "<Say>\n    Line one,\n\t  line   two.  \n</Say>", ops: opsSay,
			check: say(map[string]any{"text": "Line one, line two."}),
		},
		{
			name: "entities", doc: `<Say>Tom &amp; Jerry &lt;3 &#x263A; &apos;hi&apos; &quot;x&quot;</Say>`, ops: opsSay,
			check: say(map[string]any{"text": `Tom & Jerry <3 ☺ 'hi' "x"`}),
		},
		{
			name: "CDATA", doc: `<Say><![CDATA[if a < b & c > d]]></Say>`, ops: opsSay,
			check: say(map[string]any{"text": "if a < b & c > d"}),
		},
		{
			name: "SSML is read as its text", doc: `<Say>Hello<break time="1s"/><emphasis level="strong">world</emphasis> <sub alias="doctor">Dr.</sub></Say>`, ops: opsSay,
			check: say(map[string]any{"text": "Hello world doctor"}),
		},
		{
			name: "several in order, one answer", doc: `<Say>one</Say><Say voice="man">two</Say>`,
			ops: []string{"module", "webhook", "answer", "say", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "one"})
				actionstest.WantFields(t, r.Line(t, "say", 1), map[string]any{"text": "two", "voice": "man"})
				if r.At(t, "say", 1)-r.At(t, "say", 0) < time.Second {
					t.Error("the second say did not wait for the first")
				}
			},
		},
		{
			name: "empty text warns", doc: `<Say voice="woman"></Say>`,
			ops: []string{"module", "webhook", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13520, "Say", "")
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": ""})
			},
		},
		{
			name: "the document's end hangs up; the failure branch is not taken", doc: `<Say>only this</Say>`,
			children: map[string]any{"_": ttsNode("not the failure branch")},
			ops:      opsSay,
			check:    say(map[string]any{"text": "only this"}),
		},
	})
}

func TestTwiMLPlay(t *testing.T) {
	t.Parallel()
	play := func(want map[string]any) func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
		return func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
			l := r.Line(t, "play", 0)
			for k, v := range want {
				if s, ok := v.(string); ok {
					want[k] = strings.ReplaceAll(s, "{{base}}", c.URL)
				}
			}
			actionstest.WantFields(t, l, want)
		}
	}
	runVerbCases(t, []verbCase{
		{
			name: "absolute path", doc: `<Play>/audio/welcome.wav</Play>`, ops: opsPlay,
			check: play(map[string]any{"url": "{{base}}/audio/welcome.wav", "loop": 1}),
		},
		{
			name: "relative path resolves in the document's directory", doc: `<Play>prompts/a.mp3?v=2</Play>`, ops: opsPlay,
			check: play(map[string]any{"url": "{{base}}/ivr/prompts/a.mp3?v=2"}),
		},
		{
			name: "absolute URL, trimmed", doc: "<Play loop=\"2\">\n   https://cdn.example.com/x.mp3  \n</Play>", ops: opsPlay,
			check: play(map[string]any{"url": "https://cdn.example.com/x.mp3", "loop": 2}),
		},
		{
			name: "loop 0 repeats up to the cap", doc: `<Play loop="0">/hold.mp3</Play>`, ops: opsPlay,
			check: play(map[string]any{"url": "{{base}}/hold.mp3", "loop": 0}),
		},
		{
			name: "loop above the cap", doc: `<Play loop="1001">/hold.mp3</Play>`,
			ops: []string{"module", "webhook", "warning", "answer", "play", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13410, "Play", "loop")
				actionstest.WantFields(t, r.Line(t, "play", 0), map[string]any{"loop": 1000})
			},
		},
		{
			name: "digits are sent as DTMF", doc: `<Play digits="wwww3"></Play>`, ops: opsPlay,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "play", 0), map[string]any{"digits": "wwww3", "loop": 1, "url": actionstest.NoField{}})
				if op := r.ChannelOp(t, "play"); op.Options.(call.PlayOptions).Digits != "wwww3" {
					t.Errorf("play options %+v", op.Options)
				}
			},
		},
		{
			name: "digits a-d are upper-cased", doc: `<Play digits="1a#Wd"/>`, ops: opsPlay,
			check: play(map[string]any{"digits": "1A#WD"}),
		},
		{
			name: "invalid digits and no URL: two warnings, nothing played", doc: `<Play digits="12x"/>`,
			ops: []string{"module", "webhook", "warning", "answer", "warning", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13430, "Play", "digits")
				wantWarning(t, r, 1, 13420, "Play", "")
			},
		},
		{
			name: "no URL warns", doc: `<Play/><Say>after</Say>`,
			ops: []string{"module", "webhook", "answer", "warning", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13420, "Play", "")
			},
		},
		{
			name: "a URL that is not http(s) warns", doc: `<Play>ftp://example.com/a.wav</Play><Say>after</Say>`,
			ops: []string{"module", "webhook", "answer", "warning", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13420, "Play", "")
			},
		},
	})
}

func TestTwiMLPause(t *testing.T) {
	t.Parallel()
	runVerbCases(t, []verbCase{
		{
			name: "a first Pause delays the answer", doc: `<Pause length="3"/><Say>after</Say>`,
			ops: []string{"module", "webhook", "pause", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "pause", 0), map[string]any{"seconds": 3})
				if got := strings.Join(r.ChannelOps(), " "); got != "pause answer say hangup" {
					t.Errorf("channel ops %q", got)
				}
				if d := r.At(t, "answer", 0); d < 3*time.Second {
					t.Errorf("answered at %v, want after 3 s", d)
				}
			},
		},
		{
			name: "default length 1 s", doc: `<Say>a</Say><Pause/><Say>b</Say>`,
			ops: []string{"module", "webhook", "answer", "say", "pause", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "pause", 0), map[string]any{"seconds": 1})
				if d := r.At(t, "say", 1) - r.At(t, "pause", 0); d < time.Second {
					t.Errorf("the second say %v after the pause line", d)
				}
			},
		},
		{
			name: "length 0 is raised to 1 with a warning", doc: `<Pause length="0"/>`,
			ops: []string{"module", "webhook", "warning", "pause", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13910, "Pause", "length")
				actionstest.WantFields(t, r.Line(t, "pause", 0), map[string]any{"seconds": 1})
			},
		},
		{
			name: "not a number: default with a warning", doc: `<Pause length="soon"/>`,
			ops: []string{"module", "webhook", "warning", "pause", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13910, "Pause", "length")
				actionstest.WantFields(t, r.Line(t, "pause", 0), map[string]any{"seconds": 1})
			},
		},
		{
			name: "capped at 3600 s", doc: `<Pause length="7200"/>`,
			ops: []string{"module", "webhook", "warning", "pause", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "pause", 0), map[string]any{"seconds": 3600})
				if !r.Channel.Ended() || r.Channel.Answered() {
					t.Errorf("after a lone Pause: ended %v answered %v", r.Channel.Ended(), r.Channel.Answered())
				}
			},
		},
	})
}

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
			actionstest.WantExactly(t, c.Request(t, "/ivr/menu", 0), want)
		}
	}
	runVerbCases(t, []verbCase{
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
			docs: menu, script: sim.Script{Inputs: []string{"12#34"}}, ops: gatherOps, check: digits("12"),
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
				actionstest.WantExactly(t, c.Request(t, "/ivr/menu", 0), twimlBase("in-progress"))
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
				want["Digits"] = "5"
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
				want["Digits"], want["menu"] = "5", "main"
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

func TestTwiMLDial(t *testing.T) {
	t.Parallel()
	after := map[string][]actionstest.Reply{"/ivr/after": {actionstest.Doc(`<Say>after the call</Say>`)}}
	actionOps := []string{"module", "webhook", "answer", "dial", "webhook", "say", "hangup"}
	outcome := func(status, sid, duration string) func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
		return func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
			c.WantPaths(t, "POST "+startPath, "POST /ivr/after")
			want := twimlBase("in-progress")
			want["DialCallStatus"], want["DialCallSid"], want["DialCallDuration"] = status, sid, duration
			actionstest.WantExactly(t, c.Request(t, "/ivr/after", 0), want)
		}
	}
	number := func(n string) []map[string]any { return []map[string]any{{"kind": "number", "value": n}} }
	runVerbCases(t, []verbCase{
		{
			name: "a plain number; no action continues with the next verb",
			doc:  `<Dial>+15557770000</Dial><Say>after the call</Say>`,
			ops:  []string{"module", "webhook", "answer", "dial", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "dial", 0), map[string]any{
					"targets": number("+15557770000"), "timeout": 30, "caller_id": "", "status": "completed",
					"call_id": "call-1-leg1", "duration": 30,
				})
				c.WantPaths(t, "POST "+startPath)
				o := r.ChannelOp(t, "dial").Options.(call.DialOptions)
				if o.TimeLimit != 4*time.Hour || o.HangupOnStar || o.Record || o.Strategy != "simultaneous" {
					t.Errorf("dial defaults %+v", o)
				}
			},
		},
		{
			name: "the number's white space is trimmed", doc: "<Dial>\n     +15557770000\n  </Dial>",
			ops: []string{"module", "webhook", "answer", "dial", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "dial", 0), map[string]any{"targets": number("+15557770000")})
			},
		},
		{
			name: "Number, Sip, Client and Conference nouns, in order",
			doc: `<Dial><Number sendDigits="ww1">+15550001111</Number><Sip>sip:alice@example.com;transport=tcp?X-Id=1&amp;X-B=2</Sip>` +
				`<Client>bob</Client><Conference beep="false">room-7</Conference></Dial>`,
			ops: []string{"module", "webhook", "answer", "dial", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "dial", 0), map[string]any{"targets": []map[string]any{
					{"kind": "number", "value": "+15550001111"},
					{"kind": "sip", "value": "sip:alice@example.com;transport=tcp?X-Id=1&X-B=2"},
					{"kind": "client", "value": "bob"},
					{"kind": "conference", "value": "room-7"},
				}})
			},
		},
		{
			name: "Client with Identity, Sip with Uri, Kazoo's User and Device",
			doc: `<Dial><Client><Identity>carol</Identity><Parameter name="k" value="v"/></Client>` +
				`<Sip><Uri>sip:dave@example.com</Uri></Sip><User>user-1</User><Device>dev-2</Device></Dial>`,
			ops: []string{"module", "webhook", "answer", "dial", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "dial", 0), map[string]any{"targets": []map[string]any{
					{"kind": "client", "value": "carol"},
					{"kind": "sip", "value": "sip:dave@example.com"},
					{"kind": "user", "value": "user-1"},
					{"kind": "device", "value": "dev-2"},
				}})
			},
		},
		{
			name: "an unsupported noun is skipped with a warning",
			doc:  `<Dial><Application>AP1</Application><Number>+15550001111</Number></Dial>`,
			ops:  []string{"module", "webhook", "warning", "answer", "dial", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13215, "Application", "")
				actionstest.WantFields(t, r.Line(t, "dial", 0), map[string]any{"targets": number("+15550001111")})
			},
		},
		{
			name: "nothing to dial: a warning, no call, the action gets failed",
			doc:  `<Dial action="/ivr/after">  </Dial><Say>never</Say>`, docs: after,
			ops: []string{"module", "webhook", "warning", "answer", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13215, "Dial", "")
				outcome("failed", "", "0")(t, r, c)
			},
		},
		{
			name: "action: completed", doc: `<Dial action="/ivr/after">+15557770000</Dial><Say>never</Say>`, docs: after,
			script: sim.Script{Dials: []string{"completed"}}, ops: actionOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				outcome("completed", "call-1-leg1", "30")(t, r, c)
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "after the call"})
			},
		},
		{
			name: "action: answered is reported as completed", doc: `<Dial action="/ivr/after">+15557770000</Dial>`, docs: after,
			script: sim.Script{Dials: []string{"answered"}}, ops: actionOps,
			check: outcome("completed", "call-1-leg1", "30"),
		},
		{
			name: "action: busy", doc: `<Dial action="/ivr/after">+15557770000</Dial>`, docs: after,
			script: sim.Script{Dials: []string{"busy"}}, ops: actionOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				outcome("busy", "", "0")(t, r, c)
				actionstest.WantFields(t, r.Line(t, "dial", 0), map[string]any{"status": "busy", "cause": "USER_BUSY", "call_id": ""})
			},
		},
		{
			name: "action: no-answer after the timeout", doc: `<Dial action="/ivr/after" timeout="15">+15557770000</Dial>`, docs: after,
			script: sim.Script{Dials: []string{"no-answer"}}, ops: actionOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				outcome("no-answer", "", "0")(t, r, c)
				actionstest.WantFields(t, r.Line(t, "dial", 0), map[string]any{"status": "no-answer", "timeout": 15})
				if d := r.At(t, "dial", 0); d < 15*time.Second {
					t.Errorf("dial ended at %v, want after 15 s of ringing", d)
				}
			},
		},
		{
			name: "action: failed", doc: `<Dial action="/ivr/after">+15557770000</Dial>`, docs: after,
			script: sim.Script{Dials: []string{"failed"}}, ops: actionOps, check: outcome("failed", "", "0"),
		},
		{
			name: "action: a dial the channel could not place is failed", doc: `<Dial action="/ivr/after">+15557770000</Dial>`, docs: after,
			script: sim.Script{Dials: []string{"exploded"}}, ops: actionOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				outcome("failed", "", "0")(t, r, c)
				if e, _ := r.Line(t, "dial", 0)["error"].(string); !strings.Contains(e, "exploded") {
					t.Errorf("dial line error %q", e)
				}
			},
		},
		{
			name: "timeout, callerId, timeLimit, hangupOnStar, record",
			doc:  `<Dial action="/ivr/after" timeout="15" callerId=" +15550009999 " timeLimit="10" hangupOnStar="true" record="record-from-answer">+15557770000</Dial>`,
			docs: after, ops: actionOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "dial", 0), map[string]any{"timeout": 15, "caller_id": "+15550009999", "duration": 10})
				o := r.ChannelOp(t, "dial").Options.(call.DialOptions)
				if o.Timeout != 15*time.Second || o.CallerID != "+15550009999" || o.TimeLimit != 10*time.Second || !o.HangupOnStar || !o.Record {
					t.Errorf("dial options %+v", o)
				}
				outcome("completed", "call-1-leg1", "10")(t, r, c)
			},
		},
		{
			name: "attribute values in any case; sequential dials one by one",
			doc:  `<Dial hangupOnStar="TRUE" record="True" sequential="TRUE"><Number>+15550001111</Number><Number>+15550002222</Number></Dial>`,
			ops:  []string{"module", "webhook", "answer", "dial", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				o := r.ChannelOp(t, "dial").Options.(call.DialOptions)
				if !o.HangupOnStar || !o.Record || o.Strategy != "single" || len(o.Targets) != 2 {
					t.Errorf("dial options %+v", o)
				}
			},
		},
		{
			name: "record do-not-record", doc: `<Dial record="do-not-record">+15557770000</Dial>`,
			ops: []string{"module", "webhook", "answer", "dial", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				if o := r.ChannelOp(t, "dial").Options.(call.DialOptions); o.Record {
					t.Errorf("dial options %+v", o)
				}
			},
		},
		{
			name: "a timeout below 5 s is raised, with a warning", doc: `<Dial timeout="2">+15557770000</Dial>`,
			ops: []string{"module", "webhook", "warning", "answer", "dial", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13212, "Dial", "timeout")
				actionstest.WantFields(t, r.Line(t, "dial", 0), map[string]any{"timeout": 5})
			},
		},
		{
			name: "answerOnBridge leaves the call ringing until the bridge",
			doc:  `<Dial answerOnBridge="true">+15557770000</Dial>`,
			ops:  []string{"module", "webhook", "answer", "dial", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				if got := strings.Join(r.ChannelOps(), " "); got != "dial hangup" {
					t.Errorf("channel ops %q, want the dial to answer", got)
				}
				actionstest.WantParams(t, c.Request(t, startPath, 0), map[string]string{"CallStatus": "ringing"})
			},
		},
		{
			name:   "answerOnBridge and busy: the call can still be rejected",
			doc:    `<Dial answerOnBridge="true">+15557770000</Dial><Reject reason="busy"/>`,
			script: sim.Script{Dials: []string{"busy"}},
			ops:    []string{"module", "webhook", "dial", "reject", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				r.WantHangup(t, "USER_BUSY", "switchboard")
				if r.Channel.Answered() {
					t.Error("the call was answered")
				}
			},
		},
		{
			name: "a relative action, GET", doc: `<Dial action="after?leg=b" method="get">+15557770000</Dial>`, docs: after,
			ops: actionOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				c.WantPaths(t, "POST "+startPath, "GET /ivr/after")
				actionstest.WantParams(t, c.Request(t, "/ivr/after", 0), map[string]string{"leg": "b", "DialCallStatus": "completed"})
			},
		},
	})
}

func TestTwiMLRecord(t *testing.T) {
	t.Parallel()
	saved := map[string][]actionstest.Reply{"/ivr/saved": {actionstest.Doc(`<Say>Thanks</Say>`)}}
	recOps := []string{"module", "webhook", "answer", "record", "webhook", "say", "hangup"}
	// recording checks the first request to path, or the second to the
	// document itself.
	recording := func(path, duration, digits string) func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
		return func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
			i := 0
			if path == startPath {
				i = 1
			}
			got := c.Request(t, path, i)
			want := twimlBase("in-progress")
			want["RecordingUrl"], want["RecordingDuration"], want["Digits"] = "sim://recordings/call-1/1.wav", duration, digits
			actionstest.WantExactly(t, got, want, "RecordingSid")
			if sid := got.Param("RecordingSid"); !recordingID.MatchString(sid) {
				t.Errorf("RecordingSid %q", sid)
			}
		}
	}
	runVerbCases(t, []verbCase{
		{
			name: "attributes, and the action gets the recording",
			doc:  `<Record action="/ivr/saved" maxLength="20" timeout="3" finishOnKey="#" playBeep="false"/><Say>never</Say>`,
			docs: saved, script: sim.Script{Inputs: []string{"#"}}, ops: recOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "record", 0), map[string]any{
					"max_length": 20, "timeout": 3, "finish_on_key": "#", "play_beep": false,
					"duration": 3, "url": "sim://recordings/call-1/1.wav", "digits": "#",
				})
				recording("/ivr/saved", "3", "#")(t, r, c)
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "Thanks"})
			},
		},
		{
			name:  "defaults; no action records again to the current document",
			start: []actionstest.Reply{actionstest.Doc(`<Record/><Say>never</Say>`), actionstest.Doc(`<Say>Thanks</Say>`)},
			ops:   recOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "record", 0), map[string]any{
					"max_length": 3600, "timeout": 5, "finish_on_key": "1234567890*#", "play_beep": true, "digits": "",
				})
				if o := r.ChannelOp(t, "record").Options.(call.RecordOptions); !o.Trim {
					t.Errorf("record options %+v, want trimmed", o)
				}
				c.WantPaths(t, "POST "+startPath, "POST "+startPath)
				recording(startPath, "3", "")(t, r, c)
			},
		},
		{
			name: "maxLength shorter than the message", doc: `<Record action="/ivr/saved" maxLength="2"/>`, docs: saved,
			script: sim.Script{Inputs: []string{""}}, ops: recOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "record", 0), map[string]any{"max_length": 2, "duration": 2})
				recording("/ivr/saved", "2", "")(t, r, c)
			},
		},
		{
			name: "timeout 0 (no silence detection) runs to maxLength", doc: `<Record action="/ivr/saved" timeout="0" maxLength="10"/>`, docs: saved,
			script: sim.Script{Inputs: []string{""}}, ops: recOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "record", 0), map[string]any{"timeout": 0, "duration": 10})
				recording("/ivr/saved", "10", "")(t, r, c)
			},
		},
		{
			name: "several finish keys", doc: `<Record action="/ivr/saved" finishOnKey="*#"/>`, docs: saved,
			script: sim.Script{Inputs: []string{"5*#"}}, ops: recOps, check: recording("/ivr/saved", "3", "*"),
		},
		{
			name: "trim do-not-trim, playBeep in any case", doc: `<Record action="/ivr/saved" trim="do-not-trim" playBeep="FALSE"/>`, docs: saved,
			ops: recOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				if o := r.ChannelOp(t, "record").Options.(call.RecordOptions); o.Trim || o.PlayBeep {
					t.Errorf("record options %+v", o)
				}
			},
		},
		{
			name: "an invalid playBeep warns and beeps", doc: `<Record action="/ivr/saved" playBeep="loud"/>`, docs: saved,
			ops: []string{"module", "webhook", "warning", "answer", "record", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13616, "Record", "playBeep")
				actionstest.WantFields(t, r.Line(t, "record", 0), map[string]any{"play_beep": true})
			},
		},
		{
			name: "method GET, relative action", doc: `<Record action="saved" method="GET"/>`, docs: saved,
			ops: recOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				c.WantPaths(t, "POST "+startPath, "GET /ivr/saved")
				recording("/ivr/saved", "3", "")(t, r, c)
			},
		},
		{
			name: "the caller hangs up: the action still gets the recording, its answer is ignored",
			doc:  `<Record action="/ivr/saved"/><Say>never</Say>`, docs: saved,
			script: sim.Script{Inputs: []string{"hangup"}},
			ops:    []string{"module", "webhook", "answer", "record", "webhook", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "record", 0), map[string]any{"digits": "hangup", "duration": 3})
				got := c.Request(t, "/ivr/saved", 0)
				want := twimlBase("completed")
				want["RecordingUrl"], want["RecordingDuration"], want["Digits"] = "sim://recordings/call-1/1.wav", "3", "hangup"
				actionstest.WantExactly(t, got, want, "RecordingSid")
				r.WantHangup(t, "NORMAL_CLEARING", "caller")
			},
		},
	})
}

func TestTwiMLRedirect(t *testing.T) {
	t.Parallel()
	next := actionstest.Doc(`<Say>next document</Say>`)
	redirectOps := []string{"module", "webhook", "redirect", "webhook", "answer", "say", "hangup"}
	to := func(method, path, query string) func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
		return func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
			u := c.URL + path
			if query != "" {
				u += "?" + query
			}
			actionstest.WantFields(t, r.Line(t, "redirect", 0), map[string]any{"url": u, "method": method})
			c.WantPaths(t, "POST "+startPath, method+" "+path)
			got := c.Request(t, path, 0)
			if method == "POST" && got.RawQuery != query {
				t.Errorf("query %q, want %q", got.RawQuery, query)
			}
			actionstest.WantParams(t, got, twimlBase("in-progress"))
			actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "next document"})
		}
	}
	runVerbCases(t, []verbCase{
		{
			name: "a relative path; later verbs are unreachable", doc: `<Redirect>next</Redirect><Say>never</Say>`,
			docs: map[string][]actionstest.Reply{"/ivr/next": {next}}, ops: redirectOps, check: to("POST", "/ivr/next", ""),
		},
		{
			name: "an absolute path", doc: `<Redirect>/top</Redirect>`,
			docs: map[string][]actionstest.Reply{"/top": {next}}, ops: redirectOps, check: to("POST", "/top", ""),
		},
		{
			name: "dot-dot, with a query", doc: `<Redirect>../up?x=1</Redirect>`,
			docs: map[string][]actionstest.Reply{"/up": {next}}, ops: redirectOps, check: to("POST", "/up", "x=1"),
		},
		{
			name: "an absolute URL", doc: `<Redirect>{{base}}/elsewhere/doc.xml</Redirect>`,
			docs: map[string][]actionstest.Reply{"/elsewhere/doc.xml": {next}}, ops: redirectOps, check: to("POST", "/elsewhere/doc.xml", ""),
		},
		{
			name: "scheme-less text is a relative path (RFC 3986)", doc: `<Redirect>example.com?id=34&amp;action=hey</Redirect>`,
			docs: map[string][]actionstest.Reply{"/ivr/example.com": {next}}, ops: redirectOps, check: to("POST", "/ivr/example.com", "id=34&action=hey"),
		},
		{
			name: "white space trimmed", doc: "<Redirect>\n      next?a=1&amp;b=2\n   </Redirect>",
			docs: map[string][]actionstest.Reply{"/ivr/next": {next}}, ops: redirectOps, check: to("POST", "/ivr/next", "a=1&b=2"),
		},
		{
			name: "method GET in any case; parameters after the query", doc: `<Redirect method="get">next?x=1</Redirect>`,
			docs: map[string][]actionstest.Reply{"/ivr/next": {next}}, ops: redirectOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				to("GET", "/ivr/next", "x=1")(t, r, c)
				if q := c.Request(t, "/ivr/next", 0).RawQuery; !strings.HasPrefix(q, "x=1&CallSid=call-1&") {
					t.Errorf("query %q", q)
				}
			},
		},
		{
			name: "an invalid method warns and POSTs", doc: `<Redirect method="DELETE">next</Redirect>`,
			docs: map[string][]actionstest.Reply{"/ivr/next": {next}},
			ops:  []string{"module", "webhook", "warning", "redirect", "webhook", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13710, "Redirect", "method")
				to("POST", "/ivr/next", "")(t, r, c)
			},
		},
		{
			name:  "empty: the current document again",
			start: []actionstest.Reply{actionstest.Doc(`<Redirect/>`), next}, ops: redirectOps,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "redirect", 0), map[string]any{"url": c.URL + startPath, "method": "POST"})
				c.WantPaths(t, "POST "+startPath, "POST "+startPath)
				actionstest.WantParams(t, c.Request(t, startPath, 1), map[string]string{"CallStatus": "in-progress"})
			},
		},
		{
			name: "not http(s): 11100, the apology", doc: `<Redirect>ftp://example.com/next</Redirect><Say>never</Say>`,
			ops: []string{"module", "webhook", "error", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "error", 0), map[string]any{"code": 11100})
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": apology})
				c.WantPaths(t, "POST "+startPath)
			},
		},
	})
}

func TestTwiMLHangup(t *testing.T) {
	t.Parallel()
	runVerbCases(t, []verbCase{
		{
			name: "ends the call; later verbs are unreachable", doc: `<Say>Bye</Say><Hangup/><Say>never</Say>`,
			children: map[string]any{"_": ttsNode("never either")},
			ops:      opsSay,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				r.WantHangup(t, "NORMAL_CLEARING", "switchboard")
				c.WantPaths(t, "POST "+startPath)
			},
		},
		{
			name: "a first Hangup still answers", doc: `<Hangup/>`,
			ops: []string{"module", "webhook", "answer", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				if got := strings.Join(r.ChannelOps(), " "); got != "answer hangup" {
					t.Errorf("channel ops %q", got)
				}
				r.WantHangup(t, "NORMAL_CLEARING", "switchboard")
			},
		},
		{
			name: "an unknown attribute warns; the call is hung up anyway", doc: `<Hangup reason="rejected"/>`,
			ops: []string{"module", "webhook", "warning", "answer", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 12200, "Hangup", "reason")
				r.WantHangup(t, "NORMAL_CLEARING", "switchboard")
			},
		},
		{
			name: "an empty document hangs up without answering", doc: ``,
			ops: []string{"module", "webhook", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				r.WantHangup(t, "NORMAL_CLEARING", "switchboard")
				if r.Channel.Answered() {
					t.Error("answered")
				}
			},
		},
	})
}

func TestTwiMLReject(t *testing.T) {
	t.Parallel()
	rejected := func(reason, cause string) func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
		return func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
			actionstest.WantFields(t, r.Line(t, "reject", 0), map[string]any{"reason": reason, "error": actionstest.NoField{}})
			r.WantHangup(t, cause, "switchboard")
			if r.Channel.Answered() {
				t.Error("a rejected call was answered")
			}
			if got := strings.Join(r.ChannelOps(), " "); got != "reject hangup" && got != "pause reject hangup" {
				t.Errorf("channel ops %q", got)
			}
			for _, op := range r.Channel.Ops() {
				if op.Err != nil {
					t.Errorf("channel %s failed: %v", op.Name, op.Err)
				}
			}
		}
	}
	rejectOps := []string{"module", "webhook", "reject", "hangup"}
	runVerbCases(t, []verbCase{
		{name: "rejected by default, never answered", doc: `<Reject/><Say>never</Say>`, ops: rejectOps, check: rejected("rejected", "CALL_REJECTED")},
		{name: "busy", doc: `<Reject reason="busy"/>`, ops: rejectOps, check: rejected("busy", "USER_BUSY")},
		{name: "the reason in any case", doc: `<Reject reason="BUSY"/>`, ops: rejectOps, check: rejected("busy", "USER_BUSY")},
		{
			name: "an invalid reason warns and rejects", doc: `<Reject reason="nope"/>`,
			ops: []string{"module", "webhook", "warning", "reject", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13810, "Reject", "reason")
				rejected("rejected", "CALL_REJECTED")(t, r, c)
			},
		},
		{
			name: "after a leading Pause the call is still unanswered", doc: `<Pause/><Reject reason="busy"/>`,
			ops: []string{"module", "webhook", "pause", "reject", "hangup"}, check: rejected("busy", "USER_BUSY"),
		},
		{
			name: "after the answer it only hangs up", doc: `<Say>Hello</Say><Reject reason="busy"/><Say>never</Say>`,
			ops: []string{"module", "webhook", "answer", "say", "warning", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 13810, "Reject", "")
				r.WantHangup(t, "USER_BUSY", "switchboard")
			},
		},
	})
}

func TestTwiMLSms(t *testing.T) {
	t.Parallel()
	runVerbCases(t, []verbCase{
		{
			name: "traced, to the caller from the called number; the call goes on",
			doc:  `<Sms>Your code is 1234</Sms><Say>Sent</Say>`,
			ops:  []string{"module", "webhook", "sms", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "sms", 0), map[string]any{"to": testFrom, "from": testTo, "body": "Your code is 1234", "status": "sent"})
			},
		},
		{
			name: "to and from", doc: `<Sms to="+15550000001" from="+15550000002">  Hi &amp; bye </Sms>`,
			ops: []string{"module", "webhook", "sms", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "sms", 0), map[string]any{"to": "+15550000001", "from": "+15550000002", "body": "Hi & bye"})
			},
		},
		{
			name: "an action gets SmsSid and SmsStatus", doc: `<Sms action="sms-done" method="GET">hi</Sms><Say>never</Say>`,
			docs: map[string][]actionstest.Reply{"/ivr/sms-done": {actionstest.Doc(`<Say>done</Say>`)}},
			ops:  []string{"module", "webhook", "sms", "webhook", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				c.WantPaths(t, "POST "+startPath, "GET /ivr/sms-done")
				got := c.Request(t, "/ivr/sms-done", 0)
				want := twimlBase("in-progress")
				want["SmsStatus"] = "sent"
				actionstest.WantExactly(t, got, want, "SmsSid")
				if !smsID.MatchString(got.Param("SmsSid")) {
					t.Errorf("SmsSid %q", got.Param("SmsSid"))
				}
			},
		},
		{
			name: "an empty body warns", doc: `<Sms/>`,
			ops: []string{"module", "webhook", "warning", "sms", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 14103, "Sms", "")
			},
		},
	})
}

func TestTwiMLSet(t *testing.T) {
	t.Parallel()
	runVerbCases(t, []verbCase{
		{
			name: "variables are sent on later requests",
			doc:  `<Set><Variable key="a" value="1"/><Variable key="b" value="x y"/></Set><Redirect>next</Redirect>`,
			docs: map[string][]actionstest.Reply{"/ivr/next": {actionstest.Doc(`<Set><Variable key="a" value="2"/></Set><Redirect>last</Redirect>`)}, "/ivr/last": {actionstest.Doc(`<Hangup/>`)}},
			ops:  []string{"module", "webhook", "set", "set", "redirect", "webhook", "set", "redirect", "webhook", "answer", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "set", 0), map[string]any{"key": "a", "value": "1"})
				actionstest.WantFields(t, r.Line(t, "set", 1), map[string]any{"key": "b", "value": "x y"})
				actionstest.WantFields(t, r.Line(t, "set", 2), map[string]any{"key": "a", "value": "2"})
				actionstest.WantParams(t, c.Request(t, startPath, 0), map[string]string{"a": actionstest.Absent, "b": actionstest.Absent})
				actionstest.WantParams(t, c.Request(t, "/ivr/next", 0), map[string]string{"a": "1", "b": "x y"})
				actionstest.WantParams(t, c.Request(t, "/ivr/last", 0), map[string]string{"a": "2", "b": "x y"})
			},
		},
		{
			name: "a variable cannot forge a call parameter",
			doc:  `<Set><Variable key="CallSid" value="forged"/><Variable key="CallStatus" value="completed"/></Set><Redirect>next</Redirect>`,
			docs: map[string][]actionstest.Reply{"/ivr/next": {actionstest.Doc(`<Hangup/>`)}},
			ops:  []string{"module", "webhook", "set", "set", "redirect", "webhook", "answer", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantParams(t, c.Request(t, "/ivr/next", 0), map[string]string{"CallSid": testCallID, "CallStatus": "in-progress"})
			},
		},
		{
			name: "a variable without a key is skipped with a warning",
			doc:  `<Set><Variable value="orphan"/><Variable key="k" value=""/></Set>`,
			ops:  []string{"module", "webhook", "warning", "set", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 12200, "Variable", "key")
				actionstest.WantFields(t, r.Line(t, "set", 0), map[string]any{"key": "k", "value": ""})
			},
		},
	})
}

func TestTwiMLDocument(t *testing.T) {
	t.Parallel()
	runVerbCases(t, []verbCase{
		{
			name: "an unknown verb is skipped with a warning", doc: `<Foo bar="1"><Say>inside</Say></Foo><Say>after</Say>`,
			ops: []string{"module", "webhook", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 12200, "Foo", "")
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "after"})
			},
		},
		{
			name: "element names are case-sensitive", doc: `<say>lower</say><Say>upper</Say>`,
			ops: []string{"module", "webhook", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 12200, "say", "")
				if m := r.Line(t, "warning", 0)["message"]; !strings.Contains(m.(string), "<Say>") {
					t.Errorf("warning %q does not hint at <Say>", m)
				}
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "upper"})
			},
		},
		{
			name: "an unknown attribute is skipped with a warning", doc: `<Say bogus="1" Voice="x">text</Say>`,
			ops: []string{"module", "webhook", "warning", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 12200, "Say", "bogus")
				wantWarning(t, r, 1, 12200, "Say", "Voice")
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "text", "voice": ""})
			},
		},
		{
			name: "an unsupported Twilio verb is skipped", doc: `<Connect><Stream url="wss://example.com/s"/></Connect><Say>after</Say>`,
			ops: []string{"module", "webhook", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 12200, "Connect", "")
			},
		},
		{
			name: "comments, white space and text between verbs",
			doc:  "\n  <!-- greeting -->\n  <Say>one</Say>  <!-- <Say>commented</Say> -->\n\n\t<Say>two</Say>\n  stray text\n",
			ops:  []string{"module", "webhook", "warning", "answer", "say", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 12200, "Response", "")
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "one"})
				actionstest.WantFields(t, r.Line(t, "say", 1), map[string]any{"text": "two"})
			},
		},
		{
			name:  "a byte order mark, a declaration and a namespace",
			start: []actionstest.Reply{{Type: "text/xml", Body: "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Response xmlns=\"http://www.twilio.com/\" version=\"2010-04-01\"><Say>bom</Say></Response>"}},
			ops:   opsSay,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "bom"})
			},
		},
		{
			name:  "ISO-8859-1 declared",
			start: []actionstest.Reply{{Type: "text/xml", Body: "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Response><Say>caf\xe9</Say></Response>"}},
			ops:   opsSay,
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "café"})
			},
		},
		{
			name: "Leave outside a queue does nothing", doc: `<Leave/><Say>after</Say>`,
			ops: []string{"module", "webhook", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wantWarning(t, r, 0, 14201, "Leave", "")
			},
		},
	})
}

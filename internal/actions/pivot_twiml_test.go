package actions_test

// TwiML verbs run by Pivot, one table per verb: the document is served at
// /ivr/start (so relative URLs have a directory to resolve in), the call
// is simulated, and the trace and the requests the customer server
// received are checked.

import (
	"maps"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
)

const startPath = "/ivr/start"

type verbCase struct {
	name string
	// doc is the verbs of the document at /ivr/start; start, when set,
	// replaces it with several replies.
	doc   string
	start []reply
	// docs are the other documents served.
	docs map[string][]reply
	// data is added to the pivot's data (default: POST, twiml).
	data     map[string]any
	children map[string]any
	script   sim.Script
	ops      []string
	check    func(t *testing.T, r callRun, c *customer)
}

func runVerbCases(t *testing.T, cases []verbCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			docs := map[string][]reply{startPath: {doc(tc.doc)}}
			if tc.start != nil {
				docs[startPath] = tc.start
			}
			maps.Copy(docs, tc.docs)
			data := map[string]any{"voice_url": "{{base}}" + startPath, "method": "POST", "req_format": "twiml"}
			maps.Copy(data, tc.data)
			r, c := runPivot(t, docs, data, tc.children, runOpt{script: tc.script})
			sim.AssertOps(t, r.tr, tc.ops...)
			if tc.check != nil {
				tc.check(t, r, c)
			}
		})
	}
}

// chOps are the operations called on the simulated channel.
func chOps(r callRun) []string {
	var out []string
	for _, op := range r.ch.Ops() {
		out = append(out, op.Name)
	}
	return out
}

// chOp returns the first channel operation named name.
func chOp(t *testing.T, r callRun, name string) sim.Op {
	t.Helper()
	for _, op := range r.ch.Ops() {
		if op.Name == name {
			return op
		}
	}
	t.Fatalf("no %s operation on the channel: %q", name, chOps(r))
	return sim.Op{}
}

func wantRequests(t *testing.T, c *customer, want ...string) {
	t.Helper()
	if got := c.paths(); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("requests %q, want %q", got, want)
	}
}

func wantWarning(t *testing.T, r callRun, i int, code int, verb, attr string) {
	t.Helper()
	want := map[string]any{"code": code, "verb": verb}
	if attr != "" {
		want["attr"] = attr
	}
	wantFields(t, line(t, r.tr, "warning", i), want)
}

func wantHangup(t *testing.T, r callRun, cause, by string) {
	t.Helper()
	wantFields(t, line(t, r.tr, "hangup", 0), map[string]any{"cause": cause, "by": by, "error": noField{}})
	if r.res.Cause != cause || r.res.By != by {
		t.Errorf("result cause %q by %q, want %q %q", r.res.Cause, r.res.By, cause, by)
	}
}

// tAt is a line's simulated time.
func tAt(t *testing.T, r callRun, op string, i int) time.Duration {
	t.Helper()
	ms, _ := line(t, r.tr, op, i)["t_ms"].(float64)
	return time.Duration(ms) * time.Millisecond
}

var (
	opsSay      = []string{"module", "webhook", "answer", "say", "hangup"}
	opsPlay     = []string{"module", "webhook", "answer", "play", "hangup"}
	recordingID = regexp.MustCompile(`^RE[0-9a-f]{32}$`)
	smsID       = regexp.MustCompile(`^SM[0-9a-f]{32}$`)
)

func TestTwiMLSay(t *testing.T) {
	t.Parallel()
	say := func(want map[string]any) func(t *testing.T, r callRun, c *customer) {
		return func(t *testing.T, r callRun, c *customer) {
			wantFields(t, line(t, r.tr, "say", 0), want)
			wantHangup(t, r, "NORMAL_CLEARING", "switchboard")
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
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13510, "Say", "loop")
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"loop": 1000})
			},
		},
		{
			name: "negative loop falls back to 1", doc: `<Say loop="-2">once</Say>`,
			ops: []string{"module", "webhook", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13510, "Say", "loop")
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"loop": 1})
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
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "one"})
				wantFields(t, line(t, r.tr, "say", 1), map[string]any{"text": "two", "voice": "man"})
				if tAt(t, r, "say", 1)-tAt(t, r, "say", 0) < time.Second {
					t.Error("the second say did not wait for the first")
				}
			},
		},
		{
			name: "empty text warns", doc: `<Say voice="woman"></Say>`,
			ops: []string{"module", "webhook", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13520, "Say", "")
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": ""})
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
	play := func(want map[string]any) func(t *testing.T, r callRun, c *customer) {
		return func(t *testing.T, r callRun, c *customer) {
			l := line(t, r.tr, "play", 0)
			for k, v := range want {
				if s, ok := v.(string); ok {
					want[k] = strings.ReplaceAll(s, "{{base}}", c.URL)
				}
			}
			wantFields(t, l, want)
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
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13410, "Play", "loop")
				wantFields(t, line(t, r.tr, "play", 0), map[string]any{"loop": 1000})
			},
		},
		{
			name: "digits are sent as DTMF", doc: `<Play digits="wwww3"></Play>`, ops: opsPlay,
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "play", 0), map[string]any{"digits": "wwww3", "loop": 1, "url": noField{}})
				if op := chOp(t, r, "play"); op.Options.(call.PlayOptions).Digits != "wwww3" {
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
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13430, "Play", "digits")
				wantWarning(t, r, 1, 13420, "Play", "")
			},
		},
		{
			name: "no URL warns", doc: `<Play/><Say>after</Say>`,
			ops: []string{"module", "webhook", "answer", "warning", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13420, "Play", "")
			},
		},
		{
			name: "a URL that is not http(s) warns", doc: `<Play>ftp://example.com/a.wav</Play><Say>after</Say>`,
			ops: []string{"module", "webhook", "answer", "warning", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
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
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "pause", 0), map[string]any{"seconds": 3})
				if got := strings.Join(chOps(r), " "); got != "pause answer say hangup" {
					t.Errorf("channel ops %q", got)
				}
				if d := tAt(t, r, "answer", 0); d < 3*time.Second {
					t.Errorf("answered at %v, want after 3 s", d)
				}
			},
		},
		{
			name: "default length 1 s", doc: `<Say>a</Say><Pause/><Say>b</Say>`,
			ops: []string{"module", "webhook", "answer", "say", "pause", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "pause", 0), map[string]any{"seconds": 1})
				if d := tAt(t, r, "say", 1) - tAt(t, r, "pause", 0); d < time.Second {
					t.Errorf("the second say %v after the pause line", d)
				}
			},
		},
		{
			name: "length 0 is raised to 1 with a warning", doc: `<Pause length="0"/>`,
			ops: []string{"module", "webhook", "warning", "pause", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13910, "Pause", "length")
				wantFields(t, line(t, r.tr, "pause", 0), map[string]any{"seconds": 1})
			},
		},
		{
			name: "not a number: default with a warning", doc: `<Pause length="soon"/>`,
			ops: []string{"module", "webhook", "warning", "pause", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13910, "Pause", "length")
				wantFields(t, line(t, r.tr, "pause", 0), map[string]any{"seconds": 1})
			},
		},
		{
			name: "capped at 3600 s", doc: `<Pause length="7200"/>`,
			ops: []string{"module", "webhook", "warning", "pause", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "pause", 0), map[string]any{"seconds": 3600})
				if !r.ch.Ended() || r.ch.Answered() {
					t.Errorf("after a lone Pause: ended %v answered %v", r.ch.Ended(), r.ch.Answered())
				}
			},
		},
	})
}

func TestTwiMLGather(t *testing.T) {
	t.Parallel()
	menu := map[string][]reply{"/ivr/menu": {doc(`<Say>got it</Say>`)}}
	gatherOps := []string{"module", "webhook", "answer", "gather", "webhook", "say", "hangup"}
	fallThrough := []string{"module", "webhook", "answer", "gather", "say", "hangup"}
	digits := func(d string) func(t *testing.T, r callRun, c *customer) {
		return func(t *testing.T, r callRun, c *customer) {
			wantFields(t, line(t, r.tr, "gather", 0), map[string]any{"digits": d})
			wantRequests(t, c, "POST "+startPath, "POST /ivr/menu")
			want := twimlBase("in-progress")
			want["Digits"] = d
			wantExactly(t, c.request(t, "/ivr/menu", 0), want)
		}
	}
	runVerbCases(t, []verbCase{
		{
			name: "digits go to the action",
			doc:  `<Gather action="/ivr/menu" numDigits="4"><Say>Enter your PIN</Say></Gather><Say>not reached</Say>`,
			docs: menu, script: sim.Script{Inputs: []string{"1234"}}, ops: gatherOps,
			check: func(t *testing.T, r callRun, c *customer) {
				digits("1234")(t, r, c)
				wantFields(t, line(t, r.tr, "gather", 0), map[string]any{
					"num_digits": 4, "timeout": 5, "finish_on_key": "#", "digits": "1234",
					"prompts": []map[string]any{{"op": "say", "text": "Enter your PIN", "voice": "", "language": "", "loop": 1}},
				})
				wantFields(t, line(t, r.tr, "webhook", 1), map[string]any{"method": "POST", "url": c.URL + "/ivr/menu", "iteration": 2})
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "got it"})
			},
		},
		{
			name: "the finish key ends the input and is not sent", doc: `<Gather action="/ivr/menu"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"12#34"}}, ops: gatherOps, check: digits("12"),
		},
		{
			name: "finishOnKey *", doc: `<Gather action="/ivr/menu" finishOnKey="*"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"9#8*7"}}, ops: gatherOps,
			check: func(t *testing.T, r callRun, c *customer) {
				digits("9#8")(t, r, c)
				wantFields(t, line(t, r.tr, "gather", 0), map[string]any{"finish_on_key": "*"})
			},
		},
		{
			name: `finishOnKey "": no key ends the input`, doc: `<Gather action="/ivr/menu" finishOnKey=""/>`,
			docs: menu, script: sim.Script{Inputs: []string{"12#"}}, ops: gatherOps,
			check: func(t *testing.T, r callRun, c *customer) {
				digits("12#")(t, r, c)
				wantFields(t, line(t, r.tr, "gather", 0), map[string]any{"finish_on_key": ""})
			},
		},
		{
			name: "invalid finishOnKey falls back to # with a warning", doc: `<Gather action="/ivr/menu" finishOnKey="x"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"5#"}},
			ops: []string{"module", "webhook", "warning", "answer", "gather", "webhook", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13310, "Gather", "finishOnKey")
				digits("5")(t, r, c)
			},
		},
		{
			name: "numDigits: later keys are dropped", doc: `<Gather action="/ivr/menu" numDigits="2"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"987"}}, ops: gatherOps,
			check: func(t *testing.T, r callRun, c *customer) {
				digits("98")(t, r, c)
				wantFields(t, line(t, r.tr, "gather", 0), map[string]any{"num_digits": 2})
			},
		},
		{
			name: "invalid numDigits: unlimited, with a warning", doc: `<Gather action="/ivr/menu" numDigits="two"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"123#"}},
			ops: []string{"module", "webhook", "warning", "answer", "gather", "webhook", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13314, "Gather", "numDigits")
				digits("123")(t, r, c)
				wantFields(t, line(t, r.tr, "gather", 0), map[string]any{"num_digits": 0})
			},
		},
		{
			name: "no input falls through to the next verb after the timeout",
			doc:  `<Gather action="/ivr/menu" timeout="12"><Play>/beep.wav</Play></Gather><Say>We did not get your answer</Say>`,
			docs: menu, script: sim.Script{Inputs: []string{""}}, ops: fallThrough,
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "gather", 0), map[string]any{
					"digits": "", "timeout": 12,
					"prompts": []map[string]any{{"op": "play", "url": c.URL + "/beep.wav", "loop": 1}},
				})
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "We did not get your answer"})
				wantRequests(t, c, "POST "+startPath)
				// the prompt (1 s) and the timeout (12 s) in simulated time
				if d := tAt(t, r, "gather", 0); d < 13*time.Second {
					t.Errorf("gather ended at %v, want after 13 s", d)
				}
			},
		},
		{
			name: "the finish key before any digit is no input", doc: `<Gather action="/ivr/menu"/><Say>nothing</Say>`,
			docs: menu, script: sim.Script{Inputs: []string{"#1"}}, ops: fallThrough,
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "gather", 0), map[string]any{"digits": ""})
				wantRequests(t, c, "POST "+startPath)
			},
		},
		{
			name: "no input at the end of the document hangs up", doc: `<Gather action="/ivr/menu"/>`,
			docs: menu, ops: []string{"module", "webhook", "answer", "gather", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantRequests(t, c, "POST "+startPath)
				wantHangup(t, r, "NORMAL_CLEARING", "switchboard")
			},
		},
		{
			name: "actionOnEmptyResult requests the action with no Digits",
			doc:  `<Gather action="/ivr/menu" actionOnEmptyResult="TRUE"/><Say>not reached</Say>`,
			docs: menu, script: sim.Script{Inputs: []string{""}}, ops: gatherOps,
			check: func(t *testing.T, r callRun, c *customer) {
				wantRequests(t, c, "POST "+startPath, "POST /ivr/menu")
				wantExactly(t, c.request(t, "/ivr/menu", 0), twimlBase("in-progress"))
			},
		},
		{
			name: "actionOnEmptyResult with digits sends them",
			doc:  `<Gather action="/ivr/menu" actionOnEmptyResult="true"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"7#"}}, ops: gatherOps, check: digits("7"),
		},
		{
			name:   "no action: the current document again, by POST",
			start:  []reply{doc(`<Gather numDigits="1"/><Say>not reached</Say>`), doc(`<Say>again</Say>`)},
			script: sim.Script{Inputs: []string{"5"}}, ops: gatherOps,
			check: func(t *testing.T, r callRun, c *customer) {
				wantRequests(t, c, "POST "+startPath, "POST "+startPath)
				want := twimlBase("in-progress")
				want["Digits"] = "5"
				wantExactly(t, c.request(t, startPath, 1), want)
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "again"})
			},
		},
		{
			name:   "no action after a GET: the document's URL without the parameters appended",
			start:  []reply{doc(`<Gather numDigits="1"/>`), doc(`<Say>again</Say>`)},
			data:   map[string]any{"method": "GET", "voice_url": "{{base}}" + startPath + "?menu=main"},
			script: sim.Script{Inputs: []string{"5"}}, ops: gatherOps,
			check: func(t *testing.T, r callRun, c *customer) {
				wantRequests(t, c, "GET "+startPath, "POST "+startPath)
				again := c.request(t, startPath, 1)
				if again.RawQuery != "menu=main" {
					t.Errorf("re-requested with query %q, want menu=main", again.RawQuery)
				}
				want := twimlBase("in-progress")
				want["Digits"], want["menu"] = "5", "main"
				wantExactly(t, again, want)
			},
		},
		{
			name:   "no action after a signed JSON POST: no stale bodySHA256",
			start:  []reply{doc(`<Gather numDigits="1"/>`), doc(`<Say>again</Say>`)},
			data:   map[string]any{"req_body_format": "json"},
			script: sim.Script{Inputs: []string{"5"}}, ops: gatherOps,
			check: func(t *testing.T, r callRun, c *customer) {
				again := c.request(t, startPath, 1)
				if n := len(again.Values["bodySHA256"]); n != 1 {
					t.Errorf("bodySHA256 sent %d times: %q", n, again.RawQuery)
				}
				wantParams(t, again, map[string]string{"Digits": "5", "CallStatus": "in-progress"})
			},
		},
		{
			name: "method GET, in any case", doc: `<Gather action="/ivr/menu?from=gather" method="gEt" numDigits="1"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"3"}}, ops: gatherOps,
			check: func(t *testing.T, r callRun, c *customer) {
				wantRequests(t, c, "POST "+startPath, "GET /ivr/menu")
				got := c.request(t, "/ivr/menu", 0)
				if !strings.HasPrefix(got.RawQuery, "from=gather&CallSid=") {
					t.Errorf("query %q", got.RawQuery)
				}
				wantParams(t, got, map[string]string{"Digits": "3", "from": "gather"})
			},
		},
		{
			name: "an invalid method warns and POSTs", doc: `<Gather action="/ivr/menu" method="PUT" numDigits="1"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"3"}},
			ops: []string{"module", "webhook", "warning", "answer", "gather", "webhook", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13312, "Gather", "method")
				wantRequests(t, c, "POST "+startPath, "POST /ivr/menu")
			},
		},
		{
			name: "a relative action resolves against the document", doc: `<Gather action="menu?step=2" numDigits="1"/>`,
			docs: menu, script: sim.Script{Inputs: []string{"3"}}, ops: gatherOps,
			check: func(t *testing.T, r callRun, c *customer) {
				if got := c.request(t, "/ivr/menu", 0).RawQuery; got != "step=2" {
					t.Errorf("query %q", got)
				}
			},
		},
		{
			name: "a dot-dot action", doc: `<Gather action="../top" numDigits="1"/>`,
			docs: map[string][]reply{"/top": {doc(`<Say>top</Say>`)}}, script: sim.Script{Inputs: []string{"3"}}, ops: gatherOps,
			check: func(t *testing.T, r callRun, c *customer) {
				wantRequests(t, c, "POST "+startPath, "POST /top")
			},
		},
		{
			name: "nested Say, Play and Pause are the prompts, in order",
			doc:  `<Gather action="/ivr/menu" numDigits="1"><Say voice="alice" language="fr-FR" loop="2">Appuyez</Say><Play>beep.wav</Play><Pause length="2"/></Gather>`,
			docs: menu, script: sim.Script{Inputs: []string{"1"}}, ops: gatherOps,
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "gather", 0), map[string]any{"prompts": []map[string]any{
					{"op": "say", "text": "Appuyez", "voice": "alice", "language": "fr-FR", "loop": 2},
					{"op": "play", "url": c.URL + "/ivr/beep.wav", "loop": 1},
					{"op": "pause", "seconds": 2},
				}})
				o := chOp(t, r, "gather").Options.(call.GatherOptions)
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
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13320, "Dial", "")
				wantWarning(t, r, 1, 13320, "Play", "digits")
				wantFields(t, line(t, r.tr, "gather", 0), map[string]any{"prompts": []map[string]any{
					{"op": "say", "text": "only this", "voice": "", "language": "", "loop": 1},
				}})
			},
		},
		{
			name: "the caller hangs up mid-gather", doc: `<Say>Welcome</Say><Gather action="/ivr/menu"><Say>Press a key</Say></Gather><Say>never</Say>`,
			docs: menu, script: sim.Script{Inputs: []string{"hangup"}},
			ops: []string{"module", "webhook", "answer", "say", "gather", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "gather", 0), map[string]any{"digits": "", "interrupted": true, "error": noField{}})
				wantHangup(t, r, "NORMAL_CLEARING", "caller")
				wantRequests(t, c, "POST "+startPath)
				if r.res.Err != nil {
					t.Errorf("a caller's hangup is not a failure: %v", r.res.Err)
				}
			},
		},
		{
			name: "the caller hangs up in a later document's gather", doc: `<Gather action="/ivr/menu" numDigits="1"/>`,
			docs:   map[string][]reply{"/ivr/menu": {doc(`<Gather action="/ivr/never"/>`)}},
			script: sim.Script{Inputs: []string{"1", "hangup"}},
			ops:    []string{"module", "webhook", "answer", "gather", "webhook", "gather", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "gather", 1), map[string]any{"interrupted": true})
				wantHangup(t, r, "NORMAL_CLEARING", "caller")
				wantRequests(t, c, "POST "+startPath, "POST /ivr/menu")
			},
		},
	})
}

func TestTwiMLDial(t *testing.T) {
	t.Parallel()
	after := map[string][]reply{"/ivr/after": {doc(`<Say>after the call</Say>`)}}
	actionOps := []string{"module", "webhook", "answer", "dial", "webhook", "say", "hangup"}
	outcome := func(status, sid, duration string) func(t *testing.T, r callRun, c *customer) {
		return func(t *testing.T, r callRun, c *customer) {
			wantRequests(t, c, "POST "+startPath, "POST /ivr/after")
			want := twimlBase("in-progress")
			want["DialCallStatus"], want["DialCallSid"], want["DialCallDuration"] = status, sid, duration
			wantExactly(t, c.request(t, "/ivr/after", 0), want)
		}
	}
	number := func(n string) []map[string]any { return []map[string]any{{"kind": "number", "value": n}} }
	runVerbCases(t, []verbCase{
		{
			name: "a plain number; no action continues with the next verb",
			doc:  `<Dial>+15557770000</Dial><Say>after the call</Say>`,
			ops:  []string{"module", "webhook", "answer", "dial", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "dial", 0), map[string]any{
					"targets": number("+15557770000"), "timeout": 30, "caller_id": "", "status": "completed",
					"call_id": "call-1-leg1", "duration": 30,
				})
				wantRequests(t, c, "POST "+startPath)
				o := chOp(t, r, "dial").Options.(call.DialOptions)
				if o.TimeLimit != 4*time.Hour || o.HangupOnStar || o.Record || o.Strategy != "simultaneous" {
					t.Errorf("dial defaults %+v", o)
				}
			},
		},
		{
			name: "the number's white space is trimmed", doc: "<Dial>\n     +15557770000\n  </Dial>",
			ops: []string{"module", "webhook", "answer", "dial", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "dial", 0), map[string]any{"targets": number("+15557770000")})
			},
		},
		{
			name: "Number, Sip, Client and Conference nouns, in order",
			doc: `<Dial><Number sendDigits="ww1">+15550001111</Number><Sip>sip:alice@example.com;transport=tcp?X-Id=1&amp;X-B=2</Sip>` +
				`<Client>bob</Client><Conference beep="false">room-7</Conference></Dial>`,
			ops: []string{"module", "webhook", "answer", "dial", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "dial", 0), map[string]any{"targets": []map[string]any{
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
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "dial", 0), map[string]any{"targets": []map[string]any{
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
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13215, "Application", "")
				wantFields(t, line(t, r.tr, "dial", 0), map[string]any{"targets": number("+15550001111")})
			},
		},
		{
			name: "nothing to dial: a warning, no call, the action gets failed",
			doc:  `<Dial action="/ivr/after">  </Dial><Say>never</Say>`, docs: after,
			ops: []string{"module", "webhook", "warning", "answer", "webhook", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13215, "Dial", "")
				outcome("failed", "", "0")(t, r, c)
			},
		},
		{
			name: "action: completed", doc: `<Dial action="/ivr/after">+15557770000</Dial><Say>never</Say>`, docs: after,
			script: sim.Script{Dials: []string{"completed"}}, ops: actionOps,
			check: func(t *testing.T, r callRun, c *customer) {
				outcome("completed", "call-1-leg1", "30")(t, r, c)
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "after the call"})
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
			check: func(t *testing.T, r callRun, c *customer) {
				outcome("busy", "", "0")(t, r, c)
				wantFields(t, line(t, r.tr, "dial", 0), map[string]any{"status": "busy", "cause": "USER_BUSY", "call_id": ""})
			},
		},
		{
			name: "action: no-answer after the timeout", doc: `<Dial action="/ivr/after" timeout="15">+15557770000</Dial>`, docs: after,
			script: sim.Script{Dials: []string{"no-answer"}}, ops: actionOps,
			check: func(t *testing.T, r callRun, c *customer) {
				outcome("no-answer", "", "0")(t, r, c)
				wantFields(t, line(t, r.tr, "dial", 0), map[string]any{"status": "no-answer", "timeout": 15})
				if d := tAt(t, r, "dial", 0); d < 15*time.Second {
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
			check: func(t *testing.T, r callRun, c *customer) {
				outcome("failed", "", "0")(t, r, c)
				if e, _ := line(t, r.tr, "dial", 0)["error"].(string); !strings.Contains(e, "exploded") {
					t.Errorf("dial line error %q", e)
				}
			},
		},
		{
			name: "timeout, callerId, timeLimit, hangupOnStar, record",
			doc:  `<Dial action="/ivr/after" timeout="15" callerId=" +15550009999 " timeLimit="10" hangupOnStar="true" record="record-from-answer">+15557770000</Dial>`,
			docs: after, ops: actionOps,
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "dial", 0), map[string]any{"timeout": 15, "caller_id": "+15550009999", "duration": 10})
				o := chOp(t, r, "dial").Options.(call.DialOptions)
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
			check: func(t *testing.T, r callRun, c *customer) {
				o := chOp(t, r, "dial").Options.(call.DialOptions)
				if !o.HangupOnStar || !o.Record || o.Strategy != "single" || len(o.Targets) != 2 {
					t.Errorf("dial options %+v", o)
				}
			},
		},
		{
			name: "record do-not-record", doc: `<Dial record="do-not-record">+15557770000</Dial>`,
			ops: []string{"module", "webhook", "answer", "dial", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				if o := chOp(t, r, "dial").Options.(call.DialOptions); o.Record {
					t.Errorf("dial options %+v", o)
				}
			},
		},
		{
			name: "a timeout below 5 s is raised, with a warning", doc: `<Dial timeout="2">+15557770000</Dial>`,
			ops: []string{"module", "webhook", "warning", "answer", "dial", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13212, "Dial", "timeout")
				wantFields(t, line(t, r.tr, "dial", 0), map[string]any{"timeout": 5})
			},
		},
		{
			name: "answerOnBridge leaves the call ringing until the bridge",
			doc:  `<Dial answerOnBridge="true">+15557770000</Dial>`,
			ops:  []string{"module", "webhook", "answer", "dial", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				if got := strings.Join(chOps(r), " "); got != "dial hangup" {
					t.Errorf("channel ops %q, want the dial to answer", got)
				}
				wantParams(t, c.request(t, startPath, 0), map[string]string{"CallStatus": "ringing"})
			},
		},
		{
			name:   "answerOnBridge and busy: the call can still be rejected",
			doc:    `<Dial answerOnBridge="true">+15557770000</Dial><Reject reason="busy"/>`,
			script: sim.Script{Dials: []string{"busy"}},
			ops:    []string{"module", "webhook", "dial", "reject", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantHangup(t, r, "USER_BUSY", "switchboard")
				if r.ch.Answered() {
					t.Error("the call was answered")
				}
			},
		},
		{
			name: "a relative action, GET", doc: `<Dial action="after?leg=b" method="get">+15557770000</Dial>`, docs: after,
			ops: actionOps,
			check: func(t *testing.T, r callRun, c *customer) {
				wantRequests(t, c, "POST "+startPath, "GET /ivr/after")
				wantParams(t, c.request(t, "/ivr/after", 0), map[string]string{"leg": "b", "DialCallStatus": "completed"})
			},
		},
	})
}

func TestTwiMLRecord(t *testing.T) {
	t.Parallel()
	saved := map[string][]reply{"/ivr/saved": {doc(`<Say>Thanks</Say>`)}}
	recOps := []string{"module", "webhook", "answer", "record", "webhook", "say", "hangup"}
	// recording checks the first request to path, or the second to the
	// document itself.
	recording := func(path, duration, digits string) func(t *testing.T, r callRun, c *customer) {
		return func(t *testing.T, r callRun, c *customer) {
			i := 0
			if path == startPath {
				i = 1
			}
			got := c.request(t, path, i)
			want := twimlBase("in-progress")
			want["RecordingUrl"], want["RecordingDuration"], want["Digits"] = "sim://recordings/call-1/1.wav", duration, digits
			wantExactly(t, got, want, "RecordingSid")
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
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "record", 0), map[string]any{
					"max_length": 20, "timeout": 3, "finish_on_key": "#", "play_beep": false,
					"duration": 3, "url": "sim://recordings/call-1/1.wav", "digits": "#",
				})
				recording("/ivr/saved", "3", "#")(t, r, c)
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "Thanks"})
			},
		},
		{
			name:  "defaults; no action records again to the current document",
			start: []reply{doc(`<Record/><Say>never</Say>`), doc(`<Say>Thanks</Say>`)},
			ops:   recOps,
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "record", 0), map[string]any{
					"max_length": 3600, "timeout": 5, "finish_on_key": "1234567890*#", "play_beep": true, "digits": "",
				})
				if o := chOp(t, r, "record").Options.(call.RecordOptions); !o.Trim {
					t.Errorf("record options %+v, want trimmed", o)
				}
				wantRequests(t, c, "POST "+startPath, "POST "+startPath)
				recording(startPath, "3", "")(t, r, c)
			},
		},
		{
			name: "maxLength shorter than the message", doc: `<Record action="/ivr/saved" maxLength="2"/>`, docs: saved,
			script: sim.Script{Inputs: []string{""}}, ops: recOps,
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "record", 0), map[string]any{"max_length": 2, "duration": 2})
				recording("/ivr/saved", "2", "")(t, r, c)
			},
		},
		{
			name: "timeout 0 (no silence detection) runs to maxLength", doc: `<Record action="/ivr/saved" timeout="0" maxLength="10"/>`, docs: saved,
			script: sim.Script{Inputs: []string{""}}, ops: recOps,
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "record", 0), map[string]any{"timeout": 0, "duration": 10})
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
			check: func(t *testing.T, r callRun, c *customer) {
				if o := chOp(t, r, "record").Options.(call.RecordOptions); o.Trim || o.PlayBeep {
					t.Errorf("record options %+v", o)
				}
			},
		},
		{
			name: "an invalid playBeep warns and beeps", doc: `<Record action="/ivr/saved" playBeep="loud"/>`, docs: saved,
			ops: []string{"module", "webhook", "warning", "answer", "record", "webhook", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13616, "Record", "playBeep")
				wantFields(t, line(t, r.tr, "record", 0), map[string]any{"play_beep": true})
			},
		},
		{
			name: "method GET, relative action", doc: `<Record action="saved" method="GET"/>`, docs: saved,
			ops: recOps,
			check: func(t *testing.T, r callRun, c *customer) {
				wantRequests(t, c, "POST "+startPath, "GET /ivr/saved")
				recording("/ivr/saved", "3", "")(t, r, c)
			},
		},
		{
			name: "the caller hangs up: the action still gets the recording, its answer is ignored",
			doc:  `<Record action="/ivr/saved"/><Say>never</Say>`, docs: saved,
			script: sim.Script{Inputs: []string{"hangup"}},
			ops:    []string{"module", "webhook", "answer", "record", "webhook", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "record", 0), map[string]any{"digits": "hangup", "duration": 3})
				got := c.request(t, "/ivr/saved", 0)
				want := twimlBase("completed")
				want["RecordingUrl"], want["RecordingDuration"], want["Digits"] = "sim://recordings/call-1/1.wav", "3", "hangup"
				wantExactly(t, got, want, "RecordingSid")
				wantHangup(t, r, "NORMAL_CLEARING", "caller")
			},
		},
	})
}

func TestTwiMLRedirect(t *testing.T) {
	t.Parallel()
	next := doc(`<Say>next document</Say>`)
	redirectOps := []string{"module", "webhook", "redirect", "webhook", "answer", "say", "hangup"}
	to := func(method, path, query string) func(t *testing.T, r callRun, c *customer) {
		return func(t *testing.T, r callRun, c *customer) {
			u := c.URL + path
			if query != "" {
				u += "?" + query
			}
			wantFields(t, line(t, r.tr, "redirect", 0), map[string]any{"url": u, "method": method})
			wantRequests(t, c, "POST "+startPath, method+" "+path)
			got := c.request(t, path, 0)
			if method == "POST" && got.RawQuery != query {
				t.Errorf("query %q, want %q", got.RawQuery, query)
			}
			wantParams(t, got, twimlBase("in-progress"))
			wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "next document"})
		}
	}
	runVerbCases(t, []verbCase{
		{
			name: "a relative path; later verbs are unreachable", doc: `<Redirect>next</Redirect><Say>never</Say>`,
			docs: map[string][]reply{"/ivr/next": {next}}, ops: redirectOps, check: to("POST", "/ivr/next", ""),
		},
		{
			name: "an absolute path", doc: `<Redirect>/top</Redirect>`,
			docs: map[string][]reply{"/top": {next}}, ops: redirectOps, check: to("POST", "/top", ""),
		},
		{
			name: "dot-dot, with a query", doc: `<Redirect>../up?x=1</Redirect>`,
			docs: map[string][]reply{"/up": {next}}, ops: redirectOps, check: to("POST", "/up", "x=1"),
		},
		{
			name: "an absolute URL", doc: `<Redirect>{{base}}/elsewhere/doc.xml</Redirect>`,
			docs: map[string][]reply{"/elsewhere/doc.xml": {next}}, ops: redirectOps, check: to("POST", "/elsewhere/doc.xml", ""),
		},
		{
			name: "scheme-less text is a relative path (RFC 3986)", doc: `<Redirect>example.com?id=34&amp;action=hey</Redirect>`,
			docs: map[string][]reply{"/ivr/example.com": {next}}, ops: redirectOps, check: to("POST", "/ivr/example.com", "id=34&action=hey"),
		},
		{
			name: "white space trimmed", doc: "<Redirect>\n      next?a=1&amp;b=2\n   </Redirect>",
			docs: map[string][]reply{"/ivr/next": {next}}, ops: redirectOps, check: to("POST", "/ivr/next", "a=1&b=2"),
		},
		{
			name: "method GET in any case; parameters after the query", doc: `<Redirect method="get">next?x=1</Redirect>`,
			docs: map[string][]reply{"/ivr/next": {next}}, ops: redirectOps,
			check: func(t *testing.T, r callRun, c *customer) {
				to("GET", "/ivr/next", "x=1")(t, r, c)
				if q := c.request(t, "/ivr/next", 0).RawQuery; !strings.HasPrefix(q, "x=1&CallSid=call-1&") {
					t.Errorf("query %q", q)
				}
			},
		},
		{
			name: "an invalid method warns and POSTs", doc: `<Redirect method="DELETE">next</Redirect>`,
			docs: map[string][]reply{"/ivr/next": {next}},
			ops:  []string{"module", "webhook", "warning", "redirect", "webhook", "answer", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13710, "Redirect", "method")
				to("POST", "/ivr/next", "")(t, r, c)
			},
		},
		{
			name:  "empty: the current document again",
			start: []reply{doc(`<Redirect/>`), next}, ops: redirectOps,
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "redirect", 0), map[string]any{"url": c.URL + startPath, "method": "POST"})
				wantRequests(t, c, "POST "+startPath, "POST "+startPath)
				wantParams(t, c.request(t, startPath, 1), map[string]string{"CallStatus": "in-progress"})
			},
		},
		{
			name: "not http(s): 11100, the apology", doc: `<Redirect>ftp://example.com/next</Redirect><Say>never</Say>`,
			ops: []string{"module", "webhook", "error", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "error", 0), map[string]any{"code": 11100})
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": apology})
				wantRequests(t, c, "POST "+startPath)
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
			check: func(t *testing.T, r callRun, c *customer) {
				wantHangup(t, r, "NORMAL_CLEARING", "switchboard")
				wantRequests(t, c, "POST "+startPath)
			},
		},
		{
			name: "a first Hangup still answers", doc: `<Hangup/>`,
			ops: []string{"module", "webhook", "answer", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				if got := strings.Join(chOps(r), " "); got != "answer hangup" {
					t.Errorf("channel ops %q", got)
				}
				wantHangup(t, r, "NORMAL_CLEARING", "switchboard")
			},
		},
		{
			name: "an unknown attribute warns; the call is hung up anyway", doc: `<Hangup reason="rejected"/>`,
			ops: []string{"module", "webhook", "warning", "answer", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 12200, "Hangup", "reason")
				wantHangup(t, r, "NORMAL_CLEARING", "switchboard")
			},
		},
		{
			name: "an empty document hangs up without answering", doc: ``,
			ops: []string{"module", "webhook", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantHangup(t, r, "NORMAL_CLEARING", "switchboard")
				if r.ch.Answered() {
					t.Error("answered")
				}
			},
		},
	})
}

func TestTwiMLReject(t *testing.T) {
	t.Parallel()
	rejected := func(reason, cause string) func(t *testing.T, r callRun, c *customer) {
		return func(t *testing.T, r callRun, c *customer) {
			wantFields(t, line(t, r.tr, "reject", 0), map[string]any{"reason": reason, "error": noField{}})
			wantHangup(t, r, cause, "switchboard")
			if r.ch.Answered() {
				t.Error("a rejected call was answered")
			}
			if got := strings.Join(chOps(r), " "); got != "reject hangup" && got != "pause reject hangup" {
				t.Errorf("channel ops %q", got)
			}
			for _, op := range r.ch.Ops() {
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
			check: func(t *testing.T, r callRun, c *customer) {
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
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 13810, "Reject", "")
				wantHangup(t, r, "USER_BUSY", "switchboard")
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
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "sms", 0), map[string]any{"to": testFrom, "from": testTo, "body": "Your code is 1234", "status": "sent"})
			},
		},
		{
			name: "to and from", doc: `<Sms to="+15550000001" from="+15550000002">  Hi &amp; bye </Sms>`,
			ops: []string{"module", "webhook", "sms", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "sms", 0), map[string]any{"to": "+15550000001", "from": "+15550000002", "body": "Hi & bye"})
			},
		},
		{
			name: "an action gets SmsSid and SmsStatus", doc: `<Sms action="sms-done" method="GET">hi</Sms><Say>never</Say>`,
			docs: map[string][]reply{"/ivr/sms-done": {doc(`<Say>done</Say>`)}},
			ops:  []string{"module", "webhook", "sms", "webhook", "answer", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantRequests(t, c, "POST "+startPath, "GET /ivr/sms-done")
				got := c.request(t, "/ivr/sms-done", 0)
				want := twimlBase("in-progress")
				want["SmsStatus"] = "sent"
				wantExactly(t, got, want, "SmsSid")
				if !smsID.MatchString(got.Param("SmsSid")) {
					t.Errorf("SmsSid %q", got.Param("SmsSid"))
				}
			},
		},
		{
			name: "an empty body warns", doc: `<Sms/>`,
			ops: []string{"module", "webhook", "warning", "sms", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
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
			docs: map[string][]reply{"/ivr/next": {doc(`<Set><Variable key="a" value="2"/></Set><Redirect>last</Redirect>`)}, "/ivr/last": {doc(`<Hangup/>`)}},
			ops:  []string{"module", "webhook", "set", "set", "redirect", "webhook", "set", "redirect", "webhook", "answer", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "set", 0), map[string]any{"key": "a", "value": "1"})
				wantFields(t, line(t, r.tr, "set", 1), map[string]any{"key": "b", "value": "x y"})
				wantFields(t, line(t, r.tr, "set", 2), map[string]any{"key": "a", "value": "2"})
				wantParams(t, c.request(t, startPath, 0), map[string]string{"a": absent, "b": absent})
				wantParams(t, c.request(t, "/ivr/next", 0), map[string]string{"a": "1", "b": "x y"})
				wantParams(t, c.request(t, "/ivr/last", 0), map[string]string{"a": "2", "b": "x y"})
			},
		},
		{
			name: "a variable cannot forge a call parameter",
			doc:  `<Set><Variable key="CallSid" value="forged"/><Variable key="CallStatus" value="completed"/></Set><Redirect>next</Redirect>`,
			docs: map[string][]reply{"/ivr/next": {doc(`<Hangup/>`)}},
			ops:  []string{"module", "webhook", "set", "set", "redirect", "webhook", "answer", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantParams(t, c.request(t, "/ivr/next", 0), map[string]string{"CallSid": testCallID, "CallStatus": "in-progress"})
			},
		},
		{
			name: "a variable without a key is skipped with a warning",
			doc:  `<Set><Variable value="orphan"/><Variable key="k" value=""/></Set>`,
			ops:  []string{"module", "webhook", "warning", "set", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 12200, "Variable", "key")
				wantFields(t, line(t, r.tr, "set", 0), map[string]any{"key": "k", "value": ""})
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
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 12200, "Foo", "")
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "after"})
			},
		},
		{
			name: "element names are case-sensitive", doc: `<say>lower</say><Say>upper</Say>`,
			ops: []string{"module", "webhook", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 12200, "say", "")
				if m := line(t, r.tr, "warning", 0)["message"]; !strings.Contains(m.(string), "<Say>") {
					t.Errorf("warning %q does not hint at <Say>", m)
				}
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "upper"})
			},
		},
		{
			name: "an unknown attribute is skipped with a warning", doc: `<Say bogus="1" Voice="x">text</Say>`,
			ops: []string{"module", "webhook", "warning", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 12200, "Say", "bogus")
				wantWarning(t, r, 1, 12200, "Say", "Voice")
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "text", "voice": ""})
			},
		},
		{
			name: "an unsupported Twilio verb is skipped", doc: `<Connect><Stream url="wss://example.com/s"/></Connect><Say>after</Say>`,
			ops: []string{"module", "webhook", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 12200, "Connect", "")
			},
		},
		{
			name: "comments, white space and text between verbs",
			doc:  "\n  <!-- greeting -->\n  <Say>one</Say>  <!-- <Say>commented</Say> -->\n\n\t<Say>two</Say>\n  stray text\n",
			ops:  []string{"module", "webhook", "warning", "answer", "say", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 12200, "Response", "")
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "one"})
				wantFields(t, line(t, r.tr, "say", 1), map[string]any{"text": "two"})
			},
		},
		{
			name:  "a byte order mark, a declaration and a namespace",
			start: []reply{{Type: "text/xml", Body: "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Response xmlns=\"http://www.twilio.com/\" version=\"2010-04-01\"><Say>bom</Say></Response>"}},
			ops:   opsSay,
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "bom"})
			},
		},
		{
			name:  "ISO-8859-1 declared",
			start: []reply{{Type: "text/xml", Body: "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Response><Say>caf\xe9</Say></Response>"}},
			ops:   opsSay,
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "café"})
			},
		},
		{
			name: "Leave outside a queue does nothing", doc: `<Leave/><Say>after</Say>`,
			ops: []string{"module", "webhook", "warning", "answer", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantWarning(t, r, 0, 14201, "Leave", "")
			},
		},
	})
}

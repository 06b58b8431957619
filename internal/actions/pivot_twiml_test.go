package actions_test

// TwiML verbs run by Pivot, one table per verb: the document is served at
// /ivr/start (so relative URLs have a directory to resolve in), the call
// is simulated, and the trace and the requests the customer server
// received are checked.

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call"
)

const startPath = "/ivr/start"

// runVerbCases runs TwiML cases: a POST in the twiml format to startPath.
func runVerbCases(t *testing.T, cases []pivotCase) {
	t.Helper()
	runPivotCases(t, map[string]any{"voice_url": "{{base}}" + startPath, "method": "POST", "req_format": "twiml"}, cases)
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
	runVerbCases(t, []pivotCase{
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
	runVerbCases(t, []pivotCase{
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
	runVerbCases(t, []pivotCase{
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

package actions_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
)

func TestRecordCallStartStop(t *testing.T) {
	flow := `{"module":"record_call","data":{"action":"start","format":"wav","time_limit":600,"url":"https://storage.example.com/r"},"children":{"_":
		{"module":"sleep","data":{"duration":10},"children":{"_":
		{"module":"record_call","data":{"action":"stop"}}}}}}`
	c := catRun(t, flow, catOpts{})
	lines := c.Find("record_call")
	if len(lines) != 2 {
		t.Fatalf("record_call lines %v", lines)
	}
	wantEqual(t, "start", []any{lines[0]["action"], lines[0]["format"], lines[0]["url"], lines[0]["time_limit"]},
		[]any{"start", "wav", "https://storage.example.com/r", 600})
	if lines[1]["action"] != "stop" || lines[1]["recording"] != true || !strings.HasSuffix(lines[1]["url"].(string), ".wav") {
		t.Errorf("stop %v", lines[1])
	}
	if d := lines[1]["duration"].(float64); d < 10 || d > 11 {
		t.Errorf("duration %v, want the 10 s slept", d)
	}
	var opts []call.CallRecordingOptions
	for _, op := range c.Channel.Ops() {
		if o, ok := op.Options.(call.CallRecordingOptions); ok && op.Name == "record_call" {
			opts = append(opts, o)
		}
	}
	if len(opts) != 1 || opts[0].TimeLimit != 10*time.Minute || opts[0].Method != "put" {
		t.Errorf("channel got %+v", opts)
	}
}

func TestRecordCallDefaultsAndStopWithoutStart(t *testing.T) {
	c := catRun(t, `{"module":"record_call","data":{"action":"stop"},"children":{"_":{"module":"record_call","data":{}}}}`, catOpts{})
	lines := c.Find("record_call")
	wantEqual(t, "stop without a recording", lines[0]["recording"], any(false))
	wantEqual(t, "defaults", []any{lines[1]["action"], lines[1]["format"], lines[1]["time_limit"]}, []any{"start", "mp3", 3600})
	if !c.Channel.Recording() {
		t.Error("the recording does not run to the end of the call")
	}
}

// plainChannel hides the simulated channel's CallRecorder.
type plainChannel struct{ call.Channel }

func TestRecordCallUnsupported(t *testing.T) {
	_, ch := sim.New(t.Context(), call.Info{ID: "c"}, sim.Script{})
	if _, ok := call.As[call.CallRecorder](call.Traced(ch, call.NewTrace(ch.Clock(), nil))); !ok {
		t.Fatal("As does not see through Traced")
	}
	c := catRun(t, `{"module":"record_call","data":{"action":"start"},"children":{"_":{"module":"tts","data":{"text":"Hi."}}}}`,
		catOpts{wrap: func(ch call.Channel) call.Channel { return plainChannel{ch} }})
	res, tr := c.Result, c.Trace
	errs := sim.Find(tr, "error")
	if len(errs) != 1 || res.Err != nil {
		t.Fatalf("errors %v, result %+v", errs, res)
	}
	if says := sim.Find(tr, "say"); len(says) != 1 {
		t.Errorf("the call did not go on:\n%s", tr.JSONL())
	}
}

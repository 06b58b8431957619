package actions_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call/sim"
)

var recordingSid = regexp.MustCompile(`^RE[0-9a-f]{32}$`)

// TestRecordingStatusCallback: <Record recordingStatusCallback> is told
// of the finished recording (signed, with the call's parameters), before
// the action; the action and the callback name the same RecordingSid.
func TestRecordingStatusCallback(t *testing.T) {
	t.Parallel()
	r, c := runPivot(t, map[string][]actionstest.Reply{
		"/ivr":    {actionstest.Doc(`<Record action="/done" recordingStatusCallback="status" maxLength="10"/>`)},
		"/done":   {actionstest.Doc(`<Hangup/>`)},
		"/status": {{Status: 204}},
	}, map[string]any{"voice_url": "{{base}}/ivr", "method": "POST", "req_format": "twiml"}, nil,
		actionstest.Options{Script: sim.Script{Inputs: []string{"#"}}})
	c.WantPaths(t, "POST /ivr", "POST /status", "POST /done")
	st, done := c.Request(t, "/status", 0), c.Request(t, "/done", 0)
	if !recordingSid.MatchString(st.Param("RecordingSid")) || st.Param("RecordingSid") != done.Param("RecordingSid") {
		t.Errorf("RecordingSid %q (action %q)", st.Param("RecordingSid"), done.Param("RecordingSid"))
	}
	actionstest.WantParams(t, st, map[string]string{
		"RecordingStatus": "completed", "RecordingUrl": done.Param("RecordingUrl"),
		"RecordingDuration": done.Param("RecordingDuration"), "RecordingSource": "RecordVerb",
		"CallSid": testCallID, "AccountSid": testAccountSid,
	})
	if st.Header.Get("X-Twilio-Signature") == "" {
		t.Error("the callback is not signed")
	}
	actionstest.WantFields(t, r.Line(t, "webhook", 1), map[string]any{"purpose": "callback", "status": 204})
}

// TestFillerWhileTheServerIsSlow: a request slower than filler_delay_ms
// gets the filler spoken meanwhile; a fast one does not.
func TestFillerWhileTheServerIsSlow(t *testing.T) {
	t.Parallel()
	r, _ := runPivot(t, map[string][]actionstest.Reply{
		"/slow": {{Hold: true}},
	}, map[string]any{"voice_url": "{{base}}/slow", "method": "POST", "req_format": "twiml",
		"req_timeout_ms": 400, "filler_text": "One moment please.", "filler_delay_ms": 50, "retries": 0},
		map[string]any{"_": ttsNode("after")}, actionstest.Options{})
	says := r.Find("say")
	if len(says) < 2 || says[0]["text"] != "One moment please." || says[len(says)-1]["text"] != "after" {
		t.Errorf("says %v", says)
	}
	r2, _ := runPivot(t, map[string][]actionstest.Reply{
		"/fast": {actionstest.Doc(`<Say>fast</Say>`)},
	}, map[string]any{"voice_url": "{{base}}/fast", "method": "POST", "req_format": "twiml",
		"filler_text": "One moment please.", "filler_delay_ms": 5000}, nil, actionstest.Options{})
	for _, s := range r2.Find("say") {
		if strings.Contains(s["text"].(string), "moment") {
			t.Errorf("filler on a fast answer: %v", s)
		}
	}
}

package actions_test

// TwiML <Dial> attributes that act on the called party's leg: sendDigits,
// the whisper url, record and its status callback.

import (
	"testing"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
)

func TestTwiMLDialLegAttributes(t *testing.T) {
	t.Parallel()
	after := []actionstest.Reply{actionstest.Doc(`<Say>after the call</Say>`)}
	runVerbCases(t, []pivotCase{
		{
			name: "sendDigits keeps keys and waits only",
			doc:  `<Dial><Number sendDigits="ww12#x-9">+15557770000</Number><Number>+15557770001</Number></Dial>`,
			ops:  []string{"module", "webhook", "answer", "dial", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				o := r.ChannelOp(t, "dial").Options.(call.DialOptions)
				if o.Targets[0].SendDigits != "ww12#9" || o.Targets[1].SendDigits != "" {
					t.Errorf("targets %+v", o.Targets)
				}
			},
		},
		{
			name: "a whisper runs on the called party before the bridge",
			doc:  `<Dial action="/ivr/after"><Number url="/ivr/whisper" method="GET">+15557770000</Number></Dial>`,
			docs: map[string][]actionstest.Reply{
				"/ivr/whisper": {actionstest.Doc(`<Say>You have a call.</Say><Dial>+1555</Dial>`)}, "/ivr/after": after,
			},
			ops: []string{"module", "webhook", "answer", "webhook", "warning", "whisper", "dial", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				c.WantPaths(t, "POST "+startPath, "GET /ivr/whisper", "POST /ivr/after")
				actionstest.WantParams(t, c.Request(t, "/ivr/whisper", 0), map[string]string{
					"DialCallSid": call.LegSid("call-1-leg1"), "DialSipCallId": "call-1-leg1", "ParentCallSid": testCallID, "CallSid": testCallID,
				})
				actionstest.WantFields(t, r.Line(t, "whisper", 0), map[string]any{"accepted": true, "leg": "call-1-leg1"})
				wantWarning(t, r, 0, 13201, "Dial", "")
				actionstest.WantParams(t, c.Request(t, "/ivr/after", 0), map[string]string{"DialCallStatus": "completed", "DialBridged": "true"})
			},
		},
		{
			name: "a screening whisper that hangs up refuses: no-answer",
			doc:  `<Dial action="/ivr/after"><Sip url="/ivr/screen">sip:bob@example.com</Sip></Dial>`,
			docs: map[string][]actionstest.Reply{
				"/ivr/screen": {actionstest.Doc(`<Gather numDigits="1" action="/ivr/accepted"><Say>Press 1 to accept.</Say></Gather><Hangup/>`)},
				"/ivr/after":  after,
			},
			ops: []string{"module", "webhook", "answer", "webhook", "whisper", "dial", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "whisper", 0), map[string]any{"accepted": false})
				actionstest.WantFields(t, r.Line(t, "dial", 0), map[string]any{"status": "no-answer", "cause": "CALL_REJECTED"})
				actionstest.WantParams(t, c.Request(t, "/ivr/after", 0), map[string]string{
					"DialCallStatus": "no-answer", "DialBridged": "false", "DialCallSid": "",
				})
			},
		},
		{
			name: "a whisper that cannot be fetched refuses",
			doc:  `<Dial action="/ivr/after"><Client url="/ivr/missing">bob</Client></Dial>`,
			docs: map[string][]actionstest.Reply{"/ivr/after": after},
			ops:  []string{"module", "webhook", "answer", "webhook", "whisper", "dial", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				w := r.Line(t, "whisper", 0)
				if w["accepted"] != false || w["error"] == nil {
					t.Errorf("whisper line %v", w)
				}
				actionstest.WantParams(t, c.Request(t, "/ivr/after", 0), map[string]string{"DialCallStatus": "no-answer"})
			},
		},
		{
			name: "record from ringing, dual: RecordingUrl to the action, the callback when ready",
			doc: `<Dial action="/ivr/after" record="record-from-ringing-dual" recordingStatusCallback="/ivr/recorded" ` +
				`recordingStatusCallbackMethod="GET">+15557770000</Dial>`,
			docs:   map[string][]actionstest.Reply{"/ivr/after": after, "/ivr/recorded": {actionstest.Doc(``)}},
			script: sim.Script{Dials: []string{"completed"}},
			ops:    []string{"module", "webhook", "answer", "dial", "webhook", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				o := r.ChannelOp(t, "dial").Options.(call.DialOptions)
				if !o.Record || !o.RecordFromRinging || !o.RecordDual {
					t.Errorf("dial options %+v", o)
				}
				c.WantPaths(t, "POST "+startPath, "GET /ivr/recorded", "POST /ivr/after")
				rec := c.Request(t, "/ivr/recorded", 0)
				actionstest.WantParams(t, rec, map[string]string{
					"RecordingStatus": "completed", "RecordingChannels": "2", "RecordingSource": "DialVerb",
					"RecordingUrl": "sim://recordings/call-1/dial-1.wav", "RecordingDuration": "30",
				})
				if !recordingID.MatchString(rec.Param("RecordingSid")) {
					t.Errorf("RecordingSid %q", rec.Param("RecordingSid"))
				}
				actionstest.WantParams(t, c.Request(t, "/ivr/after", 0), map[string]string{
					"RecordingUrl": "sim://recordings/call-1/dial-1.wav", "RecordingSid": rec.Param("RecordingSid"),
				})
			},
		},
		{
			name: "record, not bridged: absent when asked, no RecordingUrl",
			doc: `<Dial action="/ivr/after" record="true" recordingStatusCallback="/ivr/recorded" ` +
				`recordingStatusCallbackEvent="in-progress completed absent">+15557770000</Dial>`,
			docs:   map[string][]actionstest.Reply{"/ivr/after": after, "/ivr/recorded": {actionstest.Doc(``)}},
			script: sim.Script{Dials: []string{"busy"}},
			ops:    []string{"module", "webhook", "answer", "dial", "webhook", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantParams(t, c.Request(t, "/ivr/recorded", 0), map[string]string{"RecordingStatus": "absent", "RecordingChannels": "1"})
				if a := c.Request(t, "/ivr/after", 0); a.Has("RecordingUrl") {
					t.Errorf("RecordingUrl sent for a call that was not bridged: %v", a.Values)
				}
			},
		},
		{
			name: "record without a callback event completed: nothing sent",
			doc: `<Dial action="/ivr/after" record="record-from-answer" recordingStatusCallback="/ivr/recorded" ` +
				`recordingStatusCallbackEvent="absent">+15557770000</Dial>`,
			docs: map[string][]actionstest.Reply{"/ivr/after": after},
			ops:  []string{"module", "webhook", "answer", "dial", "webhook", "say", "hangup"},
		},
	})
}

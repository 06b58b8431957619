package actions_test

// TwiML <Dial> and <Record> run by Pivot.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
)

// wantTargets checks the dial line's targets, given as kind, value pairs.
func wantTargets(kindValues ...string) func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
	var targets []map[string]any
	for i := 0; i+1 < len(kindValues); i += 2 {
		targets = append(targets, map[string]any{"kind": kindValues[i], "value": kindValues[i+1]})
	}
	return func(t *testing.T, r *actionstest.Call, _ *actionstest.Customer) {
		t.Helper()
		actionstest.WantFields(t, r.Line(t, "dial", 0), map[string]any{"targets": targets})
	}
}

func TestTwiMLDial(t *testing.T) {
	t.Parallel()
	after := map[string][]actionstest.Reply{"/ivr/after": {actionstest.Doc(`<Say>after the call</Say>`)}}
	actionOps := []string{"module", "webhook", "answer", "dial", "webhook", "say", "hangup"}
	outcome := func(status, sid, duration string) func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
		return func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
			c.WantPaths(t, "POST "+startPath, "POST /ivr/after")
			want := twimlBase("in-progress")
			want["DialCallStatus"], want["DialCallSid"], want["DialCallDuration"] = status, call.LegSid(sid), duration
			want["DialSipCallId"] = sid
			want["DialBridged"] = fmt.Sprint(status == "completed")
			actionstest.WantExactly(t, c.Request(t, "/ivr/after", 0), want)
		}
	}
	number := func(n string) []map[string]any { return []map[string]any{{"kind": "number", "value": n}} }
	runVerbCases(t, []pivotCase{
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
			check: wantTargets("number", "+15550001111", "sip", "sip:alice@example.com;transport=tcp?X-Id=1&X-B=2",
				"client", "bob", "conference", "room-7"),
		},
		{
			name: "Client with Identity, Sip with Uri, Kazoo's User and Device",
			doc: `<Dial><Client><Identity>carol</Identity><Parameter name="k" value="v"/></Client>` +
				`<Sip><Uri>sip:dave@example.com</Uri></Sip><User>user-1</User><Device>dev-2</Device></Dial>`,
			ops:   []string{"module", "webhook", "answer", "dial", "hangup"},
			check: wantTargets("client", "carol", "sip", "sip:dave@example.com", "user", "user-1", "device", "dev-2"),
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
			name: "action: canceled", doc: `<Dial action="/ivr/after">+15557770000</Dial>`, docs: after,
			script: sim.Script{Dials: []string{"canceled"}}, ops: actionOps, check: outcome("canceled", "", "0"),
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
				c.WantPaths(t, "POST "+startPath, "POST /ivr/after")
				want := twimlBase("in-progress")
				want["DialCallStatus"], want["DialCallSid"], want["DialCallDuration"], want["DialBridged"] = "completed", call.LegSid("call-1-leg1"), "10", "true"
				want["DialSipCallId"] = "call-1-leg1"
				want["RecordingUrl"], want["RecordingDuration"] = "sim://recordings/call-1/dial-1.wav", "10"
				got := c.Request(t, "/ivr/after", 0)
				want["RecordingSid"] = got.Param("RecordingSid")
				actionstest.WantExactly(t, got, want)
				if !recordingID.MatchString(got.Param("RecordingSid")) {
					t.Errorf("RecordingSid %q", got.Param("RecordingSid"))
				}
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
	runVerbCases(t, []pivotCase{
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

package actions_test

// TwiML verbs that steer the call, run by Pivot: <Redirect>, <Hangup>,
// <Reject>, <Sms>, <Set>, and whole documents.

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
)

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
	runVerbCases(t, []pivotCase{
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
	runVerbCases(t, []pivotCase{
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
			name: "an empty document hangs up without answering", start: []actionstest.Reply{actionstest.Doc(``)},
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
	runVerbCases(t, []pivotCase{
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
	runVerbCases(t, []pivotCase{
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
	runVerbCases(t, []pivotCase{
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
	runVerbCases(t, []pivotCase{
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

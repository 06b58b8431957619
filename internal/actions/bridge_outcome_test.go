package actions_test

import (
	"strings"
	"testing"
)

// TestBridgeFailureBranches: a bridging module that was not bridged goes
// to the child named after the failure, in Kazoo's order
// (cf_util:handle_bridge_failure): the hangup cause, then the SIP code,
// then our status, then "_"; a bridged call ends the flow.
func TestBridgeFailureBranches(t *testing.T) {
	say := func(text string) string { return `{"module":"tts","data":{"text":"` + text + `"}}` }
	flow := func(children ...string) string {
		kids := make([]string, 0, len(children))
		for _, k := range children {
			kids = append(kids, `"`+k+`":`+say(k))
		}
		return `{"module":"resources","data":{"to_did":"+15557770000"},"children":{` + strings.Join(kids, ",") + `}}`
	}
	for _, tc := range []struct {
		name     string
		dial     string
		children []string
		want     string // the child said; "" when the flow ended
	}{
		{"busy: the cause first", "busy", []string{"USER_BUSY", "sip:486", "_"}, "USER_BUSY"},
		{"busy: the SIP code without a cause child", "busy", []string{"sip:486", "_"}, "sip:486"},
		{"busy: the status without either", "busy", []string{"busy", "_"}, "busy"},
		{"busy: _ otherwise", "busy", []string{"NO_ANSWER", "_"}, "_"},
		{"a busy everywhere by its code", "busy:sip:600", []string{"sip:600", "USER_BUSY", "_"}, "sip:600"},
		{"no answer", "no-answer", []string{"USER_BUSY", "NO_ANSWER", "_"}, "NO_ANSWER"},
		{"not found: the code", "failed:sip:404", []string{"sip:404", "_"}, "sip:404"},
		{"a named failure", "failed:UNALLOCATED_NUMBER", []string{"UNALLOCATED_NUMBER", "_"}, "UNALLOCATED_NUMBER"},
		{"failed: _", "failed", []string{"USER_BUSY", "_"}, "_"},
		{"bridged: the flow ends", "completed", []string{"USER_BUSY", "_"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := catRun(t, flow(tc.children...), catOpts{dials: []string{tc.dial}})
			said := c.Said()
			switch {
			case tc.want == "" && len(said) != 0:
				t.Errorf("said %v after a bridged call", said)
			case tc.want != "" && (len(said) != 1 || said[0] != tc.want):
				t.Errorf("said %v, want the %s child\n%s", said, tc.want, c.Trace.JSONL())
			}
		})
	}
}

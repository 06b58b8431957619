package api

import (
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

// TestCallStatusSaysWhatCallerGot: a call's status word follows what its
// record says the caller got: a refusal before any flow, a refusal a flow
// ended with (by code, in Twilio's words), a hangup after an answer.
func TestCallStatusSaysWhatCallerGot(t *testing.T) {
	end := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		flow, cause, by string
		ended           time.Time
		want            string
	}{
		{"f1", "", "", time.Time{}, "in_progress"},
		{"", "sip:404", "switchboard", end, "refused"},
		{"f1", "sip:480", "switchboard", end, "no-answer"},
		{"f1", "sip:408", "switchboard", end, "no-answer"},
		{"f1", "sip:486", "switchboard", end, "busy"},
		{"f1", "sip:600", "switchboard", end, "busy"},
		{"f1", "sip:487", "switchboard", end, "canceled"},
		{"f1", "sip:503", "switchboard", end, "failed"},
		{"f1", "sip:487", "caller", end, "completed"},
		{"f1", "NORMAL_CLEARING", "switchboard", end, "completed"},
		{"f1", "NORMAL_CLEARING", "caller", end, "completed"},
	} {
		c := store.CallRecord{CallflowID: tc.flow, HangupCause: tc.cause, HangupBy: tc.by, Ended: tc.ended}
		if got := callStatus(c); got != tc.want {
			t.Errorf("flow %q cause %q by %q: %q, want %q", tc.flow, tc.cause, tc.by, got, tc.want)
		}
	}
}

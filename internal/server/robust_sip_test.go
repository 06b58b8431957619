package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
	"github.com/switchboard/switchboard/internal/sip/siptest"
	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// TestSilentCallerHungUp: a caller that answers nothing with RTP is hung
// up after --media-timeout with BYE, and the call log says media_timeout.
func TestSilentCallerHungUp(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, withSIP("127.0.0.1"), func(c *server.Config) { c.SIP.MediaTimeout = time.Second })
	putFlow(t, s, "1300", map[string]any{"module": "collect_dtmf", "data": map[string]any{"max_digits": 4, "timeout": 60000}})
	p := siptest.NewPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := p.Call(ctx, s.SIPAddr(), "1300", siptest.CallOptions{})
	if err != nil || c.Status != 200 {
		t.Fatalf("call: %d %v", c.Status, err)
	}
	defer c.Close()
	select {
	case <-c.Ended():
	case <-ctx.Done():
		t.Fatal("no BYE to a caller that sends no media")
	}
	rec := waitfor.Value(t, 10*time.Second, "the call's end in the call log", func() (store.CallRecord, bool) {
		rec, err := s.CallLog().GetCall(t.Context(), s.AccountID, c.CallID())
		return rec, err == nil && !rec.Ended.IsZero()
	})
	if rec.HangupCause != "media_timeout" || rec.HangupBy != "switchboard" {
		t.Errorf("ended %q by %q, want media_timeout by switchboard\n%s", rec.HangupCause, rec.HangupBy, rec.Trace)
	}
}

// TestRefusedCallsAreRecorded: an INVITE from a source that is no trunk
// gets 403 and leaves a record in …/calls (status "refused") and a count
// in …/calls/refused; so does a call shed by --max-calls.
func TestRefusedCallsAreRecorded(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, withSIP("192.0.2.1"))
	p := siptest.NewPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := p.Call(ctx, s.SIPAddr(), "1400", siptest.CallOptions{})
	if err != nil || c.Status != 403 {
		t.Fatalf("call from a stranger: %d %v", c.Status, err)
	}
	base := "/v2/accounts/" + s.AccountID + "/calls"
	env := waitfor.Value(t, 10*time.Second, "the refused call counted", func() (map[string]any, bool) {
		status, env := s.Do("GET", base+"/refused", s.Token, nil)
		data, _ := env["data"].(map[string]any)
		counts, _ := data["counts"].(map[string]any)
		return env, status == 200 && counts["sip:403"] == float64(1)
	})
	calls := env["data"].(map[string]any)["calls"].([]any)
	if len(calls) != 1 || calls[0].(map[string]any)["to"] != "1400" || calls[0].(map[string]any)["status"] != "refused" {
		t.Errorf("refused calls %v", calls)
	}
	status, list := s.Do("GET", base, s.Token, nil)
	if status != 200 || fmt.Sprint(list["data"]) == "[]" {
		t.Fatalf("calls: %d %v", status, list)
	}
	first := list["data"].([]any)[0].(map[string]any)
	if first["hangup_cause"] != "sip:403" || first["status"] != "refused" {
		t.Errorf("calls list: %v", first)
	}
	status, trace := s.Do("GET", base+"/"+c.CallID()+"/trace", s.Token, nil)
	if status != 200 || !containsOp(trace, "reject", "untrusted source") {
		t.Errorf("trace: %d %v", status, trace)
	}
}

// containsOp reports whether a trace envelope has a line of op whose
// reason is reason.
func containsOp(env map[string]any, op, reason string) bool {
	lines, _ := env["data"].([]any)
	for _, l := range lines {
		m, _ := l.(map[string]any)
		if m["op"] == op && m["reason"] == reason {
			return true
		}
	}
	return false
}

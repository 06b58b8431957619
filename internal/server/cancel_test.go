package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/servertest"
)

// TestCancelDuringRouting: a caller that gives up (CANCEL) while its call
// is routed is the caller hanging up, not a failed flow: by caller, and
// no flow_unavailable error in the trace.
func TestCancelDuringRouting(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	flow := map[string]any{"data": map[string]any{"numbers": []string{"7200"}, "flow": map[string]any{
		"module": "play", "data": map[string]any{"id": "tone_stream://%(500,0,440)"}}}}
	if status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, flow); status != 201 {
		t.Fatalf("create: %d %v", status, env)
	}
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(call.ErrHangup) // the CANCEL came before the flow was loaded
	ctx, ch := sim.New(ctx, call.Info{ID: "cancelled", AccountID: s.AccountID, Request: "7200"}, sim.Script{})
	tr := call.NewTrace(ch.Clock(), nil)
	res := s.Calls().Handle(ctx, ch, tr)
	if res.By != call.HangupByCaller {
		t.Errorf("result %+v, want by caller", res)
	}
	if errs := sim.Find(tr, "error"); len(errs) > 0 {
		t.Errorf("error lines %v", errs[0].Fields)
	}
	if ops := strings.Join(sim.Ops(tr), " "); !strings.HasSuffix(ops, "hangup") {
		t.Errorf("ops %s", ops)
	}
	rec, err := s.CallLog().GetCall(t.Context(), s.AccountID, "cancelled")
	if err != nil || rec.HangupBy != call.HangupByCaller {
		t.Errorf("call log: %v %+v", err, rec)
	}
}

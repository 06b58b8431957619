package server_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/servertest"
)

func TestUnknownNumberIsRefused(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	ctx, ch := sim.New(t.Context(), call.Info{ID: "c1", AccountID: s.AccountID, Request: "4040"}, sim.Script{})
	tr := call.NewTrace(ch.Clock(), nil)
	res := s.Calls().Handle(ctx, ch, tr)
	if got := strings.Join(sim.Ops(tr), " "); got != "route reject hangup" {
		t.Fatalf("ops %s", got)
	}
	route := sim.Find(tr, "route")[0]
	if route.Fields["error"] == nil || route.Fields["number"] != "4040" {
		t.Errorf("route line %v", route.Fields)
	}
	if res.Cause != "sip:404" || sim.Find(tr, "reject")[0].Fields["reason"] != "sip:404" {
		t.Errorf("result %+v", res)
	}
	// The refused call is in the call log too.
	rec, err := s.CallLog().GetCall(t.Context(), s.AccountID, "c1")
	if err != nil || rec.HangupCause != "sip:404" || !strings.Contains(string(rec.Trace), `"op":"route"`) {
		t.Errorf("call log: %v %+v", err, rec)
	}
}

func TestSimulateKeepsDebugCalls(t *testing.T) {
	t.Parallel()
	customer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte(`<Response><Say>Hi</Say></Response>`))
	}))
	defer customer.Close()
	s := servertest.New(t)
	flow := map[string]any{"data": map[string]any{"numbers": []string{"7100"}, "flow": map[string]any{
		"module": "pivot", "data": map[string]any{"voice_url": customer.URL, "req_format": "twiml", "debug": true}}}}
	if status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, flow); status != 201 {
		t.Fatalf("create: %d %v", status, env)
	}
	id, tr, res, err := s.Simulate(t.Context(), sim.SimulateOptions{To: "7100"}, nil)
	if err != nil || res.By != "switchboard" {
		t.Fatalf("simulate: %v %+v", err, res)
	}
	if got := strings.Join(sim.Ops(tr), " "); got != "route module webhook answer say hangup" {
		t.Errorf("ops %s", got)
	}
	rec, err := s.CallLog().GetCall(t.Context(), s.AccountID, id)
	if err != nil || !rec.Debug || rec.CallflowID == "" || rec.Ended.IsZero() {
		t.Errorf("record %+v %v", rec, err)
	}
	hooks, err := s.CallLog().Webhooks(t.Context(), s.AccountID, id)
	if err != nil || len(hooks) != 1 || hooks[0].Status != 200 || !strings.Contains(hooks[0].ResponseBody, "<Say>") {
		t.Errorf("webhooks %+v %v", hooks, err)
	}
	// Unknown numbers and bad scripts are errors, not calls.
	_, _, _, err = s.Simulate(t.Context(), sim.SimulateOptions{To: "0000"}, nil)
	if want := `no call flow of account ` + s.AccountID + ` handles "0000"`; !errors.Is(err, sim.ErrNoRoute) || err.Error() != want {
		t.Errorf("simulate of an unknown number: %v, want ErrNoRoute %q", err, want)
	}
	_, _, _, err = s.Simulate(t.Context(), sim.SimulateOptions{To: "7100", Dials: []string{"sideways"}}, nil)
	if !errors.Is(err, sim.ErrBadScript) || !strings.HasPrefix(err.Error(), "script: sim: unknown dial outcome") {
		t.Errorf("a bad dial outcome: %v, want ErrBadScript", err)
	}
}

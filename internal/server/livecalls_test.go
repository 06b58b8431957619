package server_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// heldCall starts a call of the default account on a flow whose webhook
// answers only once release is called; it returns once the webhook was
// asked, with the call in progress. The call's result comes on done.
func heldCall(t *testing.T, s *servertest.Server, id, number string) (release func(), done <-chan struct{}) {
	t.Helper()
	asked, held := make(chan struct{}, 1), make(chan struct{})
	customer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked <- struct{}{}
		select {
		case <-held:
		case <-r.Context().Done():
		}
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte(`<Response><Say>Thanks for waiting</Say></Response>`))
	}))
	t.Cleanup(customer.Close)
	flow := map[string]any{"data": map[string]any{"numbers": []string{number}, "flow": map[string]any{
		"module": "pivot", "data": map[string]any{"voice_url": customer.URL, "req_format": "twiml"}}}}
	if status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, flow); status != http.StatusCreated {
		t.Fatalf("create flow: %d %v", status, env)
	}
	ctx, ch := sim.New(t.Context(), call.Info{ID: id, SIPCallID: "sip-" + id, AccountID: s.AccountID,
		From: "+15550001111", Request: number}, sim.Script{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		s.Calls().Handle(ctx, ch, call.NewTrace(ch.Clock(), nil))
	}()
	select {
	case <-asked:
	case <-ended:
		t.Fatal("the call ended before its webhook was asked")
	}
	var once bool
	return func() {
		if !once {
			once = true
			close(held)
		}
	}, ended
}

// callsOf lists an account's calls through the API.
func callsOf(t *testing.T, s *servertest.Server, account, token string) (int, []map[string]any) {
	t.Helper()
	status, env := s.Do("GET", "/v2/accounts/"+account+"/calls", token, nil)
	var out []map[string]any
	list, _ := env["data"].([]any)
	for _, c := range list {
		out = append(out, c.(map[string]any))
	}
	return status, out
}

// TestCallsInProgress: the call log stores a call once, when it ends; while
// it runs the API lists it from the live calls, with the fields it had when
// the log held an in-progress row, and its trace so far. Another account
// neither lists it nor reads it.
func TestCallsInProgress(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	server.SetMarkAfter(s.Server, time.Hour) // no in-progress row: the call is written once
	b, tokenB := s.AddAccount("Tenant B")
	release, done := heldCall(t, s, "held-1", "7300")
	defer func() { release(); <-done }()

	status, calls := callsOf(t, s, s.AccountID, s.Token)
	if status != http.StatusOK || len(calls) != 1 {
		t.Fatalf("list: %d %v", status, calls)
	}
	c := calls[0]
	if c["call_id"] != "held-1" || c["sip_call_id"] != "sip-held-1" || c["status"] != "in_progress" ||
		c["from"] != "+15550001111" || c["to"] != "7300" || c["callflow_id"] == "" || c["debug"] != false {
		t.Errorf("call in progress listed as %v", c)
	}
	if _, ok := c["ended"]; ok {
		t.Errorf("a call in progress has an end: %v", c)
	}
	if _, ok := c["duration_ms"]; ok {
		t.Errorf("a call in progress has a duration: %v", c)
	}
	started, err := time.Parse(time.RFC3339Nano, c["started"].(string))
	if err != nil || !started.Equal(started.Truncate(time.Millisecond)) {
		t.Errorf("started %v (%v): want the call log's millisecond", c["started"], err)
	}
	if _, err := server.StoredCallLog(s.Server).GetCall(t.Context(), s.AccountID, "held-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the call log holds the call in progress (%v): want one write, at its end", err)
	}
	for _, id := range []string{"held-1", "sip-held-1"} {
		status, env := s.Do("GET", "/v2/accounts/"+s.AccountID+"/calls/"+id+"/trace", s.Token, nil)
		if got := fmt.Sprint(env["data"]); status != http.StatusOK || !strings.Contains(got, "op:route") || !strings.Contains(got, "module:pivot") ||
			servertest.Lookup(env, "call.status") != "in_progress" {
			t.Errorf("trace of the call in progress by %s: %d %v", id, status, env)
		}
	}

	// The walls: B's token on A's calls, B's own list, A's call through B's account.
	if status, calls := callsOf(t, s, s.AccountID, tokenB); status != http.StatusForbidden || len(calls) != 0 {
		t.Errorf("B listed A's calls: %d %v", status, calls)
	}
	if status, calls := callsOf(t, s, b, tokenB); status != http.StatusOK || len(calls) != 0 {
		t.Errorf("B's own list: %d %v", status, calls)
	}
	for _, id := range []string{"held-1", "sip-held-1"} {
		if status, env := s.Do("GET", "/v2/accounts/"+b+"/calls/"+id+"/trace", tokenB, nil); status != http.StatusNotFound {
			t.Errorf("B read A's call in progress by %s: %d %v", id, status, env)
		}
	}
	if _, err := s.CallLog().GetCall(t.Context(), b, "held-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("B's call log has A's call: %v", err)
	}

	release()
	<-done
	status, calls = callsOf(t, s, s.AccountID, s.Token)
	if status != http.StatusOK || len(calls) != 1 || calls[0]["status"] != "completed" || calls[0]["started"] != c["started"] {
		t.Fatalf("after the end: %d %v", status, calls)
	}
	if n := server.LiveCalls(s.Server); n != 0 {
		t.Errorf("%d calls still in progress after the end", n)
	}
}

// TestLongCallMarked: a call still running after the mark delay gets its
// in-progress row, which a restart after a crash would end (CloseUnended);
// its end replaces the row, and the list shows the call once.
func TestLongCallMarked(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	server.SetMarkAfter(s.Server, time.Millisecond)
	release, done := heldCall(t, s, "long-1", "7301")
	defer func() { release(); <-done }()
	stored := server.StoredCallLog(s.Server)
	rec := waitfor.Value(t, 10*time.Second, "the in-progress row", func() (store.CallRecord, bool) {
		r, err := stored.GetCall(t.Context(), s.AccountID, "long-1")
		return r, err == nil
	})
	if !rec.Ended.IsZero() || rec.CallflowID == "" {
		t.Errorf("in-progress row %+v", rec)
	}
	if _, calls := callsOf(t, s, s.AccountID, s.Token); len(calls) != 1 || calls[0]["status"] != "in_progress" {
		t.Errorf("listed twice or not in progress: %v", calls)
	}
	release()
	<-done
	rec, err := stored.GetCall(t.Context(), s.AccountID, "long-1")
	if err != nil || rec.Ended.IsZero() || !strings.Contains(string(rec.Trace), `"op":"hangup"`) {
		t.Errorf("final row %+v %v", rec, err)
	}
	if _, calls := callsOf(t, s, s.AccountID, s.Token); len(calls) != 1 || calls[0]["status"] != "completed" {
		t.Errorf("after the end: %v", calls)
	}
}

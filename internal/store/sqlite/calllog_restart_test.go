package sqlite_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

func TestCloseUnendedAfterACrash(t *testing.T) {
	l := openCallLog(t, filepath.Join(t.TempDir(), "calls.db"))
	ctx := t.Context()
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.SaveCall(ctx, store.CallRecord{AccountID: "a", ID: "live-quiet", Started: t0}))
	must(l.SaveCall(ctx, store.CallRecord{AccountID: "a", ID: "live-webhook", Started: t0}))
	must(l.AddWebhook(ctx, store.WebhookRecord{AccountID: "a", CallID: "live-webhook", Iteration: 1, Started: t0.Add(3 * time.Second), Duration: 250 * time.Millisecond}))
	must(l.SaveCall(ctx, store.CallRecord{AccountID: "a", ID: "done", Started: t0, Ended: t0.Add(time.Second),
		HangupCause: "NORMAL_CLEARING", HangupBy: "caller", Trace: []byte(`{"op":"hangup","t_ms":1000}` + "\n")}))

	n, err := l.CloseUnended(ctx, "node_restart")
	if err != nil || n != 2 {
		t.Fatalf("CloseUnended = %d, %v; want 2", n, err)
	}
	for id, want := range map[string]time.Duration{"live-quiet": 0, "live-webhook": 3250 * time.Millisecond} {
		c, err := l.GetCall(ctx, "a", id)
		must(err)
		if c.Ended.Sub(t0) != want || c.HangupCause != "node_restart" || c.HangupBy != "switchboard" {
			t.Errorf("%s: ended +%v cause %q by %q; want +%v node_restart switchboard", id, c.Ended.Sub(t0), c.HangupCause, c.HangupBy, want)
		}
		if tr := strings.TrimSpace(string(c.Trace)); !strings.HasPrefix(tr, `{"op":"hangup","t_ms":`) || !strings.HasSuffix(tr, `"cause":"node_restart","by":"switchboard"}`) {
			t.Errorf("%s: trace %q does not end with the hangup", id, tr)
		}
	}
	if c, _ := l.GetCall(ctx, "a", "done"); c.HangupCause != "NORMAL_CLEARING" {
		t.Errorf("an ended call was changed: %+v", c)
	}
	if n, err := l.CloseUnended(ctx, "node_restart"); n != 0 || err != nil {
		t.Errorf("second CloseUnended = %d, %v; want 0", n, err)
	}
}

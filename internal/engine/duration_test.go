package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

// blocking waits until the call's context ends: a call that never ends on
// its own.
type blocking struct{}

func (blocking) Exec(ctx context.Context, _ *engine.Exec) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}

func init() {
	engine.Register(engine.Spec{Name: "test_block", Group: "Test", Label: "Block", Schema: []byte(`{"type":"object"}`),
		New: func() engine.Action { return new(blocking) }})
}

// TestMaxCallDuration: a call longer than MaxCallDuration ends with an
// error line and Switchboard's hangup, not as the caller's.
func TestMaxCallDuration(t *testing.T) {
	t.Parallel()
	c := actionstest.Run(t, actionstest.Flow(t, `{"module":"test_block","data":{}}`), actionstest.Options{
		Info:   call.Info{ID: "call-1", AccountID: "acct", Request: "1"},
		Config: engine.Config{MaxCallDuration: 50 * time.Millisecond},
	})
	lines := actionstest.Lines(t, c.Trace)
	var errLine, hangup map[string]any
	for _, l := range lines {
		switch l["op"] {
		case "error":
			errLine = l
		case "hangup":
			hangup = l
		}
	}
	if errLine == nil || errLine["code"] != "max_duration" {
		t.Errorf("error line %v, want max_duration", errLine)
	}
	if hangup == nil || hangup["by"] != "switchboard" || hangup["cause"] != "ALLOTTED_TIMEOUT" {
		t.Errorf("hangup %v, want ALLOTTED_TIMEOUT by switchboard", hangup)
	}
}

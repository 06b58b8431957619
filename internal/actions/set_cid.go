package actions

import (
	"context"

	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "set_cid", Group: "Caller ID", Label: "Set caller ID", Icon: "callerid",
		Doc:    "Change the caller ID later blocks, dials and webhooks present.",
		Schema: schema("set_cid"), Branches: []string{"_"},
		New: func() engine.Action { return new(SetCID) },
	})
}

// SetCID replaces the caller id the rest of the call presents (Kazoo's
// set_cid): dials, webhooks and check_cid see it. An empty field leaves
// that part as it is.
type SetCID struct {
	CallerIDName   string `json:"caller_id_name,omitempty"`
	CallerIDNumber string `json:"caller_id_number,omitempty"`
}

// Exec sets the caller id and writes a "set" line for each part.
func (a *SetCID) Exec(_ context.Context, x *engine.Exec) (string, error) {
	x.Vars.SetCallerID(a.CallerIDNumber, a.CallerIDName)
	traceCallerID(x)
	return "_", nil
}

// traceCallerID writes the caller id now presented as "set" lines.
func traceCallerID(x *engine.Exec) {
	number, name := x.Vars.CallerID(x.Call.Info())
	x.Trace.Add("set", "key", "caller_id_number", "value", number)
	x.Trace.Add("set", "key", "caller_id_name", "value", name)
}

var _ engine.Action = (*SetCID)(nil)

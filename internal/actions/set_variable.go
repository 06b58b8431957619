package actions

import (
	"context"

	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "set_variable", Group: "Advanced", Label: "Set variable", Icon: "variable",
		Doc:    "Set a call variable for later blocks and webhooks.",
		Schema: schema("set_variable"), Branches: []string{"_"},
		New: func() engine.Action { return new(SetVariable) },
	})
}

// SetVariable sets a call variable (Kazoo's set_variable): branch_variable
// reads it, Pivot and webhook requests carry it.
type SetVariable struct {
	Variable string `json:"variable"`
	Value    string `json:"value"`
	// Channel is Kazoo's a or both: a call has one leg here until it dials.
	Channel string `json:"channel,omitempty"`
}

// Exec sets the variable and writes a "set" line.
func (a *SetVariable) Exec(_ context.Context, x *engine.Exec) (string, error) {
	x.Vars.Set(a.Variable, a.Value)
	x.Trace.Add("set", "key", a.Variable, "value", a.Value)
	return "_", nil
}

var _ engine.Action = (*SetVariable)(nil)

package actions

import (
	"context"

	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "branch_variable", Group: "Advanced", Label: "Branch on variable", Icon: "variable",
		Doc:    "Take the child named after a call variable's value.",
		Schema: schema("branch_variable"), Branches: nil, // the variable's values, and "_"
		New: func() engine.Action { return new(BranchVariable) },
	})
}

// BranchVariable takes the child named after a variable's value (Kazoo's
// branch_variable); "_" when the variable is not set or no child has its
// value.
//
// The variable is a call variable (set_variable, a Pivot's <Set>, the
// capture_group of a pattern match), or one of the call's own values:
// caller_id_number and caller_id_name (as set_cid left them), language.
type BranchVariable struct {
	Variable string `json:"variable"`
	// Scope is Kazoo's; Switchboard has call variables only, so every
	// scope reads them.
	Scope string `json:"scope,omitempty"`
}

// Exec branches.
func (a *BranchVariable) Exec(_ context.Context, x *engine.Exec) (string, error) {
	value, ok := lookupVariable(x, a.Variable)
	key := value
	if !ok || value == "" {
		key = "_"
	}
	traceBranch(x, key, "variable", a.Variable, "value", value)
	return key, nil
}

// lookupVariable reads a call variable, then the call's own values.
func lookupVariable(x *engine.Exec, name string) (string, bool) {
	if v, ok := x.Vars.Get(name); ok {
		return v, true
	}
	switch name {
	case "caller_id_number", "caller_id_name":
		number, cname := x.Vars.CallerID(x.Call.Info())
		if name == "caller_id_number" {
			return number, number != ""
		}
		return cname, cname != ""
	case "language":
		lang := x.Vars.Language("")
		return lang, lang != ""
	}
	return "", false
}

var _ engine.Action = (*BranchVariable)(nil)

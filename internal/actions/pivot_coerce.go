package actions

import "github.com/switchboard/switchboard/internal/engine"

// codeCoerced is the call trace's warning code for a value of a Kazoo JSON
// Pivot answer given as a string where Kazoo's schema types a number or a
// boolean: accepted, as Kazoo does, and typed.
const codeCoerced = "kazoo_value_coerced"

// warnCoerced reports each value Kazoo's leniency typed in a Pivot answer,
// one warning line naming the field, so the customer can fix the answer.
func warnCoerced(x *engine.Exec, paths []string) {
	for _, p := range paths {
		x.Trace.Add("warning", "code", codeCoerced, "message", "the value of "+p+" was given as a string and was typed",
			"field", p, "module", x.Node.Module, "node", x.Node.Path)
	}
}

package actions

import (
	"context"

	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "prepend_cid", Group: "Caller ID", Label: "Prefix caller ID", Icon: "callerid",
		Doc:    "Put a prefix before the caller ID (\"Sales: \"), or remove the prefixes.",
		Schema: schema("prepend_cid"), Branches: []string{"_"},
		New: func() engine.Action { return new(PrependCID) },
	})
}

// PrependCID prefixes the caller id the rest of the call presents (Kazoo's
// prepend_cid). With apply_to "current" the prefixes add up (a second block
// puts its prefix before the first one's); with "original" they replace the
// prefixes so far. Action "reset" removes them.
type PrependCID struct {
	Action               string `json:"action,omitempty"`
	ApplyTo              string `json:"apply_to,omitempty"`
	CallerIDNamePrefix   string `json:"caller_id_name_prefix,omitempty"`
	CallerIDNumberPrefix string `json:"caller_id_number_prefix,omitempty"`
}

// Exec changes the prefixes and writes a "set" line for each part.
func (a *PrependCID) Exec(_ context.Context, x *engine.Exec) (string, error) {
	if a.Action == "reset" {
		x.Vars.ResetCallerIDPrefix()
	} else {
		x.Vars.PrependCallerID(a.CallerIDNumberPrefix, a.CallerIDNamePrefix, a.ApplyTo == "original")
	}
	traceCallerID(x)
	return "_", nil
}

var _ engine.Action = (*PrependCID)(nil)

package actions

import (
	"context"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "resources", Group: "Basic", Label: "Outside number", Icon: "globe",
		Doc:    "Call the dialled number (or a set one) through the account's carriers: the first resource whose rules match, its gateways in turn.",
		Schema: schema("resources"), Branches: nil, // "_" and failure causes
		New: func() engine.Action { return new(Resources) },
	})
}

// Resources dials out through the account's carriers (Kazoo's resources
// module; offnet is its old name).
type Resources struct {
	// ToDID is the number to call; the dialled number by default.
	ToDID string `json:"to_did,omitempty"`
	// Timeout is how long the far end rings, in seconds; 20 by default.
	Timeout int `json:"timeout,omitempty"`
	// CustomSIPHeaders are added to the INVITE.
	CustomSIPHeaders map[string]string `json:"custom_sip_headers,omitempty"`
}

// Exec places the call.
func (a *Resources) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	number := a.ToDID
	if number == "" {
		number = x.Call.Info().Request
	}
	t := call.Target{Kind: "number", Value: number, Headers: a.CustomSIPHeaders}
	return bridge(ctx, x, call.DialOptions{Targets: []call.Target{t}, Timeout: seconds(a.Timeout, defaultRing)}, 1)
}

var _ engine.Action = (*Resources)(nil)

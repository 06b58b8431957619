package actions

import (
	"context"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "device", Group: "Basic", Label: "Device", Icon: "phone",
		Doc:    "Ring one phone (a registered device) and connect the caller when it answers.",
		Schema: schema("device"), Branches: nil, // "_" and failure causes ("USER_BUSY", "sip:486")
		New: func() engine.Action { return new(Device) },
	})
}

// Device rings one registered device (Kazoo's device module).
type Device struct {
	// ID is the devices document to ring.
	ID string `json:"id"`
	// Timeout is how long it rings, in seconds; 20 by default.
	Timeout int `json:"timeout,omitempty"`
	// Delay waits this many seconds before ringing.
	Delay int `json:"delay,omitempty"`
	// CustomSIPHeaders are added to the INVITE.
	CustomSIPHeaders map[string]string `json:"custom_sip_headers,omitempty"`
	// CanCallSelf rings the device even when it is the caller, or its
	// owner is (left out by default, as Kazoo).
	CanCallSelf bool `json:"can_call_self,omitempty"`
	// SuppressCLID rings the phones as an anonymous caller.
	SuppressCLID bool `json:"suppress_clid,omitempty"`
	// StaticInvite, when set, is the user part of the Request-URI sent to
	// the phones instead of their registered Contact's.
	StaticInvite string `json:"static_invite,omitempty"`
}

// Exec rings the device's registered contacts.
func (a *Device) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	t := call.Target{Kind: "device", Value: a.ID, Headers: a.CustomSIPHeaders, CanCallSelf: a.CanCallSelf,
		SuppressCLID: a.SuppressCLID, StaticInvite: a.StaticInvite}
	if a.Delay > 0 {
		t.Delay = seconds(a.Delay, 0)
	}
	return bridge(ctx, x, call.DialOptions{Targets: []call.Target{t}, Timeout: seconds(a.Timeout, defaultRing)}, 1) // 0: Kazoo rings for its default
}

var _ engine.Action = (*Device)(nil)

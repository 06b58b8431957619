package actions

import (
	"context"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "user", Group: "Basic", Label: "User", Icon: "user",
		Doc:    "Ring every phone of a user, together or one after another, and connect the first to answer.",
		Schema: schema("user"), Branches: nil, // "_" and failure causes
		New: func() engine.Action { return new(User) },
	})
}

// User rings the devices a user owns (Kazoo's user module).
type User struct {
	// ID is the users document whose devices ring.
	ID string `json:"id"`
	// Timeout is how long they ring, in seconds; 20 by default.
	Timeout int `json:"timeout,omitempty"`
	// Delay waits this many seconds before ringing.
	Delay int `json:"delay,omitempty"`
	// Strategy is "simultaneous" (the default) or "single".
	Strategy string `json:"strategy,omitempty"`
	// CustomSIPHeaders are added to every INVITE.
	CustomSIPHeaders map[string]string `json:"custom_sip_headers,omitempty"`
	// CanCallSelf rings the user's phones even when the caller is one of
	// them (left out by default, as Kazoo).
	CanCallSelf bool `json:"can_call_self,omitempty"`
	// SuppressCLID rings the phones as an anonymous caller.
	SuppressCLID bool `json:"suppress_clid,omitempty"`
	// StaticInvite, when set, is the user part of the Request-URI sent to
	// the phones instead of their registered Contact's.
	StaticInvite string `json:"static_invite,omitempty"`
	// FailOnSingleReject ends the ringing when one of the phones rejects
	// the call (busy or declined).
	FailOnSingleReject bool `json:"fail_on_single_reject,omitempty"`
}

// Exec rings the user's registered devices.
func (a *User) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	t := call.Target{Kind: "user", Value: a.ID, Headers: a.CustomSIPHeaders, CanCallSelf: a.CanCallSelf,
		SuppressCLID: a.SuppressCLID, StaticInvite: a.StaticInvite, FailOnReject: a.FailOnSingleReject}
	if a.Delay > 0 {
		t.Delay = seconds(a.Delay, 0)
	}
	return bridge(ctx, x, call.DialOptions{
		Targets: []call.Target{t}, Timeout: seconds(a.Timeout, defaultRing), Strategy: strategy(a.Strategy),
	}, 1)
}

var _ engine.Action = (*User)(nil)

package actions

import (
	"context"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "group", Group: "Basic", Label: "Group", Icon: "users",
		Doc:    "Ring the users and devices of a group document; the first to answer is connected.",
		Schema: schema("group"), Branches: nil, // "_" and failure causes
		New: func() engine.Action { return new(Group) },
	})
}

// Group rings a groups document's members (Kazoo's group module).
type Group struct {
	// ID is the groups document.
	ID string `json:"id"`
	// Strategy is "simultaneous" (the default) or "single".
	Strategy string `json:"strategy,omitempty"`
	// Timeout is how long the members ring, in seconds; 20 by default.
	Timeout int `json:"timeout,omitempty"`
	// Repeats is how many times the group is rung when nobody answers.
	Repeats int `json:"repeats,omitempty"`
	// IgnoreForward rings the members' phones even when their call
	// forwarding is on (the default), as a ring group's.
	IgnoreForward *bool `json:"ignore_forward,omitempty"`
}

// Exec rings the group.
func (a *Group) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	return bridge(ctx, x, call.DialOptions{
		Targets: []call.Target{{Kind: "group", Value: a.ID, IgnoreForward: a.IgnoreForward == nil || *a.IgnoreForward, Indirect: true}}, Timeout: seconds(a.Timeout, defaultRing), Strategy: strategy(a.Strategy),
	}, a.Repeats)
}

var _ engine.Action = (*Group)(nil)

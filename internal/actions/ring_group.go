package actions

import (
	"context"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "ring_group", Group: "Basic", Label: "Ring group", Icon: "users",
		Doc:    "Ring several users and devices, together or in order, each with its own delay and ring time; the first to answer is connected.",
		Schema: schema("ring_group"), Branches: nil, // "_" and failure causes
		New: func() engine.Action { return new(RingGroup) },
	})
}

// RingGroup rings a list of endpoints (Kazoo's ring_group module).
type RingGroup struct {
	// Endpoints are the users, devices (and groups, rung as their members)
	// to ring.
	Endpoints []RingEndpoint `json:"endpoints"`
	// Strategy is "simultaneous" (the default) or "single" (in order).
	Strategy string `json:"strategy,omitempty"`
	// Timeout is how long the group rings, in seconds; 20 by default.
	Timeout int `json:"timeout,omitempty"`
	// Repeats is how many times the group is rung when nobody answers.
	Repeats int `json:"repeats,omitempty"`
}

// RingEndpoint is one member of a ring group.
type RingEndpoint struct {
	ID           string `json:"id"`
	EndpointType string `json:"endpoint_type"`     // device, user, group
	Delay        int    `json:"delay,omitempty"`   // seconds before it rings
	Timeout      int    `json:"timeout,omitempty"` // seconds it rings; 20 by default
}

// Exec rings the members.
func (a *RingGroup) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	return bridge(ctx, x, a.options(), a.Repeats)
}

// options is the Dial: every member a target with its own delay and
// ring time; the group's ring time covers the longest member.
func (a *RingGroup) options() call.DialOptions {
	o := call.DialOptions{Strategy: strategy(a.Strategy), Timeout: seconds(a.Timeout, defaultRing)}
	for _, e := range a.Endpoints {
		t := call.Target{Kind: e.EndpointType, Value: e.ID, Delay: seconds(e.Delay, 0), Timeout: seconds(e.Timeout, defaultRing)}
		if o.Strategy == "simultaneous" {
			o.Timeout = max(o.Timeout, t.Delay+t.Timeout)
		}
		o.Targets = append(o.Targets, t)
	}
	return o
}

var _ engine.Action = (*RingGroup)(nil)

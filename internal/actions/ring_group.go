package actions

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "ring_group", Group: "Basic", Label: "Ring group", Icon: "users",
		Doc:    "Ring several users and devices, together, in order or in a weighted random order, each with its own delay and ring time; the first to answer is connected.",
		Schema: schema("ring_group"), Branches: nil, // "_" and failure causes
		New: func() engine.Action { return new(RingGroup) },
	})
}

// RingGroup rings a list of endpoints (Kazoo's ring_group module).
type RingGroup struct {
	// Endpoints are the users, devices (and groups, rung as their members)
	// to ring.
	Endpoints []RingEndpoint `json:"endpoints"`
	// Strategy is "simultaneous" (the default), "single" (in order) or
	// "weighted_random" (one at a time, in an order drawn at each call:
	// a member of weight 4 comes first four times as often as one of
	// weight 1).
	Strategy string `json:"strategy,omitempty"`
	// Timeout is how long the group rings, in seconds; 20 by default.
	Timeout int `json:"timeout,omitempty"`
	// Repeats is how many times the group is rung when nobody answers.
	Repeats int `json:"repeats,omitempty"`
	// IgnoreForward rings the members' phones even when their call
	// forwarding is on (the default); false follows it, except forwarding
	// set for direct calls only.
	IgnoreForward *bool `json:"ignore_forward,omitempty"`
	// FailOnSingleReject ends the ringing when one member's phone rejects
	// the call (busy or declined), instead of ringing the others on.
	FailOnSingleReject bool `json:"fail_on_single_reject,omitempty"`
}

// RingEndpoint is one member of a ring group.
type RingEndpoint struct {
	ID           string `json:"id"`
	EndpointType string `json:"endpoint_type"`     // device, user, group
	Delay        int    `json:"delay,omitempty"`   // seconds before it rings
	Timeout      int    `json:"timeout,omitempty"` // seconds it rings; 20 by default
	Weight       int    `json:"weight,omitempty"`  // weighted_random: 1 to 100, 1 by default
}

// Exec rings the members.
func (a *RingGroup) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	return bridge(ctx, x, a.options(rand.Float64), a.Repeats)
}

// options is the Dial: every member a target with its own delay and
// ring time; the group's ring time covers the longest member. random
// draws the weighted_random order (rand.Float64 but in tests).
func (a *RingGroup) options(random func() float64) call.DialOptions {
	o := call.DialOptions{Strategy: strategy(a.Strategy), Timeout: seconds(a.Timeout, defaultRing)}
	members := a.Endpoints
	if a.Strategy == "weighted_random" {
		members = weightedOrder(members, random)
	}
	for _, e := range members {
		t := call.Target{Kind: e.EndpointType, Value: e.ID, Delay: seconds(e.Delay, 0), Timeout: seconds(e.Timeout, defaultRing),
			IgnoreForward: a.IgnoreForward == nil || *a.IgnoreForward, Indirect: true, FailOnReject: a.FailOnSingleReject}
		if o.Strategy == "simultaneous" {
			o.Timeout = max(o.Timeout, t.Delay+t.Timeout)
		}
		o.Targets = append(o.Targets, t)
	}
	return o
}

// weightedOrder is a random order of the members in which each comes
// before the rest with a chance proportional to its weight (weighted
// sampling without replacement: each draws u^(1/weight), the largest
// first). The members themselves are not changed.
func weightedOrder(members []RingEndpoint, random func() float64) []RingEndpoint {
	type keyed struct {
		key float64
		e   RingEndpoint
	}
	ks := make([]keyed, len(members))
	for i, e := range members {
		w := float64(min(max(e.Weight, 1), 100))
		ks[i] = keyed{math.Pow(random(), 1/w), e}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		switch {
		case a.key > b.key:
			return -1
		case a.key < b.key:
			return 1
		}
		return 0
	})
	out := make([]RingEndpoint, len(ks))
	for i, k := range ks {
		out[i] = k.e
	}
	return out
}

var _ engine.Action = (*RingGroup)(nil)

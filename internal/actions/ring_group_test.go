package actions

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestWeightedOrder: weighted_random rings every member once, one at a
// time, and a member comes first as often as its share of the weights
// says (members without a weight count 1).
func TestWeightedOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g := &RingGroup{Strategy: "weighted_random", FailOnSingleReject: true, Endpoints: []RingEndpoint{
		{ID: "a", EndpointType: "user", Weight: 1}, {ID: "b", EndpointType: "device", Weight: 8}, {ID: "c", EndpointType: "user"},
	}}
	const runs = 5000
	first := map[string]int{}
	for range runs {
		o := g.options(r.Float64)
		if o.Strategy != "single" || len(o.Targets) != 3 {
			t.Fatalf("options %+v", o)
		}
		seen := map[string]bool{}
		for _, tg := range o.Targets {
			seen[tg.Value] = true
			if !tg.Indirect || !tg.IgnoreForward || !tg.FailOnReject {
				t.Fatalf("target %+v: want a ring group member that ignores forwards and fails on a reject", tg)
			}
		}
		if len(seen) != 3 {
			t.Fatalf("order %+v does not hold every member once", o.Targets)
		}
		first[o.Targets[0].Value]++
	}
	for id, want := range map[string]float64{"a": 0.1, "b": 0.8, "c": 0.1} {
		if got := float64(first[id]) / runs; math.Abs(got-want) > 0.03 {
			t.Errorf("%s first in %.3f of the calls, want %.2f", id, got, want)
		}
	}
	if g.Endpoints[0].ID != "a" || g.Endpoints[1].ID != "b" {
		t.Error("the ring group's own members were reordered")
	}
	// The other strategies keep the members' order.
	g.Strategy = "single"
	if o := g.options(r.Float64); o.Targets[0].Value != "a" || o.Targets[2].Value != "c" {
		t.Errorf("single: %+v", o.Targets)
	}
	f := false
	g.IgnoreForward = &f
	if o := g.options(r.Float64); o.Targets[0].IgnoreForward {
		t.Error("ignore_forward false: members still ignore their forwards")
	}
}

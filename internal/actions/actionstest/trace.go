package actionstest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
)

// Lines returns the trace as its JSON lines decoded, as a reader of
// `switchboard simulate` sees it.
func Lines(tb testing.TB, tr *call.Trace) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for _, ev := range tr.Events() {
		b, err := json.Marshal(ev)
		if err != nil {
			tb.Fatalf("trace line %s: %v", ev.Op, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			tb.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// Line returns the i-th line (0-based) with op, decoded.
func Line(tb testing.TB, tr *call.Trace, op string, i int) map[string]any {
	tb.Helper()
	n := 0
	for _, l := range Lines(tb, tr) {
		if l["op"] == op {
			if n == i {
				return l
			}
			n++
		}
	}
	tb.Fatalf("no %q line %d in the trace:\n%s", op, i, tr.JSONL())
	return nil
}

// Count is how many lines have op.
func Count(tr *call.Trace, op string) int { return len(sim.Find(tr, op)) }

// NoField, as a wanted field value, means the field must be absent.
type NoField struct{}

// WantFields checks fields of a decoded trace line: values compare as JSON
// (so 30 and 30.0 are equal, and objects compare whole).
func WantFields(tb testing.TB, l map[string]any, want map[string]any) {
	tb.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		got, ok := l[k]
		if _, no := want[k].(NoField); no {
			if ok {
				tb.Errorf("%s line: field %s = %v, want it absent", l["op"], k, got)
			}
			continue
		}
		if !ok {
			tb.Errorf("%s line: no field %s (line %v)", l["op"], k, l)
			continue
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want[k])
		if string(g) != string(w) {
			tb.Errorf("%s line: %s = %s, want %s", l["op"], k, g, w)
		}
	}
}

// Ops are the trace's op names.
func (c *Call) Ops() []string { return sim.Ops(c.Trace) }

// Find returns the fields of the trace's lines with op.
func (c *Call) Find(op string) []map[string]any {
	var out []map[string]any
	for _, e := range sim.Find(c.Trace, op) {
		out = append(out, e.Fields)
	}
	return out
}

// Line returns the i-th line (0-based) with op, decoded.
func (c *Call) Line(tb testing.TB, op string, i int) map[string]any {
	tb.Helper()
	return Line(tb, c.Trace, op, i)
}

// At is the simulated time of the i-th line with op.
func (c *Call) At(tb testing.TB, op string, i int) time.Duration {
	tb.Helper()
	ms, _ := c.Line(tb, op, i)["t_ms"].(float64)
	return time.Duration(ms) * time.Millisecond
}

// Said is the text of every say line, and of every say prompt of the
// gathers, in order.
func (c *Call) Said() []string {
	var out []string
	for _, e := range c.Trace.Events() {
		switch e.Op {
		case "say":
			out = append(out, fmt.Sprint(e.Fields["text"]))
		case "gather":
			ps, _ := e.Fields["prompts"].([]map[string]any)
			for _, p := range ps {
				if p["op"] == "say" {
					out = append(out, fmt.Sprint(p["text"]))
				}
			}
		}
	}
	return out
}

// Branches are the keys of the branch lines, in order.
func (c *Call) Branches() []string { return c.values("branch", "key") }

// Nodes are the paths of the module lines, in order.
func (c *Call) Nodes() []string { return c.values("module", "node") }

func (c *Call) values(op, field string) []string {
	var out []string
	for _, f := range c.Find(op) {
		out = append(out, fmt.Sprint(f[field]))
	}
	return out
}

// ChannelOps are the names of the operations the channel saw, in order.
func (c *Call) ChannelOps() []string {
	var out []string
	for _, op := range c.Channel.Ops() {
		out = append(out, op.Name)
	}
	return out
}

// ChannelOp returns the first channel operation named name.
func (c *Call) ChannelOp(tb testing.TB, name string) sim.Op {
	tb.Helper()
	for _, op := range c.Channel.Ops() {
		if op.Name == name {
			return op
		}
	}
	tb.Fatalf("no %s operation on the channel: %q", name, c.ChannelOps())
	return sim.Op{}
}

// WantHangup checks the hangup line and the call's result.
func (c *Call) WantHangup(tb testing.TB, cause, by string) {
	tb.Helper()
	WantFields(tb, c.Line(tb, "hangup", 0), map[string]any{"cause": cause, "by": by, "error": NoField{}})
	if c.Result.Cause != cause || c.Result.By != by {
		tb.Errorf("result cause %q by %q, want %q %q", c.Result.Cause, c.Result.By, cause, by)
	}
}

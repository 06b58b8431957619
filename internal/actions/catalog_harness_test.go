package actions_test

// The harness of the catalog modules' tests (menu, temporal_route, the
// variables, caller id, webhook, record_call and disa): a flow run on a
// simulated call, with in-memory temporal rules and number routes.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/store"
)

// catOpts are a catalog test call's inputs.
type catOpts struct {
	inputs, dials []string
	at            time.Time // the call's clock; now when zero
	from, name    string    // caller id
	rules         *memRules // temporal rules; none when nil
	numbers       memNumbers
	extra         map[string]any // more services
	noTemporal    bool           // leave the temporal store out
}

// catCall is a finished test call.
type catCall struct {
	tr  *call.Trace
	ch  *sim.Channel
	res engine.Result
}

// catCompile compiles a flow node (the "flow" of a document).
func catCompile(t *testing.T, flow string) *engine.Node {
	t.Helper()
	f, err := callflow.Prepare([]byte(`{"numbers":["1"],"flow":` + flow + `}`))
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	return f.Root
}

// catRun runs flow on a simulated call to its end.
func catRun(t *testing.T, flow string, o catOpts) catCall {
	t.Helper()
	root := catCompile(t, flow)
	from := o.from
	if from == "" {
		from = "+15555550100"
	}
	info := call.Info{ID: "call-1", AccountID: "acct", From: from, FromName: o.name, FromRealm: "example.com",
		To: "3000", ToRealm: "sb.example.com", Request: "3000", Direction: "inbound"}
	var copts []sim.Option
	if !o.at.IsZero() {
		copts = append(copts, sim.WithClock(o.at))
	}
	ctx, ch := sim.New(t.Context(), info, sim.Script{Inputs: o.inputs, Dials: o.dials}, copts...)
	tr := call.NewTrace(ch.Clock(), nil)
	extra := map[string]any{}
	if !o.noTemporal {
		rules := o.rules
		if rules == nil {
			rules = newMemRules()
		}
		extra[actions.ServiceTemporalRules] = rules
	}
	maps.Copy(extra, o.extra)
	svc := &engine.Services{Extra: extra}
	if o.numbers != nil {
		svc.Numbers = o.numbers
	}
	e := engine.New(engine.Config{MaxNodes: 30}, svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	res := e.Run(ctx, call.Traced(ch, tr), tr, root, catRunOptions())
	return catCall{tr: tr, ch: ch, res: res}
}

// catEngine is an engine without services.
func catEngine() *engine.Engine {
	return engine.New(engine.Config{MaxNodes: 30}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// catRunOptions are the test calls' account.
func catRunOptions() engine.RunOptions {
	return engine.RunOptions{Account: engine.Account{ID: "acct", SigningSecret: "secret"}}
}

// ops are the trace's op names.
func (c catCall) ops() []string { return sim.Ops(c.tr) }

// wantOps fails unless the trace's ops are want.
func (c catCall) wantOps(t *testing.T, want ...string) {
	t.Helper()
	sim.AssertOps(t, c.tr, want...)
}

// find returns the fields of the trace's lines with op.
func (c catCall) find(op string) []map[string]any {
	var out []map[string]any
	for _, e := range sim.Find(c.tr, op) {
		out = append(out, e.Fields)
	}
	return out
}

// said is the text of every say line, and of every say prompt of the
// gathers, in order.
func (c catCall) said() []string {
	var out []string
	for _, e := range c.tr.Events() {
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

// branches are the keys of the branch lines, in order.
func (c catCall) branches() []string {
	var out []string
	for _, f := range c.find("branch") {
		out = append(out, fmt.Sprint(f["key"]))
	}
	return out
}

// nodes are the paths of the module lines, in order.
func (c catCall) nodes() []string {
	var out []string
	for _, f := range c.find("module") {
		out = append(out, fmt.Sprint(f["node"]))
	}
	return out
}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s\n got %#v\nwant %#v", what, got, want)
	}
}

// ---- in-memory temporal rules ----

// memRules is actions.TemporalRules over documents in memory.
type memRules struct {
	mu   sync.Mutex
	docs map[string]store.TemporalDoc
}

func newMemRules() *memRules { return &memRules{docs: map[string]store.TemporalDoc{}} }

// rule adds a rule document (JSON) under id.
func (m *memRules) rule(id, body string) *memRules {
	return m.put(store.TemporalRuleKind, id, body)
}

// set adds a rule set under id.
func (m *memRules) set(id string, rules ...string) *memRules {
	b, _ := json.Marshal(map[string]any{"name": "set " + id, "temporal_rules": rules})
	return m.put(store.TemporalRuleSetKind, id, string(b))
}

func (m *memRules) put(kind store.TemporalKind, id, body string) *memRules {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.docs[id] = store.TemporalDoc{Kind: kind, ID: id, AccountID: "acct", Body: json.RawMessage(body)}
	return m
}

func (m *memRules) GetTemporal(_ context.Context, kind store.TemporalKind, accountID, id string) (store.TemporalDoc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[id]
	if !ok || accountID != d.AccountID || (kind != "" && kind != d.Kind) {
		return store.TemporalDoc{}, fmt.Errorf("get %s: %w", id, store.ErrNotFound)
	}
	return d, nil
}

func (m *memRules) SetTemporalRuleEnabled(_ context.Context, accountID, id string, enabled *bool) (store.TemporalDoc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[id]
	if !ok || d.Kind != store.TemporalRuleKind {
		return store.TemporalDoc{}, fmt.Errorf("set %s: %w", id, store.ErrNotFound)
	}
	var doc map[string]any
	_ = json.Unmarshal(d.Body, &doc)
	if enabled == nil {
		delete(doc, "enabled")
	} else {
		doc["enabled"] = *enabled
	}
	d.Body, _ = json.Marshal(doc)
	m.docs[id] = d
	return d, nil
}

// enabled is a rule's "enabled" key: true, false, or nil when absent.
func (m *memRules) enabled(t *testing.T, id string) any {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var doc map[string]any
	if err := json.Unmarshal(m.docs[id].Body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc["enabled"]
}

var _ actions.TemporalRules = (*memRules)(nil)

// ---- in-memory number routes ----

// memNumbers is engine.NumberRouter over flows in memory: number → flow
// node JSON.
type memNumbers map[string]string

func (m memNumbers) RouteNumber(_ context.Context, _, number string) (string, *engine.Node, error) {
	flow, ok := m[number]
	if !ok {
		return "", nil, nil
	}
	if flow == "error" {
		return "", nil, fmt.Errorf("store down")
	}
	f, err := callflow.Prepare([]byte(`{"numbers":["` + number + `"],"flow":` + flow + `}`))
	if err != nil {
		return "", nil, err
	}
	return "flow-" + number, f.Root, nil
}

package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	_ "github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/engine"
)

type panicky struct{}

func (panicky) Exec(context.Context, *engine.Exec) (string, error) { panic("boom") }

type failing struct{}

func (failing) Exec(context.Context, *engine.Exec) (string, error) {
	return "", errors.New("it broke")
}

type failingWithBranch struct{}

func (failingWithBranch) Exec(context.Context, *engine.Exec) (string, error) {
	return "_", errors.New("handled, go on")
}

func init() {
	schema := []byte(`{"type":"object"}`)
	engine.Register(engine.Spec{Name: "test_panic", Group: "Test", Label: "Panic", Schema: schema, New: func() engine.Action { return new(panicky) }})
	engine.Register(engine.Spec{Name: "test_fail", Group: "Test", Label: "Fail", Schema: schema, New: func() engine.Action { return new(failing) }})
	engine.Register(engine.Spec{Name: "test_fail_branch", Group: "Test", Label: "Fail", Schema: schema, New: func() engine.Action { return new(failingWithBranch) }})
}

// flows is a FlowSource over documents in memory.
type flows map[string]string

func (f flows) LoadFlow(_ context.Context, _, id string) (*engine.Node, error) {
	doc, ok := f[id]
	if !ok {
		return nil, errors.New("no such flow")
	}
	fl, err := callflow.Prepare([]byte(doc))
	if err != nil {
		return nil, err
	}
	return fl.Root, nil
}

func compile(t *testing.T, flow string) *engine.Node {
	t.Helper()
	f, err := callflow.Prepare([]byte(`{"numbers":["1"],"flow":` + flow + `}`))
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	return f.Root
}

type result struct {
	res   engine.Result
	trace *call.Trace
	lines []map[string]any
}

func runFlow(t *testing.T, flow string, script sim.Script, src flows) result {
	t.Helper()
	ctx, ch := sim.New(t.Context(), call.Info{ID: "call-1", AccountID: "acct", Request: "1"}, script)
	tr := call.NewTrace(ch.Clock(), nil)
	e := engine.New(engine.Config{MaxNodes: 20}, &engine.Services{Flows: src}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	res := e.Run(ctx, call.Traced(ch, tr), tr, compile(t, flow), engine.RunOptions{Account: engine.Account{ID: "acct"}})
	var lines []map[string]any
	for _, ev := range tr.Events() {
		b, _ := json.Marshal(ev)
		var m map[string]any
		json.Unmarshal(b, &m)
		lines = append(lines, m)
	}
	if last := tr.Events(); len(last) == 0 || last[len(last)-1].Op != "hangup" {
		t.Errorf("trace does not end with hangup: %v", sim.Ops(tr))
	}
	return result{res, tr, lines}
}

func TestEngine(t *testing.T) {
	tts := func(text, children string) string {
		return `{"module":"tts","data":{"text":"` + text + `"},"children":{` + children + `}}`
	}
	cases := []struct {
		name    string
		flow    string
		script  sim.Script
		src     flows
		wantOps string
		check   func(t *testing.T, r result)
	}{
		{
			name:    "walks the default children then hangs up",
			flow:    tts("one", `"_":{"module":"sleep","data":{"duration":2},"children":{"_":`+tts("two", "")+`}}`),
			wantOps: "module answer say module pause module say hangup",
			check: func(t *testing.T, r result) {
				if r.res.By != "switchboard" || r.res.Cause != "NORMAL_CLEARING" || r.res.Nodes != 3 {
					t.Errorf("result %+v", r.res)
				}
				if r.lines[0]["node"] != "flow" || r.lines[3]["node"] != "flow.children._" || r.lines[5]["node"] != "flow.children._.children._" {
					t.Errorf("node paths: %v %v %v", r.lines[0]["node"], r.lines[3]["node"], r.lines[5]["node"])
				}
			},
		},
		{
			name:    "skip_module goes to the default child",
			flow:    `{"module":"tts","data":{"text":"skipped","skip_module":true},"children":{"_":` + tts("said", "") + `}}`,
			wantOps: "module module answer say hangup",
		},
		{
			name:    "collected digits and a caller hangup mid-collection",
			flow:    `{"module":"collect_dtmf","data":{"max_digits":4},"children":{"_":{"module":"collect_dtmf","data":{}}}}`,
			script:  sim.Script{Inputs: []string{"12#", "hangup"}},
			wantOps: "module answer gather module gather hangup",
			check: func(t *testing.T, r result) {
				last := r.lines[len(r.lines)-1]
				if last["by"] != "caller" || r.res.By != "caller" {
					t.Errorf("hangup line %v, result %+v", last, r.res)
				}
				if r.lines[2]["digits"] != "12" {
					t.Errorf("digits %v", r.lines[2]["digits"])
				}
			},
		},
		{
			name:    "response refuses an unanswered call",
			flow:    `{"module":"response","data":{"code":486}}`,
			wantOps: "module reject hangup",
			check: func(t *testing.T, r result) {
				if r.lines[1]["reason"] != "sip:486" || r.res.Cause != "sip:486" {
					t.Errorf("reject %v, result %+v", r.lines[1], r.res)
				}
			},
		},
		{
			name:    "a panic becomes an error line, an apology and a hangup",
			flow:    `{"module":"tts","data":{"text":"hi"},"children":{"_":{"module":"test_panic","data":{}}}}`,
			wantOps: "module answer say module error say hangup",
			check: func(t *testing.T, r result) {
				if !strings.Contains(fmt.Sprint(r.lines[4]["message"]), "boom") || r.res.Cause != "NORMAL_TEMPORARY_FAILURE" {
					t.Errorf("error line %v, result %+v", r.lines[4], r.res)
				}
			},
		},
		{
			name:    "a failure with no branch ends the call",
			flow:    `{"module":"test_fail","data":{},"children":{"_":` + tts("never", "") + `}}`,
			wantOps: "module error say hangup",
		},
		{
			name:    "a failure with a branch goes on",
			flow:    `{"module":"test_fail_branch","data":{},"children":{"_":` + tts("next", "") + `}}`,
			wantOps: "module error module answer say hangup",
		},
		{
			name:    "callflow jumps to another flow",
			flow:    `{"module":"callflow","data":{"id":"other"}}`,
			src:     flows{"other": `{"numbers":["2"],"flow":` + tts("in the other flow", "") + `}`},
			wantOps: "module module answer say hangup",
		},
		{
			name:    "a missing flow is an error, not dead air",
			flow:    `{"module":"callflow","data":{"id":"gone"}}`,
			src:     flows{},
			wantOps: "module error say hangup",
		},
		{
			name: "flows that jump to each other hit the node limit",
			flow: `{"module":"callflow","data":{"id":"loop"}}`,
			src:  flows{"loop": `{"numbers":["3"],"flow":{"module":"callflow","data":{"id":"loop"}}}`},
			check: func(t *testing.T, r result) {
				ops := sim.Ops(r.trace)
				errs := sim.Find(r.trace, "error")
				if len(errs) != 1 || errs[0].Fields["code"] != "node_limit" || ops[len(ops)-2] != "say" {
					t.Errorf("ops %v", ops)
				}
				if r.res.Nodes != 21 || !errors.Is(r.res.Err, engine.ErrLimit) {
					t.Errorf("result %+v", r.res)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runFlow(t, tc.flow, tc.script, tc.src)
			if tc.wantOps != "" {
				if got := strings.Join(sim.Ops(r.trace), " "); got != tc.wantOps {
					t.Errorf("ops:\n got %s\nwant %s", got, tc.wantOps)
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestNodeLoggerCarriesCallAndNode(t *testing.T) {
	var buf strings.Builder
	ctx, ch := sim.New(t.Context(), call.Info{ID: "call-log", AccountID: "acct", Request: "1"}, sim.Script{})
	tr := call.NewTrace(ch.Clock(), nil)
	e := engine.New(engine.Config{}, &engine.Services{}, slog.New(slog.NewTextHandler(&buf, nil)))
	e.Run(ctx, call.Traced(ch, tr), tr, compile(t, `{"module":"test_fail","data":{}}`), engine.RunOptions{CallflowID: "cf-1"})
	line := ""
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, "module failed") {
			line = l
		}
	}
	for _, want := range []string{"call_id=call-log", "account_id=acct", "callflow_id=cf-1", "module=test_fail", "node=flow"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %s", line, want)
		}
	}
}

package engine_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	_ "github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
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

type result struct {
	res   engine.Result
	trace *call.Trace
	lines []map[string]any
}

func runFlow(t *testing.T, flow string, script sim.Script, src actionstest.Flows) result {
	t.Helper()
	deps := actionstest.Deps()
	deps.Flows = src
	c := actionstest.Run(t, actionstest.Flow(t, flow), actionstest.Options{
		Info: call.Info{ID: "call-1", AccountID: "acct", Request: "1"}, Script: script,
		Config: engine.Config{MaxNodes: 20}, Deps: deps,
	})
	return result{c.Result, c.Trace, actionstest.Lines(t, c.Trace)}
}

func TestEngine(t *testing.T) {
	tts := func(text, children string) string {
		return `{"module":"tts","data":{"text":"` + text + `"},"children":{` + children + `}}`
	}
	cases := []struct {
		name    string
		flow    string
		script  sim.Script
		src     actionstest.Flows
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
			src:     actionstest.Flows{"other": `{"numbers":["2"],"flow":` + tts("in the other flow", "") + `}`},
			wantOps: "module module answer say hangup",
		},
		{
			name:    "a missing flow is an error, not dead air",
			flow:    `{"module":"callflow","data":{"id":"gone"}}`,
			src:     actionstest.Flows{},
			wantOps: "module error say hangup",
		},
		{
			name: "flows that jump to each other hit the node limit",
			flow: `{"module":"callflow","data":{"id":"loop"}}`,
			src:  actionstest.Flows{"loop": `{"numbers":["3"],"flow":{"module":"callflow","data":{"id":"loop"}}}`},
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
	e := engine.New(engine.Config{}, nil, slog.New(slog.NewTextHandler(&buf, nil)))
	e.Run(ctx, call.Traced(ch, tr), tr, actionstest.Flow(t, `{"module":"test_fail","data":{}}`), engine.RunOptions{CallflowID: "cf-1"})
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

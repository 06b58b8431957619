// Package actionstest runs call flows on the engine with a simulated call
// (call/sim's scripted caller), the way the server runs a real call: one
// harness for the tests of the engine, the call-flow modules and the
// benchmarks. It also holds in-memory dependencies (rules, numbers, flows,
// the call log), a scripted customer web server for Pivot, and readers of
// the call trace.
package actionstest

import (
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/pivot"
	"github.com/switchboard/switchboard/internal/twiml"
)

// Account and Secret are the test calls' account and its signing secret,
// unless Options say otherwise.
const (
	Account = "acct"
	Secret  = "secret"
)

// Info is the default call: call-1 of Account, from +15555550100 to 3000.
func Info() call.Info {
	return call.Info{ID: "call-1", AccountID: Account, From: "+15555550100", FromRealm: "example.com",
		To: "3000", ToRealm: "sb.example.com", Request: "3000", Direction: "inbound"}
}

// Deps are complete in-memory dependencies: a real webhook client,
// fresh queues, and empty rules, numbers, flows and call log.
func Deps() *actions.Deps {
	docs := Docs{}
	return &actions.Deps{
		Flows:         Flows{},
		Numbers:       Numbers{},
		Webhooks:      pivot.NewClient(pivot.Config{}),
		CallLog:       &CallLog{},
		Queues:        twiml.NewQueues(),
		TemporalRules: NewRules(),
		Documents:     docs,
		Writes:        docs,
	}
}

// Options are one test call's inputs; the zero value is a call of Info()
// with nothing scripted, on Deps().
type Options struct {
	// Info is the call; Info() when its ID is empty.
	Info call.Info
	// Script is the caller's part: inputs and dial outcomes.
	Script sim.Script
	// Start sets the call's simulated clock; now when zero.
	Start time.Time
	// Config limits the call.
	Config engine.Config
	// Deps are the engine's dependencies; Deps() when nil. An empty
	// &actions.Deps{} builds an engine without any.
	Deps *actions.Deps
	// Vars are the call's variables; fresh when nil.
	Vars *engine.Vars
	// Secret is the account's signing secret; Secret when empty.
	Secret string
	// OnStart sees the call's channel and trace before it runs (another
	// goroutine may watch the call progress).
	OnStart func(*sim.Channel, *call.Trace)
	// Wrap decorates the simulated channel under the trace (a benchmark's
	// time stamps).
	Wrap func(call.Channel) call.Channel
}

// Call is a finished test call.
type Call struct {
	// Result is how the engine says the call ended.
	Result engine.Result
	// Trace is the call's trace, ending with its hangup line.
	Trace *call.Trace
	// Channel is the simulated call, with what it was asked to do.
	Channel *sim.Channel
}

// NewEngine builds an engine on deps that logs nowhere.
func NewEngine(cfg engine.Config, deps *actions.Deps) *engine.Engine {
	return engine.New(cfg, deps, slog.New(slog.DiscardHandler))
}

// Run runs root on a simulated call to its end, as the server does, on an
// engine of its own.
func Run(tb testing.TB, root *engine.Node, o Options) *Call {
	tb.Helper()
	deps := o.Deps
	if deps == nil {
		deps = Deps()
	}
	return RunOn(tb, NewEngine(o.Config, deps), root, o)
}

// RunOn runs root on a simulated call with engine e (o.Config and o.Deps
// are e's business). It fails the test when the trace does not end with a
// hangup line.
func RunOn(tb testing.TB, e *engine.Engine, root *engine.Node, o Options) *Call {
	tb.Helper()
	info := o.Info
	if info.ID == "" {
		info = Info()
	}
	var copts []sim.Option
	if !o.Start.IsZero() {
		copts = append(copts, sim.WithClock(o.Start))
	}
	ctx, ch := sim.New(tb.Context(), info, o.Script, copts...)
	tr := call.NewTrace(ch.Clock(), nil)
	var c call.Channel = ch
	if o.Wrap != nil {
		c = o.Wrap(ch)
	}
	secret := o.Secret
	if secret == "" {
		secret = Secret
	}
	if o.OnStart != nil {
		o.OnStart(ch, tr)
	}
	res := e.Run(ctx, call.Traced(c, tr), tr, root, engine.RunOptions{
		Account: engine.Account{ID: info.AccountID, SigningSecret: secret}, Vars: o.Vars,
	})
	if ev := tr.Events(); len(ev) == 0 || ev[len(ev)-1].Op != "hangup" {
		tb.Errorf("the trace does not end with a hangup line:\n%s", tr.JSONL())
	}
	return &Call{Result: res, Trace: tr, Channel: ch}
}

// Prepare compiles a call-flow document as a saved flow is (schema
// defaults applied) and returns its tree.
func Prepare(tb testing.TB, doc string) *engine.Node {
	tb.Helper()
	f, err := callflow.Prepare([]byte(doc))
	if err != nil {
		tb.Fatalf("prepare %s: %v", doc, err)
	}
	return f.Root
}

// Flow compiles a flow node (a document's "flow") into its tree.
func Flow(tb testing.TB, node string) *engine.Node {
	tb.Helper()
	return Prepare(tb, `{"numbers":["1"],"flow":`+node+`}`)
}

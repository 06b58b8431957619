package actions_test

// The catalog modules' tests (menu, temporal_route, the variables, caller
// id, webhook, record_call and disa) run a flow on actionstest's simulated
// call; catOpts are their inputs in short.

import (
	"reflect"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/engine"
)

// catOpts are a catalog test call's inputs.
type catOpts struct {
	inputs, dials []string
	at            time.Time // the call's clock; now when zero
	from, name    string    // caller id
	rules         *actionstest.Rules
	numbers       actionstest.Numbers
	callLog       *actionstest.CallLog
	noTemporal    bool // leave the temporal store out
	noWebhooks    bool // leave the webhook client out
	// wrap decorates the simulated channel.
	wrap func(call.Channel) call.Channel
}

// catRun runs flow (a flow node) on a simulated call to its end, with
// MaxNodes 30.
func catRun(t *testing.T, flow string, o catOpts) *actionstest.Call {
	t.Helper()
	info := actionstest.Info()
	if o.from != "" {
		info.From = o.from
	}
	info.FromName = o.name
	deps := actionstest.Deps()
	if o.rules != nil {
		deps.TemporalRules = o.rules
	}
	if o.noTemporal {
		deps.TemporalRules = nil
	}
	if o.noWebhooks {
		deps.Webhooks = nil
	}
	if o.numbers != nil {
		deps.Numbers = o.numbers
	}
	if o.callLog != nil {
		deps.CallLog = o.callLog
	}
	return actionstest.Run(t, actionstest.Flow(t, flow), actionstest.Options{
		Info: info, Script: sim.Script{Inputs: o.inputs, Dials: o.dials}, Start: o.at,
		Config: catConfig, Deps: deps, Wrap: o.wrap,
	})
}

// catConfig limits the catalog test calls.
var catConfig = engine.Config{MaxNodes: 30}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s\n got %#v\nwant %#v", what, got, want)
	}
}

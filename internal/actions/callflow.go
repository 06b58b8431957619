package actions

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "callflow", Group: "Advanced", Label: "Go to call flow", Icon: "callflow",
		Doc:    "Continue the call in another call flow.",
		Schema: schema("callflow"), Terminal: true,
		New: func() engine.Action { return new(Callflow) },
	})
}

// Callflow continues the call in another flow of the account (Kazoo's
// callflow module). The per-call node limit stops flows that jump to each
// other forever.
type Callflow struct {
	ID string `json:"id"`
}

var (
	errNoFlows = errors.New("no call-flow source configured")
	errTooLong = errors.New("a pause may last at most 24 hours")
)

// Exec loads the other flow and continues with it.
func (a *Callflow) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	flows := deps(x).Flows
	if flows == nil {
		return "", errNoFlows
	}
	root, err := flows.LoadFlow(ctx, x.Account.ID, a.ID)
	if err != nil {
		return "", fmt.Errorf("load call flow %s: %w", a.ID, err)
	}
	x.Continue(root)
	return "_", nil
}

var _ engine.Action = (*Callflow)(nil)

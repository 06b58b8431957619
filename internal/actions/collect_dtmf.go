package actions

import (
	"context"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "collect_dtmf", Group: "Advanced", Label: "Collect digits", Icon: "dialpad",
		Doc:    "Collect keys into a named collection for a later Pivot or branch.",
		Schema: schema("collect_dtmf"), Branches: []string{"_"},
		New: func() engine.Action { return new(CollectDTMF) },
	})
}

// CollectDTMF collects digits into a collection (Kazoo's collect_dtmf): the
// next Pivot request carries them as Digits[collection].
type CollectDTMF struct {
	MaxDigits         int      `json:"max_digits,omitempty"`
	Timeout           int      `json:"timeout,omitempty"`            // ms before the first key
	InterdigitTimeout int      `json:"interdigit_timeout,omitempty"` // ms between keys
	Terminator        string   `json:"terminator,omitempty"`
	Terminators       []string `json:"terminators,omitempty"`
	CollectionName    string   `json:"collection_name,omitempty"`
}

// Exec collects the digits.
func (a *CollectDTMF) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	if err := x.Call.Answer(ctx); err != nil {
		return "", err
	}
	finish := a.Terminator
	if len(a.Terminators) > 0 {
		finish = keys(a.Terminators)
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = 5000
	}
	o := call.GatherOptions{NumDigits: max(a.MaxDigits, 1), Timeout: ms(timeout), FinishOnKey: finish}
	if a.InterdigitTimeout > 0 {
		o.InterDigitTimeout = ms(a.InterdigitTimeout)
	}
	digits, err := x.Call.Gather(ctx, o)
	if err != nil {
		return "", err
	}
	name := a.CollectionName
	if name == "" {
		name = "default"
	}
	x.Vars.SetDigits(name, digits)
	return "_", nil
}

var _ engine.Action = (*CollectDTMF)(nil)

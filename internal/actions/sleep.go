package actions

import (
	"context"
	"time"

	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "sleep", Group: "Advanced", Label: "Pause", Icon: "pause",
		Doc:    "Wait in silence.",
		Schema: schema("sleep"), Branches: []string{"_"},
		New: func() engine.Action { return new(Sleep) },
	})
}

// Sleep waits (Kazoo's sleep module).
type Sleep struct {
	Duration int    `json:"duration,omitempty"`
	Unit     string `json:"unit,omitempty"` // ms, s (default), m, h
}

// Length is the wait as a duration.
func (a *Sleep) Length() time.Duration {
	unit := time.Second
	switch a.Unit {
	case "ms":
		unit = time.Millisecond
	case "m":
		unit = time.Minute
	case "h":
		unit = time.Hour
	}
	return time.Duration(a.Duration) * unit
}

// Validate keeps a wait within a day, whatever the unit.
func (a *Sleep) Validate() error {
	if a.Length() > 24*time.Hour {
		return errTooLong
	}
	return nil
}

// Exec waits.
func (a *Sleep) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	return "_", x.Call.Pause(ctx, a.Length())
}

var (
	_ engine.Action    = (*Sleep)(nil)
	_ engine.Validator = (*Sleep)(nil)
)

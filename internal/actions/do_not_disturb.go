package actions

import (
	"context"
	"fmt"

	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "do_not_disturb", Group: "Advanced", Label: "Do not disturb", Icon: "dnd",
		Doc:    "Turn do-not-disturb on or off for the caller's user (feature codes *78 and *79): their phones stop ringing until it is off.",
		Schema: schema("do_not_disturb"), Branches: []string{"_"},
		New: func() engine.Action { return new(DoNotDisturb) },
	})
}

// DoNotDisturb sets do_not_disturb.enabled (Kazoo's do_not_disturb
// module, usually a feature code): on the user or device id names, else on
// the calling device's owner, else on the calling device. While it is on,
// the user's (or device's) phones do not ring: a call to them takes the
// bridge's failure child (USER_BUSY).
type DoNotDisturb struct {
	// Action is activate, deactivate or toggle (the default).
	Action string `json:"action,omitempty"`
	// ID is the users or devices document to change; the caller's by
	// default.
	ID string `json:"id,omitempty"`
}

// The prompts of do_not_disturb (Kazoo's dnd-activated, dnd-deactivated,
// dnd-not_available), spoken.
const (
	dndActivated   = "Do not disturb activated."
	dndDeactivated = "Do not disturb deactivated."
	dndUnavailable = "Do not disturb is not available from this phone."
)

// Exec changes the setting, confirms it to the caller and goes on to "_".
func (a *DoNotDisturb) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	d, err := featureTarget(ctx, x, a.ID)
	if err != nil {
		return featureUnavailable(ctx, x, dndUnavailable, err)
	}
	if err := x.Call.Answer(ctx); err != nil {
		return "", err
	}
	on := isTrue(d.object("do_not_disturb"), "enabled")
	want := !on
	switch a.Action {
	case "activate":
		want = true
	case "deactivate":
		want = false
	}
	if want != on {
		if err := setFeature(ctx, x, d, "do_not_disturb", map[string]any{"enabled": want}); err != nil {
			return featureFailed(ctx, x, fmt.Errorf("do not disturb: %w", err))
		}
	}
	text := dndDeactivated
	if want {
		text = dndActivated
	}
	if err := (announcement{text: text}).play(ctx, x); err != nil {
		return "", err
	}
	return "_", nil
}

var _ engine.Action = (*DoNotDisturb)(nil)

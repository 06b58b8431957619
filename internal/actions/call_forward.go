package actions

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "call_forward", Group: "Advanced", Label: "Call forwarding", Icon: "forward",
		Doc:    "Turn call forwarding on or off, or change its number, for the caller's user (feature codes *72 and *73).",
		Schema: schema("call_forward"), Branches: []string{"_"},
		New: func() engine.Action { return new(CallForward) },
	})
}

// CallForward changes the caller's call forwarding (Kazoo's call_forward
// module, usually a feature code): the call_forward object of the calling
// device's owner, else of the calling device. The number comes from the
// dialled feature code's capture group (*72 followed by the number, a
// pattern like ^\*72([0-9]*)$), else the caller is asked to key it in.
// While forwarding is on, calls to the user ring the number (see the
// users document's call_forward: substitute, failover, keep_caller_id).
type CallForward struct {
	// Action is activate, deactivate, update (change the number only),
	// toggle (the default) or menu (1 toggles, 2 changes the number).
	Action string `json:"action,omitempty"`
}

// The prompts of call_forward (Kazoo's cf-now_forwarded_to, cf-disabled,
// cf-not_available, cf-enter_number, cf-enabled_menu, cf-disabled_menu),
// spoken.
const (
	cfActivated   = "Call forwarding activated. Calls are now forwarded to %s."
	cfDeactivated = "Call forwarding deactivated."
	cfUnavailable = "Call forwarding is not available from this phone."
	cfEnterNumber = "Please enter the number to forward your calls to, then press pound."
	cfTooShort    = "That number is too short."
	cfSaved       = "The forwarding number is now %s."
	cfNoNumber    = "No number was entered. Call forwarding is unchanged."
	cfMenuOn      = "Call forwarding is on, to %s. Press 1 to turn it off, or 2 to change the number."
	cfMenuOff     = "Call forwarding is off. Press 1 to turn it on, or 2 to change the number."
)

// Kazoo's limits on a keyed-in forwarding number (min_callfwd_number_length,
// max_callfwd_number_length, callfwd_number_timeout), and ours on retries.
const (
	cfMinDigits     = 3
	cfMaxDigits     = 20
	cfNumberTimeout = 8 * time.Second
	cfTries         = 3 // numbers keyed in before giving up
	cfMenuRounds    = 5 // menu choices before the menu ends by itself
)

// forwarding is the state being changed: call_forward's enabled and
// number.
type forwarding struct {
	enabled bool
	number  string
}

// Exec applies the action, stores the result when it changed, confirms
// it aloud and goes on to "_". A caller who keys in no number leaves
// everything as it was. The change is stored before it is confirmed, so a
// caller who hangs up on the confirmation keeps it.
func (a *CallForward) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	d, err := featureTarget(ctx, x, "")
	if err != nil {
		return featureUnavailable(ctx, x, cfUnavailable, err)
	}
	if err := x.Call.Answer(ctx); err != nil {
		return "", err
	}
	cf := d.object("call_forward")
	f := forwarding{enabled: isTrue(cf, "enabled")}
	f.number, _ = cf["number"].(string)
	captured, _ := x.Vars.Get("capture_group")
	captured = forwardNumber(captured)
	if a.Action == "menu" {
		return a.menu(ctx, x, d, f, captured)
	}
	if _, err := a.apply(ctx, x, d, a.Action, f, captured); err != nil {
		return featureFailed(ctx, x, err)
	}
	return "_", nil
}

// apply runs one action ("toggle" when unknown), stores its result when
// it changed, says so, and returns the forwarding now in force.
func (a *CallForward) apply(ctx context.Context, x *engine.Exec, d featureDoc, action string, f forwarding, captured string) (forwarding, error) {
	var (
		now  forwarding
		text string
		ok   bool
	)
	switch action {
	case "activate":
		now, text, ok = a.activate(ctx, x, f, captured)
	case "deactivate":
		now, text, ok = forwarding{enabled: false, number: f.number}, cfDeactivated, true
	case "update":
		now, text, ok = a.update(ctx, x, f, captured)
	default:
		now, text, ok = a.toggle(ctx, x, f, captured)
	}
	if !ok {
		return f, nil
	}
	if now != f {
		set := map[string]any{"enabled": now.enabled, "number": now.number}
		if err := setFeature(ctx, x, d, "call_forward", set); err != nil {
			return f, fmt.Errorf("call forwarding: %w", err)
		}
	}
	a.say(ctx, x, text)
	return now, nil
}

// activate turns forwarding on to the captured number, or to one keyed
// in (always asked for when none was dialled, as Kazoo).
func (a *CallForward) activate(ctx context.Context, x *engine.Exec, f forwarding, captured string) (forwarding, string, bool) {
	number := captured
	if number == "" {
		var ok bool
		if number, ok = a.askNumber(ctx, x); !ok {
			return f, "", false
		}
	}
	return forwarding{enabled: true, number: number}, fmt.Sprintf(cfActivated, spoken(number)), true
}

// update changes the number, leaving forwarding on or off.
func (a *CallForward) update(ctx context.Context, x *engine.Exec, f forwarding, captured string) (forwarding, string, bool) {
	number := captured
	if number == "" {
		var ok bool
		if number, ok = a.askNumber(ctx, x); !ok {
			return f, "", false
		}
	}
	f.number = number
	return f, fmt.Sprintf(cfSaved, spoken(number)), true
}

// toggle turns forwarding off when it is on; on, to the captured number,
// else the stored one, else one keyed in.
func (a *CallForward) toggle(ctx context.Context, x *engine.Exec, f forwarding, captured string) (forwarding, string, bool) {
	switch {
	case f.enabled:
		return forwarding{enabled: false, number: f.number}, cfDeactivated, true
	case captured == "" && f.number != "":
		return forwarding{enabled: true, number: f.number}, fmt.Sprintf(cfActivated, spoken(f.number)), true
	}
	return a.activate(ctx, x, f, captured)
}

// menu offers 1 (toggle) and 2 (change the number), each choice stored
// at once, until the caller presses nothing (cfMenuRounds at most).
func (a *CallForward) menu(ctx context.Context, x *engine.Exec, d featureDoc, f forwarding, captured string) (string, error) {
	for range cfMenuRounds {
		text := cfMenuOff
		if f.enabled {
			text = fmt.Sprintf(cfMenuOn, spoken(f.number))
		}
		key, err := x.Call.Gather(ctx, call.GatherOptions{NumDigits: 1, Timeout: cfNumberTimeout,
			Prompts: announcement{text: text}.prompts(x)})
		if err != nil {
			return "", err
		}
		action := ""
		switch key {
		case "":
			return "_", nil
		case "1":
			action = "toggle"
		case "2":
			action = "update"
		default:
			continue
		}
		if f, err = a.apply(ctx, x, d, action, f, captured); err != nil {
			return featureFailed(ctx, x, err)
		}
	}
	return "_", nil
}

// askNumber asks for the forwarding number (finished with # or a pause)
// until one long enough is keyed in, cfTries times at most.
func (a *CallForward) askNumber(ctx context.Context, x *engine.Exec) (string, bool) {
	for range cfTries {
		digits, err := x.Call.Gather(ctx, call.GatherOptions{
			NumDigits: cfMaxDigits, Timeout: cfNumberTimeout, InterDigitTimeout: defaultInterdigit, FinishOnKey: "#",
			Prompts: announcement{text: cfEnterNumber}.prompts(x),
		})
		if err != nil {
			return "", false
		}
		if n := forwardNumber(digits); n != "" {
			return n, true
		}
		if digits == "" {
			break
		}
		a.say(ctx, x, cfTooShort)
	}
	a.say(ctx, x, cfNoNumber)
	x.Trace.Add("warning", "code", "no_forward_number", "message", "no forwarding number was keyed in; call forwarding is unchanged",
		"module", x.Node.Module, "node", x.Node.Path)
	return "", false
}

// say speaks a confirmation; a failure (the caller hung up) is left to the
// next step to notice.
func (a *CallForward) say(ctx context.Context, x *engine.Exec, text string) {
	if err := (announcement{text: text}).play(ctx, x); err != nil {
		x.Log.Debug("prompt not spoken", "err", err)
	}
}

// forwardNumber is s when it is a number calls can be forwarded to (an
// optional + and cfMinDigits to cfMaxDigits digits), else "". A feature
// code's capture group that is not one ("*72" itself, when a pattern has
// no group) counts as no number.
func forwardNumber(s string) string {
	digits := strings.TrimPrefix(s, "+")
	if len(digits) < cfMinDigits || len(digits) > cfMaxDigits {
		return ""
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return s
}

// spoken spells a number digit by digit, for text to speech.
func spoken(number string) string {
	return strings.Join(strings.Split(number, ""), " ")
}

var _ engine.Action = (*CallForward)(nil)

package actions

import (
	"context"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/routing"
)

func init() {
	engine.Register(engine.Spec{
		Name: "disa", Group: "Advanced", Label: "Dial through (DISA)", Icon: "disa",
		Doc:    "Let a caller who knows the PIN dial a number from this line.",
		Schema: schema("disa"), Branches: []string{"_"}, // and a failed dial's cause (USER_BUSY, sip:486)
		New: func() engine.Action { return new(DISA) },
	})
}

// DISA is direct inward system access (Kazoo's disa): the caller enters
// the PIN (retries attempts, then the call ends), hears a dial tone and
// dials a number. A number a flow of the account answers goes on in that
// flow, as Kazoo; any other number is dialled, with the caller id the call
// presents. A dial that fails takes the child named after its cause, else
// "_"; one that was answered ends the call when the other party hangs up.
// No number after retries attempts: "_".
type DISA struct {
	Pin     string `json:"pin,omitempty"`
	Retries int    `json:"retries,omitempty"`
	// Interdigit is the wait between keys, in ms.
	Interdigit int `json:"interdigit,omitempty"`
	// MaxDigits is the longest number the caller may dial.
	MaxDigits int `json:"max_digits,omitempty"`
	// PreconnectAudio is dialtone or ringing: what the caller hears while
	// dialling.
	PreconnectAudio string `json:"preconnect_audio,omitempty"`
	RingRepeatCount int    `json:"ring_repeat_count,omitempty"`
	// Kazoo's account-level options; Switchboard has no account caller id
	// or call restrictions yet.
	UseAccountCallerID     bool `json:"use_account_caller_id,omitempty"`
	EnforceCallRestriction bool `json:"enforce_call_restriction,omitempty"`
}

// DISA's prompts, spoken (Kazoo's disa-* system prompts).
const (
	disaEnterPin        = "Please enter your PIN, then press pound."
	disaInvalidPin      = "That PIN is not valid."
	disaRetriesExceeded = "Too many attempts. Goodbye."
	disaNoNumber        = "We did not get a number."
)

// Tones played while the caller dials (FreeSWITCH tone_stream syntax).
const (
	dialTone = "tone_stream://%(10000,0,350,440)"
	ringTone = "tone_stream://%(2000,4000,440,480)"
)

// Exec checks the PIN, collects the number and routes or dials it.
func (a *DISA) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	if err := x.Call.Answer(ctx); err != nil {
		return "", err
	}
	retries := orDefault(a.Retries, 3)
	interdigit := defaultInterdigit
	if a.Interdigit > 0 {
		interdigit = ms(a.Interdigit)
	}
	if a.Pin != "" {
		ok, err := a.checkPin(ctx, x, retries, interdigit)
		if err != nil {
			return "", err
		}
		if !ok {
			return engine.BranchEnd, nil
		}
	}
	tone := call.PlayOptions{URL: dialTone, Loop: 1, Terminators: allKeys}
	if a.PreconnectAudio == "ringing" {
		tone = call.PlayOptions{URL: ringTone, Loop: max(a.RingRepeatCount, 1), Terminators: allKeys}
	}
	for range retries {
		number, err := x.Call.Gather(ctx, call.GatherOptions{
			NumDigits: orDefault(a.MaxDigits, 15), Timeout: defaultCollectTimeout, InterDigitTimeout: interdigit,
			FinishOnKey: "#", Prompts: []call.Prompt{{Play: &tone}},
		})
		if err != nil {
			return "", err
		}
		if number == "" {
			continue
		}
		return a.connect(ctx, x, routing.Normalize(number))
	}
	if err := (announcement{text: disaNoNumber}).play(ctx, x); err != nil {
		return "", err
	}
	traceBranch(x, "_")
	return "_", nil
}

// checkPin asks for the PIN up to retries times.
func (a *DISA) checkPin(ctx context.Context, x *engine.Exec, retries int, interdigit time.Duration) (bool, error) {
	o := call.GatherOptions{
		NumDigits: max(10, len(a.Pin)), Timeout: defaultCollectTimeout, InterDigitTimeout: interdigit,
		FinishOnKey: "#", Prompts: announcement{text: disaEnterPin}.prompts(x),
	}
	for range retries {
		pin, err := x.Call.Gather(ctx, o)
		if err != nil {
			return false, err
		}
		if pin == a.Pin {
			return true, nil
		}
		if err := (announcement{text: disaInvalidPin}).play(ctx, x); err != nil {
			return false, err
		}
	}
	return false, (announcement{text: disaRetriesExceeded}).play(ctx, x)
}

// connect goes on in the flow that answers number, or dials it.
func (a *DISA) connect(ctx context.Context, x *engine.Exec, number string) (string, error) {
	if numbers := deps(x).Numbers; numbers != nil {
		id, root, err := numbers.RouteNumber(ctx, x.Account.ID, number)
		switch {
		case err != nil:
			x.Log.Warn("disa route lookup failed", "number", number, "err", err)
		case root != nil:
			x.Trace.Add("route", "number", number, "callflow_id", id, "module", x.Node.Module, "node", x.Node.Path)
			x.Continue(root)
			return "_", nil
		}
	}
	cid, _ := x.Vars.CallerID(x.Call.Info())
	res, err := x.Call.Dial(ctx, call.DialOptions{
		Targets: []call.Target{{Kind: "number", Value: number}}, Timeout: 30 * time.Second, CallerID: cid,
	})
	if err != nil {
		return "_", err
	}
	switch res.Status {
	case "completed", "answered":
		return engine.BranchEnd, nil
	}
	key := "_"
	if res.Cause != "" && x.HasChild(res.Cause) {
		key = res.Cause
	}
	traceBranch(x, key, "status", res.Status, "cause", res.Cause)
	return key, nil
}

var _ engine.Action = (*DISA)(nil)

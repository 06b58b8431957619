package call

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard/switchboard/internal/egress"
)

// Traced wraps ch so that every operation writes one line to t once it has
// completed (see shared/spec/call-trace.md). The same decorator goes over a
// SIP leg and a simulated call, so both write identical traces.
//
// When an operation fails, its line carries an "error" field; when it
// failed because the caller hung up (context.Cause(ctx) is ErrHangup), the
// line carries "interrupted": true instead, and the engine writes the
// hangup line with RecordCallerHangup. An operation that answered the call
// implicitly (Say on a ringing call) is preceded by an "answer" line.
//
// The result implements Clocked: it reports the inner channel's clock, or
// RealClock when the inner channel has none. Unwrap returns ch. With a nil
// trace, Traced returns ch itself.
func Traced(ch Channel, t *Trace) Channel {
	if t == nil {
		return ch
	}
	return &traced{ch: ch, t: t}
}

type traced struct {
	ch Channel
	t  *Trace
}

var (
	_ Channel = (*traced)(nil)
	_ Clocked = (*traced)(nil)
)

// Clock is the inner channel's clock, or RealClock.
func (c *traced) Clock() Clock {
	if cl, ok := c.ch.(Clocked); ok {
		return cl.Clock()
	}
	return RealClock{}
}

// Unwrap returns the traced channel, so optional interfaces of a SIP leg
// can still be found.
func (c *traced) Unwrap() Channel { return c.ch }

func (c *traced) Info() Info     { return c.ch.Info() }
func (c *traced) Answered() bool { return c.ch.Answered() }

func (c *traced) Answer(ctx context.Context) error {
	if c.ch.Answered() {
		return c.ch.Answer(ctx)
	}
	err := c.ch.Answer(ctx)
	c.write(ctx, true, "answer", map[string]any{}, err)
	return err
}

func (c *traced) Say(ctx context.Context, o SayOptions) error {
	was := c.ch.Answered()
	err := c.ch.Say(ctx, o)
	c.write(ctx, was, "say", sayFields(o), err)
	return err
}

func (c *traced) Play(ctx context.Context, o PlayOptions) error {
	was := c.ch.Answered()
	err := c.ch.Play(ctx, o)
	c.write(ctx, was, "play", playFields(o), err)
	return err
}

func (c *traced) Pause(ctx context.Context, d time.Duration) error {
	was := c.ch.Answered()
	err := c.ch.Pause(ctx, d)
	c.write(ctx, was, "pause", map[string]any{"seconds": d.Seconds()}, err)
	return err
}

func (c *traced) Gather(ctx context.Context, o GatherOptions) (string, error) {
	was := c.ch.Answered()
	digits, err := c.ch.Gather(ctx, o)
	f := map[string]any{
		"num_digits":    o.NumDigits,
		"timeout":       o.Timeout.Seconds(),
		"finish_on_key": o.FinishOnKey,
		"digits":        digits,
	}
	if o.InterDigitTimeout > 0 {
		f["inter_digit_timeout"] = o.InterDigitTimeout.Seconds()
	}
	if len(o.Prompts) > 0 {
		prompts := make([]map[string]any, 0, len(o.Prompts))
		for _, p := range o.Prompts {
			prompts = append(prompts, promptFields(p))
		}
		f["prompts"] = prompts
	}
	c.write(ctx, was, "gather", f, err)
	return digits, err
}

func (c *traced) Record(ctx context.Context, o RecordOptions) (Recording, error) {
	was := c.ch.Answered()
	r, err := c.ch.Record(ctx, o)
	c.write(ctx, was, "record", map[string]any{
		"max_length":    o.MaxLength.Seconds(),
		"timeout":       o.Timeout.Seconds(),
		"finish_on_key": o.FinishOnKey,
		"play_beep":     o.PlayBeep,
		"duration":      r.Duration.Seconds(),
		"url":           r.URL,
		"digits":        r.Digits,
	}, err)
	return r, err
}

func (c *traced) Dial(ctx context.Context, o DialOptions) (DialResult, error) {
	was := c.ch.Answered()
	next := o.OnTransfer
	o.OnTransfer = func(t Transfer) {
		c.t.Add("transfer", "kind", t.Kind, "by", t.By, "target", t.Target, "status", t.Status, "sip_code", t.SIPCode)
		if next != nil {
			next(t)
		}
	}
	warn := o.OnWarning
	o.OnWarning = func(code, message string) {
		c.t.Add("warning", "code", code, "message", message)
		if warn != nil {
			warn(code, message)
		}
	}
	r, err := c.ch.Dial(ctx, o)
	targets := make([]map[string]any, 0, len(o.Targets))
	for _, t := range o.Targets {
		targets = append(targets, map[string]any{"kind": t.Kind, "value": t.Value})
	}
	status := r.Status
	switch {
	case err != nil && hungUp(ctx, err):
		if status == "" {
			status = "canceled"
		}
	case err != nil:
		status = "failed"
	}
	f := map[string]any{
		"targets":   targets,
		"timeout":   o.Timeout.Seconds(),
		"caller_id": o.CallerID,
		"status":    status,
		"call_id":   r.CallID,
		"duration":  r.Duration.Seconds(),
	}
	if r.Cause != "" {
		f["cause"] = r.Cause
	}
	if r.SIPCode != 0 {
		f["sip_code"] = r.SIPCode
	}
	if r.Recording != nil {
		f["recording_url"] = r.Recording.URL
	}
	c.write(ctx, was, "dial", f, err)
	return r, err
}

func (c *traced) Reject(ctx context.Context, reason string) error {
	err := c.ch.Reject(ctx, reason)
	c.write(ctx, true, "reject", map[string]any{"reason": reason}, err)
	return err
}

func (c *traced) Hangup(ctx context.Context, cause string) error {
	err := c.ch.Hangup(ctx, cause)
	f := map[string]any{"cause": cause, "by": HangupBySwitchboard}
	if err != nil {
		f["error"] = err.Error()
	}
	c.t.add("hangup", f) // f is ours: no copy
	return err
}

// write records op's line, preceded by an "answer" line when the operation
// answered the call (wasAnswered false before, Answered true now).
func (c *traced) write(ctx context.Context, wasAnswered bool, op string, f map[string]any, err error) {
	if !wasAnswered && c.ch.Answered() {
		c.t.Add("answer")
	}
	if err != nil {
		if hungUp(ctx, err) {
			f["interrupted"] = true
		} else {
			f["error"] = err.Error()
		}
	}
	c.t.add(op, f) // f was built for this line: no copy
}

// hungUp reports whether err comes from the caller hanging up.
func hungUp(ctx context.Context, err error) bool {
	return errors.Is(context.Cause(ctx), ErrHangup) || errors.Is(err, ErrHangup)
}

func sayFields(o SayOptions) map[string]any {
	return map[string]any{
		"text":     o.Text,
		"voice":    o.Voice,
		"language": o.Language,
		"loop":     o.Loop,
	}
}

func playFields(o PlayOptions) map[string]any {
	f := map[string]any{"loop": o.Loop}
	switch {
	case o.Digits != "":
		f["digits"] = o.Digits
	case o.MediaID != "":
		f["media_id"] = o.MediaID
		if o.URL != "" {
			f["url"] = egress.RedactURL(o.URL)
		}
	default:
		f["url"] = egress.RedactURL(o.URL) // a URL's password stays out of the trace
	}
	return f
}

func promptFields(p Prompt) map[string]any {
	var f map[string]any
	switch {
	case p.Say != nil:
		f = sayFields(*p.Say)
		f["op"] = "say"
	case p.Play != nil:
		f = playFields(*p.Play)
		f["op"] = "play"
	default:
		f = map[string]any{"op": "pause", "seconds": p.Pause.Seconds()}
	}
	return f
}

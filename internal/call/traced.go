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
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tc.t == nil { // the trace's first channel lives in the trace
		t.tc = traced{ch: ch, t: t}
		return &t.tc
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
	c.write(ctx, true, "answer", nil, err)
	return err
}

func (c *traced) Say(ctx context.Context, o SayOptions) error {
	was := c.ch.Answered()
	err := c.ch.Say(ctx, o)
	f := sayFields(o)
	c.write(ctx, was, "say", f[:], err)
	return err
}

func (c *traced) Play(ctx context.Context, o PlayOptions) error {
	was := c.ch.Answered()
	err := c.ch.Play(ctx, o)
	f, n := playFields(o)
	c.write(ctx, was, "play", f[:n], err)
	return err
}

func (c *traced) Pause(ctx context.Context, d time.Duration) error {
	was := c.ch.Answered()
	err := c.ch.Pause(ctx, d)
	c.write(ctx, was, "pause", []field{anyField("seconds", d.Seconds())}, err)
	return err
}

func (c *traced) Gather(ctx context.Context, o GatherOptions) (string, error) {
	was := c.ch.Answered()
	digits, err := c.ch.Gather(ctx, o)
	f := []field{
		intField("num_digits", o.NumDigits),
		anyField("timeout", o.Timeout.Seconds()),
		strField("finish_on_key", o.FinishOnKey),
		strField("digits", digits),
	}
	if o.InterDigitTimeout > 0 {
		f = append(f, anyField("inter_digit_timeout", o.InterDigitTimeout.Seconds()))
	}
	if len(o.Prompts) > 0 {
		prompts := make([]map[string]any, 0, len(o.Prompts))
		for _, p := range o.Prompts {
			prompts = append(prompts, promptFields(p))
		}
		f = append(f, anyField("prompts", prompts))
	}
	c.write(ctx, was, "gather", f, err)
	return digits, err
}

func (c *traced) Record(ctx context.Context, o RecordOptions) (Recording, error) {
	was := c.ch.Answered()
	r, err := c.ch.Record(ctx, o)
	c.write(ctx, was, "record", []field{
		anyField("max_length", o.MaxLength.Seconds()),
		anyField("timeout", o.Timeout.Seconds()),
		strField("finish_on_key", o.FinishOnKey),
		anyField("play_beep", o.PlayBeep),
		anyField("duration", r.Duration.Seconds()),
		strField("url", r.URL),
		strField("digits", r.Digits),
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
	f := []field{
		anyField("targets", targets),
		anyField("timeout", o.Timeout.Seconds()),
		strField("caller_id", o.CallerID),
		strField("status", status),
		strField("call_id", r.CallID),
		anyField("duration", r.Duration.Seconds()),
	}
	if r.Cause != "" {
		f = append(f, strField("cause", r.Cause))
	}
	if r.SIPCode != 0 {
		f = append(f, intField("sip_code", r.SIPCode))
	}
	if r.Recording != nil {
		f = append(f, strField("recording_url", r.Recording.URL))
	}
	c.write(ctx, was, "dial", f, err)
	return r, err
}

func (c *traced) Reject(ctx context.Context, reason string) error {
	err := c.ch.Reject(ctx, reason)
	c.write(ctx, true, "reject", []field{strField("reason", reason)}, err)
	return err
}

func (c *traced) Hangup(ctx context.Context, cause string) error {
	err := c.ch.Hangup(ctx, cause)
	f := [...]field{strField("cause", cause), strField("by", HangupBySwitchboard), {}}
	n := 2
	if err != nil {
		f[2], n = strField("error", err.Error()), 3
	}
	c.t.add("hangup", f[:n])
	return err
}

// write records op's line, preceded by an "answer" line when the operation
// answered the call (wasAnswered false before, Answered true now).
func (c *traced) write(ctx context.Context, wasAnswered bool, op string, f []field, err error) {
	if !wasAnswered && c.ch.Answered() {
		c.t.add("answer", nil)
	}
	switch {
	case err == nil:
		c.t.add(op, f)
	case hungUp(ctx, err):
		c.t.add(op, f, anyField("interrupted", true))
	default:
		c.t.add(op, f, strField("error", err.Error()))
	}
}

// hungUp reports whether err comes from the caller hanging up.
func hungUp(ctx context.Context, err error) bool {
	return errors.Is(context.Cause(ctx), ErrHangup) || errors.Is(err, ErrHangup)
}

func sayFields(o SayOptions) [4]field {
	return [...]field{
		strField("text", o.Text),
		strField("voice", o.Voice),
		strField("language", o.Language),
		intField("loop", o.Loop),
	}
}

// playFields are a play line's fields: f[:n].
func playFields(o PlayOptions) (f [3]field, n int) {
	f[0], n = intField("loop", o.Loop), 1
	switch {
	case o.Digits != "":
		f[1], n = strField("digits", o.Digits), 2
	case o.MediaID != "":
		f[1], n = strField("media_id", o.MediaID), 2
		if o.URL != "" {
			f[2], n = strField("url", egress.RedactURL(o.URL)), 3
		}
	default:
		f[1], n = strField("url", egress.RedactURL(o.URL)), 2 // a URL's password stays out of the trace
	}
	return f, n
}

// promptFields is a gather prompt as the gather line lists it: a map
// shaped like the prompt's own line.
func promptFields(p Prompt) map[string]any {
	var fs []field
	switch {
	case p.Say != nil:
		f := sayFields(*p.Say)
		fs = append(f[:], strField("op", "say"))
	case p.Play != nil:
		f, n := playFields(*p.Play)
		fs = append(f[:n:n], strField("op", "play"))
	default:
		fs = []field{strField("op", "pause"), anyField("seconds", p.Pause.Seconds())}
	}
	m := make(map[string]any, len(fs))
	for i := range fs {
		m[fs[i].key] = fs[i].value()
	}
	return m
}

// Package sim runs calls without a phone: a call.Channel driven by a
// scripted caller (Script) on simulated time, and helpers to check the call
// trace. `switchboard simulate` and the engine's and actions' tests use it.
package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/call"
)

var (
	// ErrEnded is returned by operations on a call that Switchboard already
	// hung up or rejected (except the one Hangup that may follow a Reject);
	// it is also the call context's cause then.
	ErrEnded = errors.New("sim: call ended")
	// ErrAnswered is returned by Reject on an answered call.
	ErrAnswered = errors.New("sim: call already answered")
)

// Op is one operation called on a Channel, for tests to assert without the
// trace.
type Op struct {
	// Name is the call-trace op: answer, say, play, pause, gather, record,
	// dial, reject, hangup; "input" for NextInput.
	Name string
	// Options are the arguments: call.SayOptions, call.PlayOptions,
	// time.Duration (pause), call.GatherOptions, call.RecordOptions,
	// call.DialOptions, string (reject reason, hangup cause); nil for
	// answer and input.
	Options any
	// Result is what the operation returned: the digits (gather, input),
	// call.Recording, call.DialResult; nil otherwise.
	Result any
	Err    error
}

// Option configures New.
type Option func(*config)

type config struct {
	start        time.Time
	playDuration func(url string) time.Duration
	media        func(id string) (time.Duration, error)
	testCall     bool
}

// WithTestCall marks the call as a rehearsal (call.TestCall): the
// configurator's test calls, which keep nothing (no voicemail message).
func WithTestCall() Option {
	return func(c *config) { c.testCall = true }
}

// WithClock starts the simulated clock at start instead of the real now.
func WithClock(start time.Time) Option {
	return func(c *config) { c.start = start }
}

// WithPlayDuration gives the length of the audio at a URL (PlayOptions.URL,
// or "media:<id>" for a MediaID); by default every audio lasts 1 s.
func WithPlayDuration(f func(url string) time.Duration) Option {
	return func(c *config) { c.playDuration = f }
}

// WithMedia gives a stored media id's length, or the error a real call's
// play of it would meet (no such media in the call's account): a play of a
// MediaID then lasts as long as the audio, or fails as on a SIP call.
func WithMedia(f func(id string) (time.Duration, error)) Option {
	return func(c *config) { c.media = f }
}

// Channel is a simulated call: a call.Channel whose caller follows a
// Script and whose clock jumps over waits. Safe for concurrent use.
type Channel struct {
	info         call.Info
	cancel       context.CancelCauseFunc
	clock        *simClock
	playDuration func(url string) time.Duration
	media        func(id string) (time.Duration, error)
	testCall     bool

	mu         sync.Mutex
	inputs     []string
	dials      []string
	answered   bool
	ended      bool // hung up or rejected by Switchboard
	hungUp     bool // Hangup was called
	gone       bool // the caller hung up
	recordings int
	legs       int
	ops        []Op
	callRec    *callRecording // StartRecording's, until StopRecording (recorder.go)
}

var (
	_ call.Channel = (*Channel)(nil)
	_ call.Clocked = (*Channel)(nil)
)

// New returns a simulated call. The returned ctx is the call's context: it
// is cancelled with call.ErrHangup when the script says "hangup", and with
// ErrEnded when Switchboard hangs up or rejects the call.
func New(parent context.Context, info call.Info, s Script, opts ...Option) (ctx context.Context, ch *Channel) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancelCause(parent)
	return ctx, &Channel{
		info:         info,
		cancel:       cancel,
		clock:        newClock(cfg.start),
		playDuration: cfg.playDuration,
		media:        cfg.media,
		testCall:     cfg.testCall,
		inputs:       append([]string(nil), s.Inputs...),
		dials:        append([]string(nil), s.Dials...),
	}
}

// Info returns the info given to New.
func (c *Channel) Info() call.Info { return c.info }

// TestCall reports whether New was given WithTestCall (call.TestCall).
func (c *Channel) TestCall() bool { return c.testCall }

// Clock is the call's simulated clock: the start (WithClock, or the real
// now at New) plus the real time elapsed plus every simulated wait.
func (c *Channel) Clock() call.Clock { return c.clock }

// Advance moves the simulated clock forward by d, for code that waits on
// its own (a menu timing out after NextInput).
func (c *Channel) Advance(d time.Duration) { c.clock.advance(d) }

// Skipped is the simulated time added to the clock so far.
func (c *Channel) Skipped() time.Duration { return c.clock.skipped() }

// Answered reports whether the call has been answered.
func (c *Channel) Answered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered
}

// Ended reports whether the call is over: hung up or rejected by
// Switchboard, or hung up by the caller.
func (c *Channel) Ended() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended || c.gone
}

// Ops returns the operations called so far, in order.
func (c *Channel) Ops() []Op {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Op(nil), c.ops...)
}

// Answer answers the call; answering an answered call does nothing.
func (c *Channel) Answer(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.checkLocked(ctx, "answer")
	if err == nil {
		c.answered = true
	}
	c.addLocked(Op{Name: "answer", Err: err})
	return err
}

// Say speaks for 60 ms a character per loop, at least 1 s.
func (c *Channel) Say(ctx context.Context, o call.SayOptions) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.checkLocked(ctx, "say")
	if err == nil {
		c.clock.advance(sayDuration(o))
	}
	c.addLocked(Op{Name: "say", Options: o, Err: err})
	return err
}

// Play plays for 1 s a loop (or WithPlayDuration's length); digits take
// 100 ms each and 500 ms a "w".
func (c *Channel) Play(ctx context.Context, o call.PlayOptions) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.checkLocked(ctx, "play")
	if err == nil && o.MediaID != "" && c.media != nil {
		_, err = c.media(o.MediaID)
	}
	if err == nil {
		c.clock.advance(c.playLength(o))
	}
	c.addLocked(Op{Name: "play", Options: o, Err: err})
	return err
}

// Pause waits d of simulated time.
func (c *Channel) Pause(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.checkLocked(ctx, "pause")
	if err == nil {
		c.clock.advance(d)
	}
	c.addLocked(Op{Name: "pause", Options: d, Err: err})
	return err
}

// Gather takes the caller's next input. Keys pressed during the prompts
// count (barge-in). The digits stop at the first FinishOnKey key (not
// included) or after NumDigits; later keys are dropped. No keys: "" after
// the prompts and Timeout. Keys ending neither way: the digits after the
// inter-digit timeout. "hangup" cancels the call's context with
// call.ErrHangup and returns an error wrapping it.
func (c *Channel) Gather(ctx context.Context, o call.GatherOptions) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.mediaLocked(ctx, "gather"); err != nil {
		c.addLocked(Op{Name: "gather", Options: o, Result: "", Err: err})
		return "", err
	}
	in := c.nextInputLocked()
	if in == Hangup {
		err := c.callerHangupLocked("gather")
		c.addLocked(Op{Name: "gather", Options: o, Result: "", Err: err})
		return "", err
	}
	digits, pressed, done := collect(in, o)
	if done && o.Result != nil && pressed > 0 {
		if k := []rune(in)[pressed-1]; strings.ContainsRune(o.FinishOnKey, k) {
			o.Result.FinishedOnKey = string(k)
		}
	}
	switch {
	case pressed == 0:
		for _, p := range o.Prompts {
			c.clock.advance(c.promptLength(p))
		}
		c.clock.advance(o.Timeout)
	case done:
		c.clock.advance(time.Duration(pressed) * KeyTime)
	default:
		wait := o.Timeout
		if o.InterDigitTimeout > 0 {
			wait = o.InterDigitTimeout
		}
		c.clock.advance(time.Duration(pressed)*KeyTime + wait)
	}
	c.addLocked(Op{Name: "gather", Options: o, Result: digits})
	return digits, nil
}

// collect applies a Gather's rules to the keys of one input: the digits,
// how many keys were pressed before the gather ended, and whether a finish
// key or NumDigits ended it.
func collect(in string, o call.GatherOptions) (digits string, pressed int, done bool) {
	var b strings.Builder
	n := 0
	for _, k := range in {
		pressed++
		if strings.ContainsRune(o.FinishOnKey, k) {
			return b.String(), pressed, true
		}
		b.WriteRune(k)
		n++
		if o.NumDigits > 0 && n == o.NumDigits {
			return b.String(), pressed, true
		}
	}
	return b.String(), pressed, false
}

// Record takes the caller's next input: keys end the recording at the
// first FinishOnKey key among them (Digits is that key), "" ends it on
// silence; either way it lasts RecordingLength, or MaxLength if shorter.
// "hangup" ends it with Digits "hangup", returns the recording and a nil
// error (as Twilio still posts it), and cancels the call's context with
// call.ErrHangup.
func (c *Channel) Record(ctx context.Context, o call.RecordOptions) (call.Recording, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.mediaLocked(ctx, "record"); err != nil {
		c.addLocked(Op{Name: "record", Options: o, Result: call.Recording{}, Err: err})
		return call.Recording{}, err
	}
	in := c.nextInputLocked()
	length := RecordingLength
	if o.MaxLength > 0 && o.MaxLength < length {
		length = o.MaxLength
	}
	var digits string
	switch {
	case in == Hangup:
		digits = Hangup
	case in == "" && o.Timeout == 0 && o.MaxLength > 0:
		length = o.MaxLength // no silence detection: runs to the limit
	default:
		if i := strings.IndexAny(in, o.FinishOnKey); i >= 0 {
			r, _ := utf8.DecodeRuneInString(in[i:])
			digits = string(r)
		}
	}
	c.recordings++
	id := c.info.ID
	if id == "" {
		id = "sim"
	}
	rec := call.Recording{
		URL:      fmt.Sprintf("sim://recordings/%s/%d.wav", id, c.recordings),
		Duration: length,
		Digits:   digits,
	}
	c.clock.advance(length)
	if in == Hangup {
		c.gone = true
		c.cancel(call.ErrHangup)
	}
	c.addLocked(Op{Name: "record", Options: o, Result: rec})
	return rec, nil
}

// Dial takes the next outcome of the script's Dials. Completed and
// answered dials answer the call, talk for TalkTime and return a new leg's
// CallID; no-answer rings for the Timeout (RingTime when none); busy and
// failed return at once. Every outcome returns a nil error. Before a
// completed dial the first target's Screen (a whisper) runs on a
// simulated leg that presses nothing: a refusal makes it no-answer
// (CALL_REJECTED). With Record, a completed dial has a Recording.
func (c *Channel) Dial(ctx context.Context, o call.DialOptions) (call.DialResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkLocked(ctx, "dial"); err != nil {
		c.addLocked(Op{Name: "dial", Options: o, Result: call.DialResult{}, Err: err})
		return call.DialResult{}, err
	}
	spec := "completed"
	if len(c.dials) > 0 {
		spec, c.dials = c.dials[0], c.dials[1:]
	}
	out, err := parseDial(spec)
	if err != nil {
		res := call.DialResult{Status: "failed", Cause: "NORMAL_TEMPORARY_FAILURE"}
		err = fmt.Errorf("dial: %w", err)
		c.addLocked(Op{Name: "dial", Options: o, Result: res, Err: err})
		return res, err
	}
	res := call.DialResult{Status: out.status, Cause: out.cause, SIPCode: out.code}
	switch out.status {
	case "completed", "answered":
		c.legs++
		id := c.info.ID
		if id == "" {
			id = "sim"
		}
		legID := fmt.Sprintf("%s-leg%d", id, c.legs)
		if len(o.Targets) > 0 && o.Targets[0].Screen != nil {
			// The screen sends requests that read the call: unlocked.
			c.mu.Unlock()
			accepted, err := c.screen(ctx, o.Targets[0], legID)
			c.mu.Lock()
			if err != nil || !accepted {
				res = call.DialResult{Status: "no-answer", Cause: "CALL_REJECTED"}
				break
			}
		}
		c.answered = true
		res.CallID = legID
		res.Duration = TalkTime
		if o.TimeLimit > 0 && o.TimeLimit < res.Duration {
			res.Duration = o.TimeLimit
		}
		if o.Record {
			res.Recording = &call.Recording{URL: fmt.Sprintf("sim://recordings/%s/dial-%d.wav", id, c.legs), Duration: res.Duration}
		}
		c.clock.advance(res.Duration)
	case "no-answer":
		ring := o.Timeout
		if ring <= 0 {
			ring = RingTime
		}
		c.clock.advance(ring)
	}
	c.addLocked(Op{Name: "dial", Options: o, Result: res})
	return res, nil
}

// screen runs a target's Screen (a whisper url) on a simulated leg that
// answered and presses nothing; its time is the call's. c.mu is not held.
func (c *Channel) screen(ctx context.Context, t call.Target, legID string) (bool, error) {
	info := call.Info{ID: legID, AccountID: c.info.AccountID, From: c.info.From, To: t.Value,
		Request: t.Value, Direction: "outbound-dial", Started: c.clock.Now()}
	lctx, leg := New(ctx, info, Script{}, WithClock(c.clock.Now()))
	leg.answered = true
	ok, err := t.Screen(lctx, leg)
	c.clock.advance(leg.Skipped())
	return ok, err
}

// Reject refuses an unanswered call and ends it (ErrAnswered when it was
// answered).
func (c *Channel) Reject(ctx context.Context, reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.checkLocked(ctx, "reject")
	if err == nil && c.answered {
		err = fmt.Errorf("reject: %w", ErrAnswered)
	}
	if err == nil {
		c.ended = true
		c.cancel(ErrEnded)
	}
	c.addLocked(Op{Name: "reject", Options: reason, Err: err})
	return err
}

// Hangup ends the call and cancels its context with ErrEnded. After the
// caller hung up, or after Reject, it only marks the call ended (callers
// hang up after a Reject so the trace's hangup line carries the cause); a
// second Hangup returns ErrEnded.
func (c *Channel) Hangup(_ context.Context, cause string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	switch {
	case c.hungUp:
		err = fmt.Errorf("hangup: %w", ErrEnded)
	case c.ended: // rejected
		c.hungUp = true
	default:
		c.hungUp, c.ended = true, true
		c.cancel(ErrEnded)
	}
	c.addLocked(Op{Name: "hangup", Options: cause, Err: err})
	return err
}

// NextInput takes the caller's next input for code that collects keys
// itself: the keys, "" when the caller presses nothing or the inputs ran
// out. "hangup" cancels the call's context with call.ErrHangup and returns
// an error wrapping it. It does not move the clock (see Advance).
func (c *Channel) NextInput() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.stateLocked("input"); err != nil {
		c.addLocked(Op{Name: "input", Result: "", Err: err})
		return "", err
	}
	in := c.nextInputLocked()
	if in == Hangup {
		err := c.callerHangupLocked("input")
		c.addLocked(Op{Name: "input", Result: "", Err: err})
		return "", err
	}
	c.addLocked(Op{Name: "input", Result: in})
	return in, nil
}

// checkLocked returns why an operation cannot run: the call ended, the
// caller hung up, or ctx is done.
func (c *Channel) checkLocked(ctx context.Context, op string) error {
	if err := c.stateLocked(op); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, context.Cause(ctx))
	}
	return nil
}

// stateLocked returns why no operation can run on the call any more.
func (c *Channel) stateLocked(op string) error {
	switch {
	case c.ended:
		return fmt.Errorf("%s: %w", op, ErrEnded)
	case c.gone:
		return fmt.Errorf("%s: %w", op, call.ErrHangup)
	}
	return nil
}

// mediaLocked is checkLocked for an operation that needs an answered call,
// and answers it.
func (c *Channel) mediaLocked(ctx context.Context, op string) error {
	if err := c.checkLocked(ctx, op); err != nil {
		return err
	}
	c.answered = true
	return nil
}

func (c *Channel) nextInputLocked() string {
	if len(c.inputs) == 0 {
		return ""
	}
	in := c.inputs[0]
	c.inputs = c.inputs[1:]
	return in
}

func (c *Channel) callerHangupLocked(op string) error {
	c.gone = true
	c.cancel(call.ErrHangup)
	return fmt.Errorf("%s: %w", op, call.ErrHangup)
}

func (c *Channel) addLocked(op Op) { c.ops = append(c.ops, op) }

func loops(n int) int { return max(n, 1) }

// sayDuration estimates speech: 60 ms a character a loop, at least 1 s.
// Loop 0 ("as many as the cap allows") speaks once.
func sayDuration(o call.SayOptions) time.Duration {
	d := time.Duration(utf8.RuneCountInString(o.Text)*loops(o.Loop)) * 60 * time.Millisecond
	return max(d, time.Second)
}

func (c *Channel) playLength(o call.PlayOptions) time.Duration {
	if o.Digits != "" {
		var d time.Duration
		for _, r := range o.Digits {
			if r == 'w' || r == 'W' {
				d += 500 * time.Millisecond
			} else {
				d += 100 * time.Millisecond
			}
		}
		return d
	}
	one := time.Second
	if c.media != nil && o.MediaID != "" && o.URL == "" {
		if d, err := c.media(o.MediaID); err == nil {
			one = d
		}
	} else if c.playDuration != nil {
		url := o.URL
		if url == "" && o.MediaID != "" {
			url = "media:" + o.MediaID
		}
		one = c.playDuration(url)
	}
	return time.Duration(loops(o.Loop)) * one
}

func (c *Channel) promptLength(p call.Prompt) time.Duration {
	switch {
	case p.Say != nil:
		return sayDuration(*p.Say)
	case p.Play != nil:
		return c.playLength(*p.Play)
	}
	return p.Pause
}

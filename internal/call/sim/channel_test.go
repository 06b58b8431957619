package sim_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
)

var info = call.Info{ID: "c1", From: "+15550001", To: "+15550002", Direction: "inbound"}

func TestGather(t *testing.T) {
	tests := []struct {
		name   string
		inputs []string
		opts   call.GatherOptions
		want   string
		// minimum simulated time the gather takes
		atLeast time.Duration
	}{
		{"finish key ends, not included", []string{"1234#56"}, call.GatherOptions{FinishOnKey: "#", Timeout: 5 * time.Second}, "1234", 2500 * time.Millisecond},
		{"any of the finish keys", []string{"12*3#"}, call.GatherOptions{FinishOnKey: "#*"}, "12", 1500 * time.Millisecond},
		{"finish key alone", []string{"#"}, call.GatherOptions{FinishOnKey: "#"}, "", 500 * time.Millisecond},
		{"num digits, extra keys dropped", []string{"98765"}, call.GatherOptions{NumDigits: 3, FinishOnKey: "#"}, "987", 1500 * time.Millisecond},
		{"finish key before num digits", []string{"9#8765"}, call.GatherOptions{NumDigits: 3, FinishOnKey: "#"}, "9", time.Second},
		{"num digits with no finish key", []string{"1#"}, call.GatherOptions{NumDigits: 2}, "1#", time.Second},
		{"digits then timeout", []string{"42"}, call.GatherOptions{Timeout: 5 * time.Second}, "42", 6 * time.Second},
		{"inter-digit timeout", []string{"42"}, call.GatherOptions{Timeout: 5 * time.Second, InterDigitTimeout: 2 * time.Second}, "42", 3 * time.Second},
		{"nothing pressed", []string{""}, call.GatherOptions{Timeout: 5 * time.Second, FinishOnKey: "#"}, "", 5 * time.Second},
		{"inputs ran out", nil, call.GatherOptions{Timeout: 7 * time.Second}, "", 7 * time.Second},
		{
			"prompts and timeout", []string{""},
			call.GatherOptions{Timeout: 5 * time.Second, Prompts: []call.Prompt{{Pause: 2 * time.Second}, {Play: &call.PlayOptions{URL: "a.wav", Loop: 2}}}},
			"", 9 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, ch := sim.New(t.Context(), info, sim.Script{Inputs: tt.inputs})
			got, err := ch.Gather(ctx, tt.opts)
			if err != nil {
				t.Fatalf("Gather: %v", err)
			}
			if got != tt.want {
				t.Errorf("digits = %q, want %q", got, tt.want)
			}
			if ch.Skipped() < tt.atLeast {
				t.Errorf("simulated time %v, want at least %v", ch.Skipped(), tt.atLeast)
			}
			if !ch.Answered() {
				t.Error("Gather did not answer the call")
			}
			if ctx.Err() != nil {
				t.Errorf("call context ended: %v", context.Cause(ctx))
			}
		})
	}
}

func TestGatherHangup(t *testing.T) {
	ctx, ch := sim.New(t.Context(), info, sim.Script{Inputs: []string{"1#", "hangup", "2#"}})
	if d, err := ch.Gather(ctx, call.GatherOptions{FinishOnKey: "#"}); err != nil || d != "1" {
		t.Fatalf("first Gather = %q, %v; want 1, nil", d, err)
	}
	d, err := ch.Gather(ctx, call.GatherOptions{FinishOnKey: "#"})
	if !errors.Is(err, call.ErrHangup) || d != "" {
		t.Fatalf("Gather on hangup = %q, %v; want \"\", ErrHangup", d, err)
	}
	if context.Cause(ctx) != call.ErrHangup {
		t.Errorf("context.Cause(ctx) = %v, want call.ErrHangup", context.Cause(ctx))
	}
	if !ch.Ended() {
		t.Error("Ended() = false after the caller hung up")
	}
	if err := ch.Say(ctx, call.SayOptions{Text: "hello"}); !errors.Is(err, call.ErrHangup) {
		t.Errorf("Say after the caller hung up: %v, want ErrHangup", err)
	}
	if _, err := ch.Gather(ctx, call.GatherOptions{}); !errors.Is(err, call.ErrHangup) {
		t.Errorf("Gather after the caller hung up: %v, want ErrHangup", err)
	}
	if err := ch.Hangup(ctx, "NORMAL_CLEARING"); err != nil {
		t.Errorf("Hangup after the caller hung up: %v", err)
	}
}

func TestRecord(t *testing.T) {
	tests := []struct {
		name       string
		input      []string
		opts       call.RecordOptions
		wantDigits string
		wantLen    time.Duration
		hangup     bool
	}{
		{"finish key", []string{"5#"}, call.RecordOptions{FinishOnKey: "#*", Timeout: 5 * time.Second}, "#", sim.RecordingLength, false},
		{"first finish key present", []string{"1*#"}, call.RecordOptions{FinishOnKey: "#*"}, "*", sim.RecordingLength, false},
		{"keys that do not finish", []string{"12"}, call.RecordOptions{FinishOnKey: "#", Timeout: 5 * time.Second}, "", sim.RecordingLength, false},
		{"silence", []string{""}, call.RecordOptions{FinishOnKey: "#", Timeout: 5 * time.Second}, "", sim.RecordingLength, false},
		{"inputs ran out", nil, call.RecordOptions{Timeout: 5 * time.Second}, "", sim.RecordingLength, false},
		{"max length shorter", []string{"#"}, call.RecordOptions{FinishOnKey: "#", MaxLength: 2 * time.Second}, "#", 2 * time.Second, false},
		{"no silence detection runs to max length", []string{""}, call.RecordOptions{MaxLength: 10 * time.Second}, "", 10 * time.Second, false},
		{"hangup", []string{"hangup"}, call.RecordOptions{FinishOnKey: "#", Timeout: 5 * time.Second}, "hangup", sim.RecordingLength, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, ch := sim.New(t.Context(), info, sim.Script{Inputs: tt.input})
			before := ch.Clock().Now()
			rec, err := ch.Record(ctx, tt.opts)
			if err != nil {
				t.Fatalf("Record: %v", err)
			}
			if rec.Digits != tt.wantDigits || rec.Duration != tt.wantLen {
				t.Errorf("recording Digits %q Duration %v, want %q %v", rec.Digits, rec.Duration, tt.wantDigits, tt.wantLen)
			}
			if rec.URL != "sim://recordings/c1/1.wav" {
				t.Errorf("URL = %q", rec.URL)
			}
			if ch.Clock().Now().Sub(before) < tt.wantLen {
				t.Errorf("clock moved %v, want at least %v", ch.Clock().Now().Sub(before), tt.wantLen)
			}
			if hungUp := context.Cause(ctx) == call.ErrHangup; hungUp != tt.hangup {
				t.Errorf("call context cause %v, want hangup %v", context.Cause(ctx), tt.hangup)
			}
		})
	}
}

func TestRecordingURLsCount(t *testing.T) {
	ctx, ch := sim.New(t.Context(), info, sim.Script{})
	for i, want := range []string{"sim://recordings/c1/1.wav", "sim://recordings/c1/2.wav"} {
		rec, err := ch.Record(ctx, call.RecordOptions{})
		if err != nil || rec.URL != want {
			t.Errorf("recording %d = %q, %v; want %q", i+1, rec.URL, err, want)
		}
	}
}

func TestDialOutcomes(t *testing.T) {
	ctx, ch := sim.New(t.Context(), info, sim.Script{
		Dials: []string{"busy", "no-answer", "failed", "answered", "busy:sip:486", "completed"},
	})
	want := []struct {
		status, cause string
		talk          time.Duration
		leg           bool
		atLeast       time.Duration
	}{
		{"busy", "USER_BUSY", 0, false, 0},
		{"no-answer", "NO_ANSWER", 0, false, 20 * time.Second},
		{"failed", "NORMAL_TEMPORARY_FAILURE", 0, false, 0},
		{"answered", "NORMAL_CLEARING", sim.TalkTime, true, sim.TalkTime},
		{"busy", "sip:486", 0, false, 0},
		{"completed", "NORMAL_CLEARING", sim.TalkTime, true, sim.TalkTime},
		{"completed", "NORMAL_CLEARING", sim.TalkTime, true, sim.TalkTime}, // ran out
	}
	legs := map[string]bool{}
	for i, w := range want {
		if i == 2 && ch.Answered() {
			t.Error("unanswered dials answered the call")
		}
		before := ch.Skipped()
		res, err := ch.Dial(ctx, call.DialOptions{Targets: []call.Target{{Kind: "number", Value: "+1555"}}, Timeout: 20 * time.Second})
		if err != nil {
			t.Fatalf("dial %d: %v", i+1, err)
		}
		if res.Status != w.status || res.Cause != w.cause || res.Duration != w.talk {
			t.Errorf("dial %d = %+v, want %s %s %v", i+1, res, w.status, w.cause, w.talk)
		}
		if (res.CallID != "") != w.leg || legs[res.CallID] && w.leg {
			t.Errorf("dial %d call id %q", i+1, res.CallID)
		}
		legs[res.CallID] = true
		if got := ch.Skipped() - before; got < w.atLeast {
			t.Errorf("dial %d took %v simulated, want at least %v", i+1, got, w.atLeast)
		}
	}
	if !ch.Answered() {
		t.Error("a bridged dial did not answer the call")
	}
}

func TestDialUnknownOutcome(t *testing.T) {
	ctx, ch := sim.New(t.Context(), info, sim.Script{Dials: []string{"ringing"}})
	res, err := ch.Dial(ctx, call.DialOptions{})
	if err == nil || res.Status != "failed" {
		t.Errorf("Dial = %+v, %v; want failed and an error", res, err)
	}
}

func TestSimulatedTime(t *testing.T) {
	start := time.Date(2030, 5, 6, 7, 0, 0, 0, time.UTC)
	ctx, ch := sim.New(t.Context(), info, sim.Script{},
		sim.WithClock(start),
		sim.WithPlayDuration(func(url string) time.Duration {
			if url == "media:m1" {
				return 10 * time.Second
			}
			return 4 * time.Second
		}))
	realStart := time.Now()
	if d, err := ch.Gather(ctx, call.GatherOptions{Timeout: 30 * time.Second}); err != nil || d != "" {
		t.Fatalf("Gather = %q, %v", d, err)
	}
	if real := time.Since(realStart); real > 5*time.Second {
		t.Errorf("a 30 s gather took %v of real time", real)
	}
	if got := ch.Clock().Now().Sub(start); got < 30*time.Second {
		t.Errorf("clock moved %v, want at least 30s", got)
	}

	steps := []struct {
		name string
		run  func() error
		want time.Duration
	}{
		{"pause", func() error { return ch.Pause(ctx, 1500*time.Millisecond) }, 1500 * time.Millisecond},
		{"short say", func() error { return ch.Say(ctx, call.SayOptions{Text: "Hi", Loop: 1}) }, time.Second},
		{"long say", func() error { return ch.Say(ctx, call.SayOptions{Text: strings.Repeat("a", 50), Loop: 2}) }, 6 * time.Second},
		{"play url", func() error { return ch.Play(ctx, call.PlayOptions{URL: "x.wav", Loop: 2}) }, 8 * time.Second},
		{"play media", func() error { return ch.Play(ctx, call.PlayOptions{MediaID: "m1", Loop: 1}) }, 10 * time.Second},
		{"play digits", func() error { return ch.Play(ctx, call.PlayOptions{Digits: "w12"}) }, 700 * time.Millisecond},
	}
	for _, s := range steps {
		before := ch.Skipped()
		if err := s.run(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := ch.Skipped() - before; got != s.want {
			t.Errorf("%s advanced %v, want %v", s.name, got, s.want)
		}
	}
}

func TestDefaultClockIsNow(t *testing.T) {
	before := time.Now()
	_, ch := sim.New(t.Context(), info, sim.Script{})
	if now := ch.Clock().Now(); now.Before(before) || now.Sub(before) > time.Minute {
		t.Errorf("clock starts at %v, want about %v", now, before)
	}
	var _ call.Clocked = ch
}

func TestLifecycle(t *testing.T) {
	ctx, ch := sim.New(t.Context(), info, sim.Script{})
	if got := ch.Info(); got.ID != info.ID || got.From != info.From {
		t.Errorf("Info() = %+v", got)
	}
	if ch.Answered() {
		t.Fatal("answered before Answer")
	}
	if err := ch.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ch.Answer(ctx); err != nil {
		t.Errorf("second Answer: %v", err)
	}
	if err := ch.Reject(ctx, "busy"); !errors.Is(err, sim.ErrAnswered) {
		t.Errorf("Reject on an answered call: %v, want ErrAnswered", err)
	}
	if err := ch.Hangup(ctx, "NORMAL_CLEARING"); err != nil {
		t.Fatal(err)
	}
	if !ch.Ended() || context.Cause(ctx) != sim.ErrEnded {
		t.Errorf("after Hangup: Ended %v, cause %v", ch.Ended(), context.Cause(ctx))
	}
	for name, op := range map[string]func() error{
		"say":    func() error { return ch.Say(ctx, call.SayOptions{Text: "x"}) },
		"answer": func() error { return ch.Answer(ctx) },
		"hangup": func() error { return ch.Hangup(ctx, "NORMAL_CLEARING") },
		"dial":   func() error { _, err := ch.Dial(ctx, call.DialOptions{}); return err },
		"input":  func() error { _, err := ch.NextInput(); return err },
	} {
		if err := op(); !errors.Is(err, sim.ErrEnded) {
			t.Errorf("%s after hangup: %v, want ErrEnded", name, err)
		}
	}

	var names []string
	for _, op := range ch.Ops() {
		names = append(names, op.Name)
	}
	if got := strings.Join(names[:4], " "); got != "answer answer reject hangup" {
		t.Errorf("ops = %q", names)
	}
	if op := ch.Ops()[3]; op.Options != "NORMAL_CLEARING" || op.Err != nil {
		t.Errorf("hangup op = %+v", op)
	}
}

func TestReject(t *testing.T) {
	ctx, ch := sim.New(t.Context(), info, sim.Script{})
	if err := ch.Reject(ctx, "sip:404"); err != nil {
		t.Fatal(err)
	}
	if ch.Answered() || !ch.Ended() || context.Cause(ctx) != sim.ErrEnded {
		t.Errorf("after Reject: answered %v, ended %v, cause %v", ch.Answered(), ch.Ended(), context.Cause(ctx))
	}
	if err := ch.Play(ctx, call.PlayOptions{URL: "x"}); !errors.Is(err, sim.ErrEnded) {
		t.Errorf("Play after Reject: %v", err)
	}
}

func TestOpsRecordsOptionsAndResults(t *testing.T) {
	ctx, ch := sim.New(t.Context(), info, sim.Script{Inputs: []string{"7"}})
	o := call.GatherOptions{NumDigits: 1, Timeout: time.Second}
	if _, err := ch.Gather(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := ch.Pause(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	ops := ch.Ops()
	if len(ops) != 2 {
		t.Fatalf("ops = %+v", ops)
	}
	if g, ok := ops[0].Options.(call.GatherOptions); !ok || ops[0].Name != "gather" || g.NumDigits != 1 || ops[0].Result != "7" {
		t.Errorf("gather op = %+v", ops[0])
	}
	if ops[1].Name != "pause" || ops[1].Options != time.Second {
		t.Errorf("pause op = %+v", ops[1])
	}
}

func TestNextInput(t *testing.T) {
	ctx, ch := sim.New(t.Context(), info, sim.Script{Inputs: []string{"12", "", "hangup"}})
	for _, want := range []string{"12", ""} {
		if got, err := ch.NextInput(); err != nil || got != want {
			t.Errorf("NextInput = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := ch.NextInput(); !errors.Is(err, call.ErrHangup) || context.Cause(ctx) != call.ErrHangup {
		t.Errorf("NextInput on hangup: %v, cause %v", err, context.Cause(ctx))
	}

	_, ch = sim.New(t.Context(), info, sim.Script{})
	if got, err := ch.NextInput(); err != nil || got != "" {
		t.Errorf("NextInput with no inputs = %q, %v", got, err)
	}
}

func TestParentContext(t *testing.T) {
	parent, cancel := context.WithCancelCause(t.Context())
	ctx, ch := sim.New(parent, info, sim.Script{Inputs: []string{"1"}})
	cancel(errors.New("shutdown"))
	if _, err := ch.Gather(ctx, call.GatherOptions{}); err == nil || errors.Is(err, call.ErrHangup) {
		t.Errorf("Gather on a cancelled call: %v", err)
	}
	if got, err := ch.NextInput(); err != nil || got != "1" {
		t.Errorf("the input was consumed by a failed Gather: %q, %v", got, err)
	}
}

func TestScriptValidate(t *testing.T) {
	tests := []struct {
		s  sim.Script
		ok bool
	}{
		{sim.Script{Inputs: []string{"1234#", "", "hangup", "*0A"}, Dials: []string{"completed", "answered", "busy", "no-answer", "failed", "busy:sip:486"}}, true},
		{sim.Script{Inputs: []string{"12x"}}, false},
		{sim.Script{Dials: []string{"ringing"}}, false},
	}
	for _, tt := range tests {
		if err := tt.s.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v", tt.s, err)
		}
	}
}

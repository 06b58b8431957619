package call_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
)

// fakeChannel returns canned results and answers the call on any media
// operation, as a real leg does.
type fakeChannel struct {
	answered bool
	digits   string
	rec      call.Recording
	dial     call.DialResult
	err      error
	answers  int
	// transfers are told to a Dial's OnTransfer before it returns.
	transfers []call.Transfer
	// warnings (codes) are told to a Dial's OnWarning before it returns.
	warnings []string
}

func (f *fakeChannel) Info() call.Info { return call.Info{ID: "fake"} }
func (f *fakeChannel) Answered() bool  { return f.answered }

func (f *fakeChannel) Answer(context.Context) error {
	f.answers++
	if f.err == nil {
		f.answered = true
	}
	return f.err
}

func (f *fakeChannel) media() error {
	f.answered = true
	return f.err
}

func (f *fakeChannel) Play(context.Context, call.PlayOptions) error { return f.media() }
func (f *fakeChannel) Say(context.Context, call.SayOptions) error   { return f.media() }
func (f *fakeChannel) Pause(context.Context, time.Duration) error   { return f.media() }

func (f *fakeChannel) Gather(context.Context, call.GatherOptions) (string, error) {
	return f.digits, f.media()
}

func (f *fakeChannel) Record(context.Context, call.RecordOptions) (call.Recording, error) {
	return f.rec, f.media()
}

func (f *fakeChannel) Dial(_ context.Context, o call.DialOptions) (call.DialResult, error) {
	for _, t := range f.transfers {
		if o.OnTransfer != nil {
			o.OnTransfer(t)
		}
	}
	for _, w := range f.warnings {
		if o.OnWarning != nil {
			o.OnWarning(w, "message of "+w)
		}
	}
	return f.dial, f.err
}

func (f *fakeChannel) Reject(context.Context, string) error { return f.err }
func (f *fakeChannel) Hangup(context.Context, string) error { return f.err }

// clockedChannel adds a clock to the fake.
type clockedChannel struct {
	*fakeChannel
	clock call.Clock
}

func (c clockedChannel) Clock() call.Clock { return c.clock }

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// lines renders a trace as generic JSON objects without t_ms, as a reader
// of the JSONL would see them.
func lines(t *testing.T, tr *call.Trace) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range tr.Events() {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("marshal %v: %v", e, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		if _, ok := m["t_ms"]; !ok {
			t.Errorf("line %s has no t_ms", b)
		}
		delete(m, "t_ms")
		out = append(out, m)
	}
	return out
}

func TestTraced(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name   string
		fake   fakeChannel
		hangup bool // the caller hung up before the operation returned
		run    func(ctx context.Context, ch call.Channel) error
		want   []map[string]any
	}{
		{
			name: "answer",
			run:  func(ctx context.Context, ch call.Channel) error { return ch.Answer(ctx) },
			want: []map[string]any{{"op": "answer"}},
		},
		{
			name: "answer when already answered records nothing",
			fake: fakeChannel{answered: true},
			run:  func(ctx context.Context, ch call.Channel) error { return ch.Answer(ctx) },
		},
		{
			name: "answer error",
			fake: fakeChannel{err: errBoom},
			run:  func(ctx context.Context, ch call.Channel) error { return ch.Answer(ctx) },
			want: []map[string]any{{"op": "answer", "error": "boom"}},
		},
		{
			name: "say answers implicitly",
			run: func(ctx context.Context, ch call.Channel) error {
				return ch.Say(ctx, call.SayOptions{Text: "Hello", Voice: "woman", Language: "en-US", Loop: 2})
			},
			want: []map[string]any{
				{"op": "answer"},
				{"op": "say", "text": "Hello", "voice": "woman", "language": "en-US", "loop": 2.0},
			},
		},
		{
			name: "play url",
			fake: fakeChannel{answered: true},
			run: func(ctx context.Context, ch call.Channel) error {
				return ch.Play(ctx, call.PlayOptions{URL: "http://x/a.wav", Loop: 1})
			},
			want: []map[string]any{{"op": "play", "url": "http://x/a.wav", "loop": 1.0}},
		},
		{
			name: "play media",
			fake: fakeChannel{answered: true},
			run: func(ctx context.Context, ch call.Channel) error {
				return ch.Play(ctx, call.PlayOptions{MediaID: "m1", Loop: 1})
			},
			want: []map[string]any{{"op": "play", "media_id": "m1", "loop": 1.0}},
		},
		{
			name: "play digits",
			fake: fakeChannel{answered: true},
			run: func(ctx context.Context, ch call.Channel) error {
				return ch.Play(ctx, call.PlayOptions{Digits: "ww12", Loop: 1})
			},
			want: []map[string]any{{"op": "play", "digits": "ww12", "loop": 1.0}},
		},
		{
			name: "pause",
			fake: fakeChannel{answered: true},
			run: func(ctx context.Context, ch call.Channel) error {
				return ch.Pause(ctx, 1500*time.Millisecond)
			},
			want: []map[string]any{{"op": "pause", "seconds": 1.5}},
		},
		{
			name: "gather with prompts",
			fake: fakeChannel{answered: true, digits: "12"},
			run: func(ctx context.Context, ch call.Channel) error {
				_, err := ch.Gather(ctx, call.GatherOptions{
					NumDigits: 2, Timeout: 5 * time.Second, FinishOnKey: "#",
					Prompts: []call.Prompt{
						{Say: &call.SayOptions{Text: "Press", Loop: 1}},
						{Play: &call.PlayOptions{URL: "http://x/b.mp3", Loop: 1}},
						{Pause: time.Second},
					},
				})
				return err
			},
			want: []map[string]any{{
				"op": "gather", "num_digits": 2.0, "timeout": 5.0, "finish_on_key": "#", "digits": "12",
				"prompts": []any{
					map[string]any{"op": "say", "text": "Press", "voice": "", "language": "", "loop": 1.0},
					map[string]any{"op": "play", "url": "http://x/b.mp3", "loop": 1.0},
					map[string]any{"op": "pause", "seconds": 1.0},
				},
			}},
		},
		{
			name:   "gather interrupted by the caller",
			fake:   fakeChannel{answered: true, err: call.ErrHangup},
			hangup: true,
			run: func(ctx context.Context, ch call.Channel) error {
				_, err := ch.Gather(ctx, call.GatherOptions{Timeout: 5 * time.Second})
				return err
			},
			want: []map[string]any{{
				"op": "gather", "num_digits": 0.0, "timeout": 5.0, "finish_on_key": "", "digits": "",
				"interrupted": true,
			}},
		},
		{
			name: "record",
			fake: fakeChannel{answered: true, rec: call.Recording{URL: "http://r/1.wav", Duration: 2500 * time.Millisecond, Digits: "#"}},
			run: func(ctx context.Context, ch call.Channel) error {
				_, err := ch.Record(ctx, call.RecordOptions{MaxLength: time.Minute, Timeout: 5 * time.Second, FinishOnKey: "#", PlayBeep: true})
				return err
			},
			want: []map[string]any{{
				"op": "record", "max_length": 60.0, "timeout": 5.0, "finish_on_key": "#", "play_beep": true,
				"duration": 2.5, "url": "http://r/1.wav", "digits": "#",
			}},
		},
		{
			name: "dial",
			fake: fakeChannel{answered: true, dial: call.DialResult{Status: "completed", CallID: "leg1", Duration: 30 * time.Second}},
			run: func(ctx context.Context, ch call.Channel) error {
				_, err := ch.Dial(ctx, call.DialOptions{
					Targets:  []call.Target{{Kind: "number", Value: "+15551234"}, {Kind: "user", Value: "u1"}},
					Timeout:  20 * time.Second,
					CallerID: "+1555",
				})
				return err
			},
			want: []map[string]any{{
				"op": "dial",
				"targets": []any{
					map[string]any{"kind": "number", "value": "+15551234"},
					map[string]any{"kind": "user", "value": "u1"},
				},
				"timeout": 20.0, "caller_id": "+1555", "status": "completed", "call_id": "leg1", "duration": 30.0,
			}},
		},
		{
			// The transfer op: one line per transfer a party of the bridged
			// call asked for, in the order they ended, before the dial line.
			name: "dial with transfers",
			fake: fakeChannel{answered: true, dial: call.DialResult{Status: "completed", CallID: "leg2"}, transfers: []call.Transfer{
				{Kind: "blind", By: "callee", Target: "sip:9999@sb", Status: "failed", SIPCode: 404},
				{Kind: "attended", By: "caller", Target: "sip:carol@sb", Status: "completed", SIPCode: 200},
			}},
			run: func(ctx context.Context, ch call.Channel) error {
				_, err := ch.Dial(ctx, call.DialOptions{})
				return err
			},
			want: []map[string]any{
				{"op": "transfer", "kind": "blind", "by": "callee", "target": "sip:9999@sb", "status": "failed", "sip_code": 404.0},
				{"op": "transfer", "kind": "attended", "by": "caller", "target": "sip:carol@sb", "status": "completed", "sip_code": 200.0},
				{"op": "dial", "targets": []any{}, "timeout": 0.0, "caller_id": "", "status": "completed", "call_id": "leg2", "duration": 0.0},
			},
		},
		{
			name: "dial error is failed",
			fake: fakeChannel{answered: true, err: errBoom},
			run: func(ctx context.Context, ch call.Channel) error {
				_, err := ch.Dial(ctx, call.DialOptions{Targets: []call.Target{{Kind: "sip", Value: "sip:a@b"}}})
				return err
			},
			want: []map[string]any{{
				"op":      "dial",
				"targets": []any{map[string]any{"kind": "sip", "value": "sip:a@b"}},
				"timeout": 0.0, "caller_id": "", "status": "failed", "call_id": "", "duration": 0.0, "error": "boom",
			}},
		},
		{
			name: "dial busy keeps the cause",
			fake: fakeChannel{answered: true, dial: call.DialResult{Status: "busy", Cause: "USER_BUSY"}},
			run: func(ctx context.Context, ch call.Channel) error {
				_, err := ch.Dial(ctx, call.DialOptions{})
				return err
			},
			want: []map[string]any{{
				"op": "dial", "targets": []any{}, "timeout": 0.0, "caller_id": "", "status": "busy",
				"call_id": "", "duration": 0.0, "cause": "USER_BUSY",
			}},
		},
		{
			name: "reject",
			run:  func(ctx context.Context, ch call.Channel) error { return ch.Reject(ctx, "busy") },
			want: []map[string]any{{"op": "reject", "reason": "busy"}},
		},
		{
			name: "hangup by switchboard is last",
			fake: fakeChannel{answered: true},
			run: func(ctx context.Context, ch call.Channel) error {
				if err := ch.Hangup(ctx, "NORMAL_CLEARING"); err != nil {
					return err
				}
				return ch.Say(ctx, call.SayOptions{Text: "too late"})
			},
			want: []map[string]any{{"op": "hangup", "cause": "NORMAL_CLEARING", "by": "switchboard"}},
		},
		{
			name: "say error",
			fake: fakeChannel{answered: true, err: errBoom},
			run: func(ctx context.Context, ch call.Channel) error {
				return ch.Say(ctx, call.SayOptions{Text: "x", Loop: 1})
			},
			want: []map[string]any{{"op": "say", "text": "x", "voice": "", "language": "", "loop": 1.0, "error": "boom"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			defer cancel(nil)
			if tt.hangup {
				cancel(call.ErrHangup)
			}
			fake := tt.fake
			tr := call.NewTrace(nil, nil)
			_ = tt.run(ctx, call.Traced(&fake, tr))
			got := lines(t, tr)
			if !reflect.DeepEqual(got, tt.want) && (len(got) != 0 || len(tt.want) != 0) {
				gotJSON, _ := json.Marshal(got)
				wantJSON, _ := json.Marshal(tt.want)
				t.Errorf("trace\n got %s\nwant %s", gotJSON, wantJSON)
			}
		})
	}
}

// TestTracedTransferChained: a Dial's own OnTransfer is still told of
// each transfer the trace writes.
func TestTracedTransferChained(t *testing.T) {
	want := []call.Transfer{{Kind: "blind", By: "caller", Target: "sip:bob@sb", Status: "completed", SIPCode: 200}}
	fake := &fakeChannel{answered: true, transfers: want}
	tr := call.NewTrace(nil, nil)
	var told []call.Transfer
	if _, err := call.Traced(fake, tr).Dial(t.Context(), call.DialOptions{OnTransfer: func(x call.Transfer) { told = append(told, x) }}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(told, want) {
		t.Errorf("the Dial's OnTransfer was told %+v, want %+v", told, want)
	}
	if n := len(tr.Events()); n != 2 {
		t.Errorf("%d lines, want a transfer and a dial line", n)
	}
}

// TestTracedDialWarning: a failure a bridge handled (music on hold not
// playable) is a warning line of the call's trace, before its dial line,
// and the Dial's own OnWarning is still told.
func TestTracedDialWarning(t *testing.T) {
	fake := &fakeChannel{answered: true, dial: call.DialResult{Status: "completed"}, warnings: []string{"music_on_hold_unplayable"}}
	tr := call.NewTrace(nil, nil)
	var told []string
	if _, err := call.Traced(fake, tr).Dial(t.Context(), call.DialOptions{OnWarning: func(code, _ string) { told = append(told, code) }}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(told, fake.warnings) {
		t.Errorf("the Dial's OnWarning was told %v", told)
	}
	got := lines(t, tr)
	if len(got) != 2 || got[0]["op"] != "warning" || got[0]["code"] != "music_on_hold_unplayable" ||
		got[0]["message"] != "message of music_on_hold_unplayable" || got[1]["op"] != "dial" {
		t.Errorf("trace %v, want a warning line then the dial line", got)
	}
}

func TestTracedAnswerOnce(t *testing.T) {
	fake := &fakeChannel{}
	tr := call.NewTrace(nil, nil)
	ch := call.Traced(fake, tr)
	for range 2 {
		if err := ch.Answer(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if fake.answers != 2 {
		t.Errorf("inner Answer called %d times, want 2", fake.answers)
	}
	if n := len(tr.Events()); n != 1 {
		t.Errorf("%d lines, want 1 answer line", n)
	}
}

func TestTracedClock(t *testing.T) {
	tr := call.NewTrace(nil, nil)

	plain := call.Traced(&fakeChannel{}, tr)
	c, ok := plain.(call.Clocked)
	if !ok {
		t.Fatal("Traced channel does not implement call.Clocked")
	}
	if _, ok := c.Clock().(call.RealClock); !ok {
		t.Errorf("clock of a channel without one = %T, want call.RealClock", c.Clock())
	}

	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clocked := call.Traced(clockedChannel{&fakeChannel{}, fixedClock(at)}, tr)
	if got := clocked.(call.Clocked).Clock().Now(); !got.Equal(at) {
		t.Errorf("delegated clock Now = %v, want %v", got, at)
	}

	inner := &fakeChannel{}
	u, ok := call.Traced(inner, tr).(interface{ Unwrap() call.Channel })
	if !ok || u.Unwrap() != inner {
		t.Error("Unwrap does not return the inner channel")
	}
	if call.Traced(inner, nil) != call.Channel(inner) {
		t.Error("Traced with a nil trace should return the channel itself")
	}
}

func TestRecordCallerHangup(t *testing.T) {
	tr := call.NewTrace(nil, nil)
	ch := call.Traced(&fakeChannel{answered: true}, tr)
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(call.ErrHangup)
	fake := ch.(interface{ Unwrap() call.Channel }).Unwrap().(*fakeChannel)
	fake.err = call.ErrHangup
	_ = ch.Say(ctx, call.SayOptions{Text: "hi", Loop: 1})
	call.RecordCallerHangup(tr, "NORMAL_CLEARING")
	_ = ch.Hangup(ctx, "NORMAL_CLEARING") // the engine's cleanup: after the hangup line, ignored

	want := []map[string]any{
		{"op": "say", "text": "hi", "voice": "", "language": "", "loop": 1.0, "interrupted": true},
		{"op": "hangup", "cause": "NORMAL_CLEARING", "by": "caller"},
	}
	if got := lines(t, tr); !reflect.DeepEqual(got, want) {
		t.Errorf("trace\n got %v\nwant %v", got, want)
	}
}

package sim_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
)

// lineFields reads each trace line back from its JSON and returns its field
// names, without op and t_ms, sorted.
func lineFields(t *testing.T, tr *call.Trace) (ops []string, fields [][]string, lines []map[string]any) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(string(tr.JSONL())), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %s: %v", line, err)
		}
		op, _ := m["op"].(string)
		if _, ok := m["t_ms"].(float64); !ok {
			t.Errorf("line %s has no numeric t_ms", line)
		}
		delete(m, "op")
		delete(m, "t_ms")
		ops = append(ops, op)
		fields = append(fields, slices.Sorted(maps.Keys(m)))
		lines = append(lines, m)
	}
	return ops, fields, lines
}

func TestTracedSimulatedCall(t *testing.T) {
	ctx, simch := sim.New(t.Context(), info, sim.Script{
		Inputs: []string{"12#", "#"},
		Dials:  []string{"busy"},
	})
	tr := call.NewTrace(simch.Clock(), nil)
	ch := call.Traced(simch, tr)
	if _, ok := ch.(call.Clocked); !ok {
		t.Fatal("traced sim is not Clocked")
	}

	steps := []func() error{
		func() error { return ch.Answer(ctx) },
		func() error {
			return ch.Say(ctx, call.SayOptions{Text: "Welcome", Voice: "woman", Language: "en-US", Loop: 1})
		},
		func() error { return ch.Play(ctx, call.PlayOptions{URL: "http://example.com/a.mp3", Loop: 1}) },
		func() error { return ch.Play(ctx, call.PlayOptions{MediaID: "m1", Loop: 1}) },
		func() error { return ch.Pause(ctx, 1500*time.Millisecond) },
		func() error {
			_, err := ch.Gather(ctx, call.GatherOptions{NumDigits: 4, Timeout: 5 * time.Second, FinishOnKey: "#",
				Prompts: []call.Prompt{{Say: &call.SayOptions{Text: "Enter your PIN", Loop: 1}}}})
			return err
		},
		func() error {
			_, err := ch.Gather(ctx, call.GatherOptions{Timeout: 5 * time.Second, FinishOnKey: "#"}) // "#" alone: no digits
			return err
		},
		func() error {
			_, err := ch.Gather(ctx, call.GatherOptions{Timeout: 30 * time.Second}) // nothing left: times out
			return err
		},
		func() error {
			_, err := ch.Record(ctx, call.RecordOptions{MaxLength: time.Minute, Timeout: 5 * time.Second, FinishOnKey: "#", PlayBeep: true})
			return err
		},
		func() error {
			_, err := ch.Dial(ctx, call.DialOptions{Targets: []call.Target{{Kind: "number", Value: "+15550003"}}, Timeout: 20 * time.Second, CallerID: "+15550001"})
			return err
		},
		func() error {
			_, err := ch.Dial(ctx, call.DialOptions{Targets: []call.Target{{Kind: "user", Value: "u1"}}, Timeout: 20 * time.Second})
			return err
		},
		func() error { return ch.Hangup(ctx, "NORMAL_CLEARING") },
		func() error { return ch.Say(ctx, call.SayOptions{Text: "after the end"}) },
	}
	for i, step := range steps {
		err := step()
		if last := i == len(steps)-1; (err != nil) != last {
			t.Fatalf("step %d: %v", i, err)
		}
	}

	sim.AssertOps(t, tr, "answer", "say", "play", "play", "pause", "gather", "gather", "gather", "record", "dial", "dial", "hangup")

	ops, fields, lines := lineFields(t, tr)
	set := func(s ...string) []string { return slices.Sorted(slices.Values(s)) }
	wantFields := [][]string{
		set(),
		set("text", "voice", "language", "loop"),
		set("url", "loop"),
		set("media_id", "loop"),
		set("seconds"),
		set("num_digits", "timeout", "finish_on_key", "digits", "prompts"),
		set("num_digits", "timeout", "finish_on_key", "digits"),
		set("num_digits", "timeout", "finish_on_key", "digits"),
		set("max_length", "timeout", "finish_on_key", "play_beep", "duration", "url", "digits"),
		set("targets", "timeout", "caller_id", "status", "call_id", "duration", "cause", "sip_code"),
		set("targets", "timeout", "caller_id", "status", "call_id", "duration", "cause"),
		set("cause", "by"),
	}
	for i := range wantFields {
		if !slices.Equal(fields[i], wantFields[i]) {
			t.Errorf("line %d (%s) fields %q, want %q", i, ops[i], fields[i], wantFields[i])
		}
	}

	check := func(i int, key string, want any) {
		t.Helper()
		if got := lines[i][key]; !jsonEqual(got, want) {
			t.Errorf("line %d (%s) %s = %v, want %v", i, ops[i], key, got, want)
		}
	}
	check(4, "seconds", 1.5)
	check(5, "digits", "12")
	check(6, "digits", "")
	check(6, "finish_on_key", "#")
	check(7, "digits", "")
	check(7, "timeout", 30.0)
	check(8, "duration", 3.0)
	check(8, "url", "sim://recordings/c1/1.wav")
	check(8, "digits", "")
	check(9, "status", "busy")
	check(9, "cause", "USER_BUSY")
	check(9, "sip_code", 486.0)
	check(9, "targets", []any{map[string]any{"kind": "number", "value": "+15550003"}})
	check(10, "status", "completed")
	check(10, "call_id", "c1-leg1")
	check(10, "duration", 30.0)
	check(11, "by", "switchboard")

	// t_ms follows the simulated clock: a 30 s timeout and 30 s of talk.
	evs := tr.Events()
	for i := 1; i < len(evs); i++ {
		if evs[i].TMS < evs[i-1].TMS {
			t.Errorf("t_ms goes back at line %d: %d < %d", i, evs[i].TMS, evs[i-1].TMS)
		}
	}
	if g := sim.Find(tr, "gather"); len(g) != 3 || g[2].TMS-g[1].TMS < 30_000 {
		t.Errorf("gather lines %+v: the timeout did not move t_ms by 30 s", g)
	}
	if last := evs[len(evs)-1]; last.Op != "hangup" || last.TMS < 60_000 {
		t.Errorf("last line %+v, want hangup at 60 s or later", last)
	}
}

func TestTracedCallerHangup(t *testing.T) {
	ctx, simch := sim.New(t.Context(), info, sim.Script{Inputs: []string{"hangup"}})
	tr := call.NewTrace(simch.Clock(), nil)
	ch := call.Traced(simch, tr)

	_, err := ch.Gather(ctx, call.GatherOptions{NumDigits: 1, Timeout: 5 * time.Second,
		Prompts: []call.Prompt{{Play: &call.PlayOptions{URL: "menu.wav", Loop: 1}}}})
	if !errors.Is(err, call.ErrHangup) || context.Cause(ctx) != call.ErrHangup {
		t.Fatalf("Gather: %v", err)
	}
	// What the engine does when the cause is ErrHangup.
	call.RecordCallerHangup(tr, "NORMAL_CLEARING")
	_ = ch.Hangup(ctx, "NORMAL_CLEARING")
	_ = ch.Say(ctx, call.SayOptions{Text: "nobody listens"})

	sim.AssertOps(t, tr, "answer", "gather", "hangup")
	_, fields, lines := lineFields(t, tr)
	if want := []string{"digits", "finish_on_key", "interrupted", "num_digits", "prompts", "timeout"}; !slices.Equal(fields[1], want) {
		t.Errorf("gather fields %q, want %q", fields[1], want)
	}
	if lines[1]["interrupted"] != true {
		t.Errorf("gather line %v not interrupted", lines[1])
	}
	if lines[2]["by"] != "caller" || lines[2]["cause"] != "NORMAL_CLEARING" {
		t.Errorf("hangup line %v", lines[2])
	}
}

func TestTracedRecordHangup(t *testing.T) {
	ctx, simch := sim.New(t.Context(), info, sim.Script{Inputs: []string{"hangup"}})
	tr := call.NewTrace(simch.Clock(), nil)
	ch := call.Traced(simch, tr)

	rec, err := ch.Record(ctx, call.RecordOptions{FinishOnKey: "#", Timeout: 5 * time.Second})
	if err != nil || rec.Digits != "hangup" {
		t.Fatalf("Record = %+v, %v; want digits hangup and no error", rec, err)
	}
	if context.Cause(ctx) != call.ErrHangup {
		t.Fatalf("cause %v, want ErrHangup", context.Cause(ctx))
	}
	call.RecordCallerHangup(tr, "NORMAL_CLEARING")

	sim.AssertOps(t, tr, "answer", "record", "hangup")
	r := sim.Find(tr, "record")[0]
	if r.Fields["digits"] != "hangup" || r.Fields["interrupted"] != nil || r.Fields["error"] != nil {
		t.Errorf("record line %+v", r)
	}
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// TestTestCallSeenThroughTheTrace: a test call stays one when the engine
// wraps it in a traced channel, and a plain simulated call is not one.
func TestTestCallSeenThroughTheTrace(t *testing.T) {
	for _, tc := range []struct {
		opts []sim.Option
		want bool
	}{{nil, false}, {[]sim.Option{sim.WithTestCall()}, true}} {
		_, ch := sim.New(t.Context(), call.Info{ID: "c1"}, sim.Script{}, tc.opts...)
		tr := call.NewTrace(ch.Clock(), nil)
		if got := call.IsTestCall(call.Traced(ch, tr)); got != tc.want {
			t.Errorf("IsTestCall(traced) = %v, want %v", got, tc.want)
		}
		if got := call.IsTestCall(ch); got != tc.want {
			t.Errorf("IsTestCall = %v, want %v", got, tc.want)
		}
	}
}

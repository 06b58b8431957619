package call_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
)

// wrapper wraps a channel without being Traced.
type wrapper struct{ call.Channel }

func (w wrapper) Unwrap() call.Channel { return w.Channel }

func TestAsFindsOptionalInterfaces(t *testing.T) {
	_, ch := sim.New(t.Context(), call.Info{ID: "c"}, sim.Script{})
	tr := call.NewTrace(ch.Clock(), nil)
	for name, c := range map[string]call.Channel{
		"itself": ch, "traced": call.Traced(ch, tr), "wrapped twice": wrapper{call.Traced(ch, tr)},
	} {
		if _, ok := call.As[call.CallRecorder](c); !ok {
			t.Errorf("%s: no CallRecorder", name)
		}
	}
	type hidden struct{ call.Channel } // no Unwrap
	if _, ok := call.As[call.CallRecorder](hidden{ch}); ok {
		t.Error("found through a wrapper without Unwrap")
	}
	if _, ok := call.As[call.CallRecorder](wrapper{nil}); ok {
		t.Error("found in nil")
	}
}

func TestSimulatedCallRecording(t *testing.T) {
	ctx, ch := sim.New(t.Context(), call.Info{ID: "c"}, sim.Script{}, sim.WithClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)))
	if _, err := ch.StopRecording(ctx); !errors.Is(err, call.ErrNotRecording) {
		t.Errorf("stop before start: %v", err)
	}
	if err := ch.StartRecording(ctx, call.CallRecordingOptions{Format: "wav", TimeLimit: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := ch.Pause(ctx, 8*time.Second); err != nil {
		t.Fatal(err)
	}
	r, err := ch.StopRecording(ctx)
	if err != nil || r.Duration != 5*time.Second || r.URL != "sim://recordings/c/call-1.wav" {
		t.Errorf("recording %+v %v", r, err)
	}
	if ch.Recording() {
		t.Error("still recording")
	}
	_ = ch.Hangup(ctx, "NORMAL_CLEARING")
	if err := ch.StartRecording(context.WithoutCancel(ctx), call.CallRecordingOptions{}); err == nil {
		t.Error("started on an ended call")
	}
}

package media_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/mediatest"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// channel is one channel of interleaved samples.
func channel(samples []int16, channels, ch int) []int16 {
	out := make([]int16, 0, len(samples)/channels)
	for i := ch; i < len(samples); i += channels {
		out = append(out, samples[i])
	}
	return out
}

// TestCallRecording: caller phone ⇄ leg A ⇄ bridge ⇄ leg B ⇄ callee
// phone, recorded on legs A and B. Each party's tone is on its own
// channel (dual), or both are in the mixed file; a session recorded twice
// is refused; a discarded recording leaves no file.
func TestCallRecording(t *testing.T) {
	t.Parallel()
	for _, dual := range []bool{true, false} {
		m := mediatest.Manager(t)
		caller := mediatest.Session(t, m, "caller")
		legA := mediatest.Session(t, m, "leg-a")
		legB := mediatest.Session(t, m, "leg-b")
		callee := mediatest.Session(t, m, "callee")
		mediatest.Connect(t, caller, legA)
		mediatest.Connect(t, legB, callee)
		ctx, cancel := context.WithCancel(t.Context())
		bridged := make(chan error, 1)
		go func() { bridged <- legA.Bridge(ctx, legB) }()
		waitfor.True(t, 5*time.Second, "the legs bridged", func() bool { return media.Bridged(legA) && media.Bridged(legB) })

		rec, err := legA.StartCallRecording(media.CallRecordingOptions{Dual: dual, TimeLimit: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Add(legB); err != nil {
			t.Fatal(err)
		}
		if err := rec.Add(legB); err == nil {
			t.Error("a session was added twice")
		}
		low := mediatest.WriteWAV(t, "500.wav", mediatest.Sine(500, 1, 10000, 8000), 8000)
		high := mediatest.WriteWAV(t, "1k.wav", mediatest.Sine(1000, 1, 10000, 8000), 8000)
		done := make(chan error, 1)
		go func() { done <- callee.Play(t.Context(), call.PlayOptions{URL: high, Loop: 1}) }()
		if err := caller.Play(t.Context(), call.PlayOptions{URL: low, Loop: 1}); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		r, err := rec.Stop()
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		<-bridged
		a := mediatest.ReadWAV(t, r.Path)
		if r.Duration < 900*time.Millisecond || r.Duration > 3*time.Second {
			t.Errorf("dual %v: recording lasts %v", dual, r.Duration)
		}
		if dual {
			if a.Channels != 2 {
				t.Fatalf("dual: %d channels", a.Channels)
			}
			left, right := channel(a.Samples, 2, 0), channel(a.Samples, 2, 1)
			if f := mediatest.Frequency(left, 8000); math.Abs(f-500) > 20 {
				t.Errorf("the caller's channel has %.0f Hz, want 500", f)
			}
			if f := mediatest.Frequency(right, 8000); math.Abs(f-1000) > 20 {
				t.Errorf("the callee's channel has %.0f Hz, want 1000", f)
			}
			if d := mediatest.Voiced(left, 8000); math.Abs(d-1) > 0.1 {
				t.Errorf("the caller's channel is voiced %.2f s, want 1", d)
			}
		} else {
			if a.Channels != 1 {
				t.Fatalf("mixed: %d channels", a.Channels)
			}
			if d := mediatest.Voiced(a.Samples, 8000); d < 0.9 {
				t.Errorf("the mix is voiced %.2f s, want at least 1", d)
			}
		}
		if _, err := rec.Stop(); err == nil {
			t.Error("a recording was stopped twice")
		}
	}
}

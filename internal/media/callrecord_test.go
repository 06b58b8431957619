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

// tonePower is the Goertzel power of freq in 8 kHz samples, per sample.
func tonePower(samples []int16, freq float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/8000)
	var s1, s2 float64
	for _, v := range samples {
		s0 := float64(v)/32768 + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - coeff*s1*s2) / float64(max(len(samples), 1)*max(len(samples), 1))
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
			// By tone power, not zero crossings: on a loaded machine the
			// pacer's late packets leave gaps that blur a frequency
			// estimate, never which tone a channel holds.
			left, right := channel(a.Samples, 2, 0), channel(a.Samples, 2, 1)
			if lo, hi := tonePower(left, 500), tonePower(left, 1000); lo < 100*hi {
				t.Errorf("the caller's channel: 500 Hz power %.3g, 1 kHz %.3g; want the caller's 500 Hz", lo, hi)
			}
			if lo, hi := tonePower(right, 500), tonePower(right, 1000); hi < 100*lo {
				t.Errorf("the callee's channel: 500 Hz power %.3g, 1 kHz %.3g; want the callee's 1 kHz", lo, hi)
			}
			if d := mediatest.Voiced(left, 8000); d < 0.8 || d > 2 {
				t.Errorf("the caller's channel is voiced %.2f s, want about 1", d)
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

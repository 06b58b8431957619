package media_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/mediatest"
	"github.com/switchboard/switchboard/internal/waitfor"
)

func TestLoopbackPlayRecord(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	a := mediatest.Session(t, m, "call-a")
	b := mediatest.Session(t, m, "call-b")
	mediatest.Connect(t, a, b)
	tone := mediatest.WriteWAV(t, "tone.wav", mediatest.Sine(1000, 1, 12000, 8000), 8000)

	type result struct {
		rec call.Recording
		err error
	}
	done := make(chan result, 1)
	go func() {
		// The silence timeout also runs inside the tone when a loaded
		// machine stalls the sender: long enough for such a stall.
		rec, err := b.Record(t.Context(), call.RecordOptions{MaxLength: 10 * time.Second, Timeout: 2 * time.Second, Trim: true})
		done <- result{rec, err}
	}()
	// Frames sent before the recorder is in place are not recorded.
	waitfor.True(t, 10*time.Second, "b recording", func() bool { return media.Recording(b) })
	start := time.Now()
	if err := a.Play(t.Context(), call.PlayOptions{URL: tone, Loop: 1}); err != nil {
		t.Fatalf("Play: %v", err)
	}
	played := time.Since(start).Seconds()
	r := <-done
	if r.err != nil {
		t.Fatalf("Record: %v", r.err)
	}
	audio := mediatest.ReadWAV(t, r.rec.Path)
	if audio.Rate != 8000 || audio.Channels != 1 {
		t.Fatalf("recording is %d Hz × %d, want 8000 × 1", audio.Rate, audio.Channels)
	}
	if got := mediatest.Voiced(audio.Samples, 8000); got < 0.94 || got > 1.06 {
		t.Errorf("recording holds %.3f s of tone, want 1 s", got)
	}
	// The recording follows the sender's clock: a stalled sender leaves
	// its missed ticks as silence inside the tone, so the trimmed file is
	// 1 s of tone and at most the time Play took. Untrimmed, it would
	// also hold the 2 s of silence that ended it.
	if got := audio.Duration(); got < 0.94 || got > played+0.3 {
		t.Errorf("trimmed recording is %.3f s, want 1 s of tone and at most the %.3f s Play took", got, played)
	}
	if f := mediatest.Frequency(audio.Samples, 8000); f < 980 || f > 1020 {
		t.Errorf("recorded %.0f Hz, want 1000", f)
	}
	// The level of the tone, not of the stalls' silence between its frames.
	if db := mediatest.DBFS(mediatest.RMS(voicedFrames(audio.Samples, 8000))); db < -15 {
		t.Errorf("recording level %.1f dBFS, want a loud tone", db)
	}
	if r.rec.Digits != "" || r.rec.Duration < 900*time.Millisecond {
		t.Errorf("recording = %+v", r.rec)
	}
	st := b.Stats()
	if st.PacketsReceived < 50 || st.Dropped != 0 || st.Codec != "PCMU" {
		t.Errorf("B stats = %+v", st)
	}
}

// voicedFrames is samples without its 20 ms frames quieter than -40 dBFS
// (the frames mediatest.Voiced counts).
func voicedFrames(samples []int16, rate int) []int16 {
	frame := rate / 50
	var out []int16
	for i := 0; i+frame <= len(samples); i += frame {
		if mediatest.RMS(samples[i:i+frame]) > 328 {
			out = append(out, samples[i:i+frame]...)
		}
	}
	return out
}

func TestLoopbackDigits(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	a := mediatest.Session(t, m, "call-a")
	b := mediatest.Session(t, m, "call-b")
	mediatest.Connect(t, a, b)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.SendDigits(ctx, "12#") }()
	got, err := b.Gather(ctx, call.GatherOptions{Timeout: 5 * time.Second, FinishOnKey: "#"})
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if got != "12" {
		t.Errorf("Gather = %q, want 12", got)
	}
	if err := <-done; err != nil {
		t.Errorf("SendDigits: %v", err)
	}
}

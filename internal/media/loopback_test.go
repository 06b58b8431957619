package media_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media/mediatest"
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
		rec, err := b.Record(t.Context(), call.RecordOptions{MaxLength: 3 * time.Second, Timeout: 800 * time.Millisecond, Trim: true})
		done <- result{rec, err}
	}()
	if err := a.Play(t.Context(), call.PlayOptions{URL: tone, Loop: 1}); err != nil {
		t.Fatalf("Play: %v", err)
	}
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
	if got := audio.Duration(); got < 0.94 || got > 1.5 {
		t.Errorf("trimmed recording is %.3f s, want about 1 s", got)
	}
	if f := mediatest.Frequency(audio.Samples, 8000); f < 980 || f > 1020 {
		t.Errorf("recorded %.0f Hz, want 1000", f)
	}
	if db := mediatest.DBFS(mediatest.RMS(audio.Samples)); db < -15 {
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

package media_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/mediatest"
)

// playing keeps a playing opts until the test ends.
func playing(t *testing.T, a *media.Session, o call.PlayOptions) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Play(ctx, o)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// hearing returns once b receives sound (short probe recordings), so that
// a test's recording starts with the far end's audio already flowing.
func hearing(t *testing.T, b *media.Session) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rec, err := b.Record(t.Context(), call.RecordOptions{MaxLength: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if mediatest.Voiced(mediatest.ReadWAV(t, rec.Path).Samples, 8000) > 0.1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no sound reached the recording side")
		}
	}
}

func TestRecordStops(t *testing.T) {
	t.Parallel()
	t.Run("max length", func(t *testing.T) {
		t.Parallel()
		_, a, b := pair(t)
		playing(t, a, call.PlayOptions{URL: "builtin:hold-music"})
		hearing(t, b) // a recording follows the wall clock: start once the music flows
		start := time.Now()
		rec, err := b.Record(t.Context(), call.RecordOptions{MaxLength: 700 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		// It stops at the limit, not later (a starved machine may be late
		// to notice, never by seconds).
		if d := time.Since(start); d < 600*time.Millisecond || d > 3*time.Second {
			t.Errorf("took %v", d)
		}
		if !near(rec.Duration.Seconds(), 0.7, 0.15) || rec.Digits != "" {
			t.Errorf("recording %+v", rec)
		}
		audio := mediatest.ReadWAV(t, rec.Path)
		if mediatest.Voiced(audio.Samples, 8000) < 0.4 {
			t.Errorf("music not recorded: %.2f s voiced", mediatest.Voiced(audio.Samples, 8000))
		}
	})
	t.Run("silence", func(t *testing.T) {
		t.Parallel()
		_, _, b := pair(t) // a sends silence frames
		start := time.Now()
		rec, err := b.Record(t.Context(), call.RecordOptions{MaxLength: 10 * time.Second, Timeout: 400 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); !near(d.Seconds(), 0.4, 0.2) {
			t.Errorf("silence stop after %v", d)
		}
		if rec.Digits != "" {
			t.Errorf("digits %q", rec.Digits)
		}
	})
	t.Run("silence after speech", func(t *testing.T) {
		t.Parallel()
		_, a, b := pair(t)
		go a.Play(t.Context(), call.PlayOptions{URL: "builtin:beep", Loop: 2}) // 1 s of sound
		rec, err := b.Record(t.Context(), call.RecordOptions{MaxLength: 10 * time.Second, Timeout: 500 * time.Millisecond, Trim: true})
		if err != nil {
			t.Fatal(err)
		}
		// What trimming promises is on the file: the 0.5 s of silence that
		// stopped the recording is gone, and the second of sound is kept.
		// (On a starved machine the sound itself may arrive stretched, so
		// the total length is not the measure.)
		audio := mediatest.ReadWAV(t, rec.Path)
		if v := mediatest.Voiced(audio.Samples, 8000); v < 0.9 {
			t.Errorf("trimmed recording keeps %.2f s of sound, want the 1 s beep", v)
		}
		tail := 0
		for i := len(audio.Samples) - 1; i >= 0 && audio.Samples[i] > -300 && audio.Samples[i] < 300; i-- {
			tail++
		}
		if s := float64(tail) / 8000; s > 0.25 {
			t.Errorf("%.2f s of silence left at the end of a trimmed recording (duration %v)", s, rec.Duration)
		}
		if d := rec.Duration.Seconds(); d < 0.95 {
			t.Errorf("trimmed duration %v, want at least the 1 s of sound", rec.Duration)
		}
	})
	t.Run("finish key", func(t *testing.T) {
		t.Parallel()
		_, a, b := pair(t)
		b.InjectDigit('#') // queued before: dropped
		playing(t, a, call.PlayOptions{URL: "builtin:hold-music"})
		start := time.Now()
		pressed := make(chan time.Duration, 1)
		time.AfterFunc(300*time.Millisecond, func() {
			pressed <- time.Since(start)
			b.InjectDigit('1')
			b.InjectDigit('#')
		})
		rec, err := b.Record(t.Context(), call.RecordOptions{MaxLength: 5 * time.Second, FinishOnKey: "#*"})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		// The key ends it: at least until the key was pressed, no longer
		// than Record took (and the frames the jitter buffer held when it
		// began), and far from the 5 s limit.
		at := <-pressed
		if rec.Digits != "#" || rec.Duration < at-100*time.Millisecond || rec.Duration > took+150*time.Millisecond || took > 4*time.Second {
			t.Errorf("recording %+v (key pressed at %v, Record took %v)", rec, at, took)
		}
	})
	t.Run("hangup keeps the audio", func(t *testing.T) {
		t.Parallel()
		_, a, b := pair(t)
		playing(t, a, call.PlayOptions{URL: "builtin:hold-music"})
		ctx, cancel := context.WithCancelCause(t.Context())
		time.AfterFunc(900*time.Millisecond, func() { cancel(call.ErrHangup) }) // after the beep
		rec, err := b.Record(ctx, call.RecordOptions{MaxLength: 5 * time.Second, PlayBeep: true})
		if err != nil {
			t.Fatalf("Record = %v, want nil on hangup", err)
		}
		if rec.Digits != "hangup" || rec.Duration <= 0 {
			t.Errorf("recording %+v", rec)
		}
		if audio := mediatest.ReadWAV(t, rec.Path); len(audio.Samples) == 0 {
			t.Error("empty file")
		}
		// Another cause is an error, with the recording.
		ctx2, cancel2 := context.WithCancelCause(t.Context())
		time.AfterFunc(100*time.Millisecond, func() { cancel2(errors.New("shutdown")) })
		rec, err = b.Record(ctx2, call.RecordOptions{MaxLength: 5 * time.Second})
		if err == nil || rec.Path == "" || rec.Digits != "hangup" {
			t.Errorf("Record = %+v, %v", rec, err)
		}
	})
	t.Run("beep first", func(t *testing.T) {
		t.Parallel()
		_, a, b := pair(t)
		done := make(chan call.Recording, 1)
		go func() {
			r, _ := a.Record(t.Context(), call.RecordOptions{MaxLength: 1500 * time.Millisecond, Trim: true})
			done <- r
		}()
		if _, err := b.Record(t.Context(), call.RecordOptions{MaxLength: 200 * time.Millisecond, PlayBeep: true}); err != nil {
			t.Fatal(err)
		}
		if r := <-done; !near(mediatest.Voiced(mediatest.ReadWAV(t, r.Path).Samples, 8000), 0.5, 0.06) {
			t.Errorf("a heard %v of beep, want 0.5 s", r.Duration)
		}
	})
}

func TestRecordingPaths(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t, func(c *media.Config) {
		c.RecordingURL = func(acct, file string) string { return "https://api.test/v2/accounts/" + acct + "/recordings/" + file }
	})
	a, err := m.NewSession(t.Context(), "acct/../1", "abc@host")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := mediatest.Session(t, m, "b")
	mediatest.Connect(t, a, b)
	for n := 1; n <= 2; n++ {
		rec, err := a.Record(t.Context(), call.RecordOptions{MaxLength: 60 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		wantPath := filepath.Join(m.DataDir(), "recordings", "acct_.._1", "abc@host-"+string(rune('0'+n))+".wav")
		if rec.Path != wantPath {
			t.Errorf("path %s, want %s", rec.Path, wantPath)
		}
		if want := "https://api.test/v2/accounts/acct/../1/recordings/abc@host-" + string(rune('0'+n)) + ".wav"; rec.URL != want {
			t.Errorf("URL %s, want %s", rec.URL, want)
		}
	}
}

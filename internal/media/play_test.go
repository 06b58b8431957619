package media_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/mediatest"
	"github.com/switchboard/switchboard/internal/media/wav"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// heard plays with a on the pair (a, b) and returns the seconds of sound
// b recorded. (Voiced seconds, not the file's length: on a loaded machine
// a stalled sender skips ticks, and the timestamp gaps become silence.)
func heard(t *testing.T, a, b *media.Session, play func(ctx context.Context) error) float64 {
	t.Helper()
	type res struct {
		rec call.Recording
		err error
	}
	done := make(chan res, 1)
	go func() {
		// The silence timeout also runs before the first sound: long
		// enough for a play that must fetch and decode first on a busy
		// machine; trimming drops the silence from the measure.
		rec, err := b.Record(t.Context(), call.RecordOptions{MaxLength: 10 * time.Second, Timeout: 3 * time.Second, Trim: true})
		done <- res{rec, err}
	}()
	// Sound sent before the recorder is in place is not recorded: on a
	// busy machine the goroutine above may not have run yet.
	waitfor.True(t, 10*time.Second, "b recording", func() bool { return media.Recording(b) })
	if err := play(t.Context()); err != nil {
		t.Fatalf("play: %v", err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("Record: %v", r.err)
	}
	return mediatest.Voiced(mediatest.ReadWAV(t, r.rec.Path).Samples, 8000)
}

func pair(t *testing.T, opts ...func(*media.Config)) (*media.Manager, *media.Session, *media.Session) {
	t.Helper()
	m := mediatest.Manager(t, opts...)
	a := mediatest.Session(t, m, "a")
	b := mediatest.Session(t, m, "b")
	mediatest.Connect(t, a, b)
	return m, a, b
}

func near(got, want, tol float64) bool { return got >= want-tol && got <= want+tol }

func TestPlaySources(t *testing.T) {
	t.Parallel()
	m, a, b := pair(t)
	// A stored media id: DataDir/media/<account>/<id>.wav, here 16 kHz.
	if err := os.MkdirAll(filepath.Join(m.DataDir(), "media", "acct"), 0o755); err != nil {
		t.Fatal(err)
	}
	stored := filepath.Join(m.DataDir(), "media", "acct", "greeting-1.wav")
	if err := os.WriteFile(stored, wav.Encode(mediatest.Sine(700, 0.6, 9000, 16000), 16000), 0o644); err != nil {
		t.Fatal(err)
	}
	// One of the call's account's recordings ("acct": mediatest.Session).
	recDir, _ := m.RecordingPath("acct", "", 0)
	if err := os.MkdirAll(recDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(recDir, "CA1-1.wav"), wav.Encode(mediatest.Sine(600, 0.4, 9000, 8000), 8000), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, _ := m.MediaPath("acct", "greeting-1"); p != stored {
		t.Errorf("MediaPath = %s, want %s", p, stored)
	}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/prompts/welcome.wav" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(wav.Encode(mediatest.Sine(500, 0.8, 9000, 44100), 44100))
	}))
	t.Cleanup(srv.Close)
	url := srv.URL + "/prompts/welcome.wav"

	for _, tt := range []struct {
		name string
		o    call.PlayOptions
		want float64
	}{
		{"media id", call.PlayOptions{MediaID: "greeting-1", Loop: 1}, 0.6},
		{"media: URL", call.PlayOptions{URL: "media:greeting-1", Loop: 1}, 0.6},
		{"http", call.PlayOptions{URL: url, Loop: 1}, 0.8},
		{"http again (cached)", call.PlayOptions{URL: url, Loop: 1}, 0.8},
		{"file path", call.PlayOptions{URL: stored, Loop: 1}, 0.6},
		{"the account's recording", call.PlayOptions{URL: "recording:CA1-1", Loop: 1}, 0.4},
		{"builtin:beep", call.PlayOptions{URL: "builtin:beep", Loop: 1}, 0.5},
		{"beep three times", call.PlayOptions{URL: "builtin:beep", Loop: 3}, 1.5},
	} {
		got := heard(t, a, b, func(ctx context.Context) error { return a.Play(ctx, tt.o) })
		if !near(got, tt.want, 0.06) {
			t.Errorf("%s: heard %.2f s, want %.2f", tt.name, got, tt.want)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("URL fetched %d times, want once", n)
	}
	if n, size := m.MediaCacheStats(); n != 1 || size != 0.8*8000*4 {
		t.Errorf("media cache holds %d URLs, %d bytes; want 1 of 0.8 s decoded", n, size)
	}
	for _, o := range []call.PlayOptions{
		{MediaID: "../etc/passwd"},
		{URL: "media:nope"},
		{URL: "recording:nope"},
		{URL: "recording:../acct/CA1-1"},
		{URL: "builtin:trumpet"},
		{URL: srv.URL + "/missing.wav"},
		{},
	} {
		if err := a.Play(t.Context(), o); err == nil {
			t.Errorf("Play(%+v) succeeded", o)
		}
	}
}

func TestPlayFetchLimits(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big.wav":
			w.Header().Set("Content-Length", "30000000")
			w.Write(make([]byte, 1000))
		case "/bigchunked.wav":
			chunk := make([]byte, 1<<20)
			copy(chunk, "RIFF\x00\x00\x00\x00WAVE")
			for range 21 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/mp3":
			w.Write([]byte("ID3\x03\x00\x00\x00\x00\x00\x00 not a wav file at all"))
		case "/slow.wav":
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(func() { close(block); srv.Close() })
	// Short enough for /slow.wav; the 21 MB one gets the default 10 s so
	// that a loaded machine still reads past the limit in time.
	_, quick, _ := pair(t, func(c *media.Config) { c.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond} })
	_, patient, _ := pair(t)
	for _, c := range []struct {
		path string
		want error
		code int
	}{
		{"/big.wav", media.ErrTooLarge, media.CodeFetchFailed},
		{"/bigchunked.wav", media.ErrTooLarge, media.CodeFetchFailed},
		{"/mp3", media.ErrUnsupportedFormat, media.CodeUnsupportedFormat},
		{"/slow.wav", media.ErrFetch, media.CodeConnectionFailed},
	} {
		a := quick
		if c.path == "/bigchunked.wav" {
			a = patient
		}
		err := a.Play(t.Context(), call.PlayOptions{URL: srv.URL + c.path, Loop: 1})
		if !errors.Is(err, c.want) || media.ErrorCode(err) != c.code {
			t.Errorf("%s: %v (code %d), want %v with code %d", c.path, err, media.ErrorCode(err), c.want, c.code)
		}
	}
	// A caller who hangs up stops waiting at once.
	_, b, _ := pair(t)
	ctx, cancel := context.WithCancelCause(t.Context())
	time.AfterFunc(100*time.Millisecond, func() { cancel(call.ErrHangup) })
	start := time.Now()
	err := b.Play(ctx, call.PlayOptions{URL: srv.URL + "/slow.wav?x", Loop: 1})
	if !errors.Is(err, call.ErrHangup) || time.Since(start) > 2*time.Second {
		t.Errorf("Play during a slow fetch = %v after %v", err, time.Since(start))
	}
}

func TestPlayTerminators(t *testing.T) {
	t.Parallel()
	_, a, _ := pair(t)
	// A terminator stops endless music and stays queued.
	time.AfterFunc(200*time.Millisecond, func() { a.InjectDigit('#') })
	start := time.Now()
	if err := a.Play(t.Context(), call.PlayOptions{URL: "builtin:hold-music", Terminators: "#*"}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Play stopped after %v", d)
	}
	// Another key does not stop playback, and is kept too.
	a.InjectDigit('5')
	start = time.Now()
	if err := a.Play(t.Context(), call.PlayOptions{URL: "builtin:beep", Loop: 1, Terminators: "*"}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("beep ended after %v", d)
	}
	got, err := a.Gather(t.Context(), call.GatherOptions{NumDigits: 2, Timeout: time.Second})
	if err != nil || got != "#5" {
		t.Errorf("Gather = %q, %v; want #5", got, err)
	}
	// A queued terminator (type-ahead) stops the next Play at once.
	a.InjectDigit('*')
	start = time.Now()
	if err := a.Play(t.Context(), call.PlayOptions{URL: "builtin:hold-music", Terminators: "*"}); err != nil || time.Since(start) > 100*time.Millisecond {
		t.Errorf("type-ahead Play = %v after %v", err, time.Since(start))
	}
}

func TestPlayCancel(t *testing.T) {
	t.Parallel()
	_, a, _ := pair(t)
	ctx, cancel := context.WithCancelCause(t.Context())
	time.AfterFunc(100*time.Millisecond, func() { cancel(call.ErrHangup) })
	start := time.Now()
	if err := a.Play(ctx, call.PlayOptions{URL: "builtin:hold-music"}); !errors.Is(err, call.ErrHangup) {
		t.Errorf("Play = %v, want ErrHangup", err)
	}
	if err := a.Pause(ctx, time.Hour); !errors.Is(err, call.ErrHangup) {
		t.Errorf("Pause = %v", err)
	}
	if _, err := a.Gather(ctx, call.GatherOptions{Timeout: time.Hour}); !errors.Is(err, call.ErrHangup) {
		t.Errorf("Gather = %v", err)
	}
	if err := a.SendDigits(ctx, "123"); !errors.Is(err, call.ErrHangup) {
		t.Errorf("SendDigits = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	start = time.Now()
	if err := a.Pause(t.Context(), 150*time.Millisecond); err != nil || time.Since(start) < 150*time.Millisecond {
		t.Errorf("Pause = %v after %v", err, time.Since(start))
	}
}

func TestGather(t *testing.T) {
	t.Parallel()
	_, a, _ := pair(t)
	inject := func(s string) {
		for i := range len(s) {
			a.InjectDigit(s[i])
		}
	}
	tests := []struct {
		name   string
		before string // typed ahead
		later  string // pressed 150 ms after Gather starts
		o      call.GatherOptions
		want   string
		left   string // still queued afterwards
		max    time.Duration
	}{
		{name: "num digits", before: "1234", o: call.GatherOptions{NumDigits: 3, Timeout: time.Second}, want: "123", left: "4"},
		{name: "finish key", later: "12#9", o: call.GatherOptions{FinishOnKey: "#", Timeout: time.Second}, want: "12", left: "9"},
		{name: "nothing", o: call.GatherOptions{Timeout: 200 * time.Millisecond}, want: "", max: time.Second},
		{name: "inter-digit timeout", later: "7", o: call.GatherOptions{Timeout: 5 * time.Second, InterDigitTimeout: 200 * time.Millisecond}, want: "7", max: 2 * time.Second},
		{name: "finish key alone", later: "#", o: call.GatherOptions{FinishOnKey: "#", Timeout: time.Second}, want: ""},
		{name: "lower-case keys", later: "ab", o: call.GatherOptions{NumDigits: 2, Timeout: time.Second}, want: "AB"},
		{
			name: "barge-in stops the prompt and counts", later: "4",
			o:    call.GatherOptions{NumDigits: 2, Timeout: 300 * time.Millisecond, Prompts: []call.Prompt{{Play: &call.PlayOptions{URL: "builtin:hold-music"}}, {Pause: time.Hour}}},
			want: "4", max: 2 * time.Second,
		},
		{
			name: "prompts then digits", later: "",
			o:    call.GatherOptions{Timeout: 100 * time.Millisecond, Prompts: []call.Prompt{{Pause: 100 * time.Millisecond}, {Play: &call.PlayOptions{URL: "builtin:beep", Loop: 1}}, {Say: &call.SayOptions{}}}},
			want: "", max: 2 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inject(tt.before)
			injected := make(chan struct{})
			if tt.later != "" {
				time.AfterFunc(150*time.Millisecond, func() { inject(tt.later); close(injected) })
			}
			start := time.Now()
			got, err := a.Gather(t.Context(), tt.o)
			if err != nil || got != tt.want {
				t.Errorf("Gather = %q, %v; want %q", got, err, tt.want)
			}
			if tt.max > 0 && time.Since(start) > tt.max {
				t.Errorf("took %v", time.Since(start))
			}
			if tt.later != "" {
				<-injected // the timer's digits are queued before draining
			}
			rest, _ := a.Gather(t.Context(), call.GatherOptions{Timeout: 50 * time.Millisecond})
			if rest != tt.left {
				t.Errorf("left queued %q, want %q", rest, tt.left)
			}
		})
	}
}

package media_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/mediatest"
)

// TestPlayMP3 plays an MP3 by URL and as stored (uploaded) media over RTP,
// and shows that media that cannot be played fails at once with its code
// instead of sending silence.
func TestPlayMP3(t *testing.T) {
	t.Parallel()
	mp3, err := os.ReadFile(filepath.Join("testdata", "audio", "tone-1000hz-44100-mono-id3.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hold.mp3":
			w.Header().Set("Content-Type", "audio/mpeg")
			w.Write(mp3)
		case "/page":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>moved</html>"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	m, a, b := pair(t)

	got := heard(t, a, b, func(ctx context.Context) error {
		return a.Play(ctx, call.PlayOptions{URL: srv.URL + "/hold.mp3", Loop: 1})
	})
	if !near(got, 1.0, 0.08) {
		t.Errorf("MP3 URL: heard %.2f s, want 1.0", got)
	}

	// An upload, stored once as 8 kHz WAV and played by id.
	up, err := m.StoreMedia(t.Context(), "acct", "upload-1", bytes.NewReader(mp3), "audio/mpeg")
	if err != nil {
		t.Fatal(err)
	}
	if up.Format != media.FormatMP3 || up.Duration() < 950*time.Millisecond {
		t.Errorf("StoreMedia: %s, %v", up.Format, up.Duration())
	}
	got = heard(t, a, b, func(ctx context.Context) error {
		return a.Play(ctx, call.PlayOptions{MediaID: "upload-1", Loop: 1})
	})
	if !near(got, 1.0, 0.08) {
		t.Errorf("stored MP3: heard %.2f s, want 1.0", got)
	}
	// Another account's library has no upload-1: its sessions cannot play it.
	other, err := m.NewSession(t.Context(), "other", "c")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	mediatest.Connect(t, other, mediatest.Session(t, m, "d"))
	if err := other.Play(t.Context(), call.PlayOptions{MediaID: "upload-1", Loop: 1}); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("another account played upload-1: %v", err)
	}
	if _, err := m.StoreMedia(t.Context(), "acct", "upload-2", bytes.NewReader([]byte("<html/>")), "text/html"); !errors.Is(err, media.ErrUnsupportedFormat) {
		t.Errorf("StoreMedia of HTML: %v", err)
	}
	if _, err := os.Stat(filepath.Join(m.DataDir(), "media", "acct", "upload-2.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed upload left a file: %v", err)
	}
	if _, err := m.StoreMedia(t.Context(), "acct", "../x", bytes.NewReader(mp3), ""); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("StoreMedia with a bad id: %v", err)
	}

	for _, c := range []struct {
		url  string
		want error
		code int
	}{
		{srv.URL + "/page", media.ErrUnsupportedFormat, media.CodeUnsupportedFormat},
		{srv.URL + "/gone.mp3", media.ErrFetch, media.CodeFetchFailed},
	} {
		start := time.Now()
		err := a.Play(t.Context(), call.PlayOptions{URL: c.url, Loop: 1})
		if !errors.Is(err, c.want) || media.ErrorCode(err) != c.code {
			t.Errorf("%s: %v (code %d), want %v, %d", c.url, err, media.ErrorCode(err), c.want, c.code)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s failed after %v", c.url, d)
		}
	}
}

func TestPlayUnsupportedFile(t *testing.T) {
	t.Parallel()
	_, a, _ := pair(t)
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := a.Play(t.Context(), call.PlayOptions{URL: path, Loop: 1})
	if !errors.Is(err, media.ErrUnsupportedFormat) || media.ErrorCode(err) != media.CodeUnsupportedFormat {
		t.Errorf("Play of a text file: %v", err)
	}
}

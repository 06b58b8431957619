package media

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/wav"
)

// TestStatCacheKey: a file's key is kept for statFresh, taken anew after
// it or at once after changed, and a failure is never kept.
func TestStatCacheKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.wav")
	if err := os.WriteFile(path, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	var c statCache
	t0 := time.Now()
	k1, err := c.key(path, t0)
	if err != nil {
		t.Fatal(err)
	}
	// Replaced behind the cache's back, with another size and time.
	if err := os.WriteFile(path, []byte("three"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, t0.Add(time.Hour), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if k, err := c.key(path, t0.Add(statFresh/2)); err != nil || k != k1 {
		t.Errorf("within statFresh: %q, %v; want the kept %q", k, err, k1)
	}
	k2, err := c.key(path, t0.Add(statFresh))
	if err != nil || k2 == k1 {
		t.Errorf("after statFresh: %q, %v; want a new key", k2, err)
	}
	if err := os.WriteFile(path, []byte("fourth"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.changed()
	if k, err := c.key(path, t0.Add(statFresh)); err != nil || k == k2 {
		t.Errorf("after changed: %q, %v; want a new key", k, err)
	}
	// A clock that went back is no proof of freshness.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := c.key(path, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed, clock behind: %v; want ErrNotFound", err)
	}
	if _, err := c.key(path, t0.Add(2*statFresh)); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed: %v; want ErrNotFound", err)
	}
	if err := os.WriteFile(path, []byte("back"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.key(path, t0.Add(2*statFresh)); err != nil {
		t.Errorf("a missing file was remembered: %v", err)
	}
	if _, err := c.key(dir, t0); err == nil {
		t.Error("a directory has a key")
	}
}

// TestStoredMediaReplacedPlaysAtOnce: media stored or deleted through the
// manager is seen by the next play, with no wait for statFresh.
func TestStoredMediaReplacedPlaysAtOnce(t *testing.T) {
	m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: 30000, PortMax: 39999}, nil)
	if err != nil {
		t.Fatal(err)
	}
	store := func(samples int) {
		t.Helper()
		pcm := make([]int16, samples)
		if _, err := m.StoreMedia(t.Context(), "acct", "greeting", bytes.NewReader(wav.Encode(pcm, codec.Rate)), "audio/wav"); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{800, 1600, 2400} {
		store(n)
		p, err := m.loadStored(t.Context(), "acct", "greeting")
		if err != nil {
			t.Fatal(err)
		}
		if len(p.pcm) != n {
			t.Errorf("stored %d samples, played %d", n, len(p.pcm))
		}
	}
	if err := m.DeleteMedia("acct", "greeting"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.loadStored(t.Context(), "acct", "greeting"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted media: %v; want ErrNotFound", err)
	}
}

// BenchmarkLoadStored is a Play's lookup of a stored media id's prompt.
func BenchmarkLoadStored(b *testing.B) {
	m, err := NewManager(Config{DataDir: b.TempDir(), BindIP: "127.0.0.1", PortMin: 30000, PortMax: 39999}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.StoreMedia(b.Context(), "acct", "greeting", bytes.NewReader(wav.Encode(make([]int16, 8000), codec.Rate)), "audio/wav"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.loadStored(b.Context(), "acct", "greeting"); err != nil {
			b.Fatal(err)
		}
	}
}

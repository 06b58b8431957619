package media_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/mediatest"
	"github.com/switchboard/switchboard/internal/media/wav"
)

func TestEncodeMP3(t *testing.T) {
	mediatest.RequireTool(t, "lame")
	t.Parallel()
	// A recording as Record writes it: 8 kHz 16-bit mono.
	rec := wav.Encode(mediatest.Sine(800, 3, 16000, codec.Rate), codec.Rate)
	var mp3 bytes.Buffer
	if err := media.EncodeMP3(t.Context(), &mp3, bytes.NewReader(rec)); err != nil {
		t.Fatal(err)
	}
	if media.Sniff(mp3.Bytes()) != media.FormatMP3 {
		t.Fatalf("output starts % x, not an MP3 frame", mp3.Bytes()[:min(4, mp3.Len())])
	}
	// 32 kbit/s: about 12 kB for 3 s.
	if n := mp3.Len(); n < 8000 || n > 16000 {
		t.Errorf("%d bytes for 3 s at %d kbit/s", n, media.MP3Bitrate)
	}
	a, err := media.Decode(t.Context(), mp3.Bytes(), "audio/mpeg")
	if err != nil {
		t.Fatal(err)
	}
	checkTone(t, a, 3*time.Second, 150*time.Millisecond, 800)
}

func TestEncodeMP3Errors(t *testing.T) {
	mediatest.RequireTool(t, "lame")
	t.Parallel()
	var out bytes.Buffer
	err := media.EncodeMP3(t.Context(), &out, strings.NewReader("not a wav file"))
	if err == nil || !strings.Contains(err.Error(), "encode mp3") {
		t.Errorf("garbage: %v", err)
	}
	ctx, cancel := context.WithCancelCause(t.Context())
	cause := errors.New("request gone")
	cancel(cause)
	rec := wav.Encode(mediatest.Sine(800, 1, 16000, codec.Rate), codec.Rate)
	if err := media.EncodeMP3(ctx, &out, bytes.NewReader(rec)); !errors.Is(err, cause) {
		t.Errorf("cancelled: %v, want the cause", err)
	}
}

// TestDecodeMPEG25 plays an 8 kHz (MPEG 2.5) MP3, which go-mp3 does not
// read, through lame.
func TestDecodeMPEG25(t *testing.T) {
	mediatest.RequireTool(t, "lame")
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "audio", "tone-440hz-8000-mono.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := media.Decode(t.Context(), data, "")
	if err != nil {
		t.Fatal(err)
	}
	checkTone(t, a, time.Second, 150*time.Millisecond, 440)
}

// BenchmarkDecodeMP3 decodes 30 s of 44.1 kHz stereo 128 kbit/s MP3 (a
// typical hold-music file) to 8 kHz mono: ns/op is the cost of one cache
// miss.
func BenchmarkDecodeMP3(b *testing.B) {
	mediatest.RequireTool(b, "lame", "sox")
	dir := b.TempDir()
	src := filepath.Join(dir, "music.wav")
	out := filepath.Join(dir, "music.mp3")
	run(b, "sox", "-n", "-r", "44100", "-c", "2", "-b", "16", src, "synth", "30", "pluck", "C3", "pluck", "E3", "vol", "0.5")
	run(b, "lame", "--quiet", "-b", "128", src, out)
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		a, err := media.Decode(b.Context(), data, "audio/mpeg")
		if err != nil {
			b.Fatal(err)
		}
		if d := a.Duration(); d < 30*time.Second {
			b.Fatalf("decoded %v", d)
		}
	}
}

func run(tb testing.TB, name string, args ...string) {
	tb.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		tb.Fatalf("%s: %v: %s", name, err, out)
	}
}

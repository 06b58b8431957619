package media_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/media"
)

// FuzzMediaDecode feeds the decoders (WAV, MP3, headerless G.711 by
// Content-Type) anything: they must return audio or an
// ErrUnsupportedFormat with its code, never panic, never more than
// MaxDuration. The seeds are our own: the tone MP3s in testdata/audio
// (testdata/audio/make.sh), WAVs built by makeWAV, and cut or corrupted
// copies of both.
func FuzzMediaDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "audio", "*.mp3"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed MP3s in testdata/audio: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "audio/mpeg")
		f.Add(b[:len(b)/3], "")
		flipped := append([]byte(nil), b...)
		for i := len(flipped) / 2; i < len(flipped); i += 97 {
			flipped[i] ^= 0x5A
		}
		f.Add(flipped, "application/octet-stream")
	}
	for _, enc := range []wavEnc{{tag: 1, bits: 8}, {tag: 1, bits: 16}, {tag: 1, bits: 24}, {tag: 3, bits: 32}, {tag: 7, bits: 8}, {tag: 3, bits: 32, extensible: true}} {
		w := makeWAV(enc, 22050, 2, 1000, 20*time.Millisecond)
		f.Add(w, "audio/wav")
		f.Add(w[:len(w)-7], "")
	}
	f.Add([]byte("ID3\x04\x00\x10\x7f\x7f\x7f\x7f"), "audio/mpeg")
	f.Add([]byte("\xff\xfb\x90\x64\x00\x00\x00\x00"), "")
	f.Add([]byte("\xff\xe3\x28\xc4"), "audio/mpeg")
	f.Add([]byte{0x7f, 0xff, 0x00, 0x80}, "audio/ulaw")
	f.Fuzz(func(t *testing.T, data []byte, contentType string) {
		a, err := media.Decode(t.Context(), data, contentType)
		if err != nil {
			if !errors.Is(err, media.ErrUnsupportedFormat) || media.ErrorCode(err) != media.CodeUnsupportedFormat {
				t.Fatalf("error %v is not ErrUnsupportedFormat with its code", err)
			}
			return
		}
		if a.Duration() > media.MaxDuration {
			t.Fatalf("decoded %v", a.Duration())
		}
	})
}

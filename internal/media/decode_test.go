package media_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/codec"
)

// wavEnc is one WAV sample encoding for makeWAV.
type wavEnc struct {
	tag        uint16 // 1 PCM, 3 float, 6 A-law, 7 µ-law
	bits       int
	extensible bool
}

// makeWAV builds a WAV file of a tone at freq Hz, amplitude 0.5 of full
// scale, in enc at rate with channels (every channel the same tone).
func makeWAV(enc wavEnc, rate, channels int, freq float64, dur time.Duration) []byte {
	n := int(dur.Seconds() * float64(rate))
	var body bytes.Buffer
	for i := range n {
		v := 0.5 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
		for range channels {
			writeSample(&body, enc, v)
		}
	}
	fmtChunk := binary.LittleEndian.AppendUint16(nil, enc.tag)
	if enc.extensible {
		fmtChunk = binary.LittleEndian.AppendUint16(nil, 0xFFFE)
	}
	blockAlign := channels * enc.bits / 8
	fmtChunk = binary.LittleEndian.AppendUint16(fmtChunk, uint16(channels))
	fmtChunk = binary.LittleEndian.AppendUint32(fmtChunk, uint32(rate))
	fmtChunk = binary.LittleEndian.AppendUint32(fmtChunk, uint32(rate*blockAlign))
	fmtChunk = binary.LittleEndian.AppendUint16(fmtChunk, uint16(blockAlign))
	fmtChunk = binary.LittleEndian.AppendUint16(fmtChunk, uint16(enc.bits))
	if enc.extensible {
		fmtChunk = binary.LittleEndian.AppendUint16(fmtChunk, 22)
		fmtChunk = binary.LittleEndian.AppendUint16(fmtChunk, uint16(enc.bits))
		fmtChunk = binary.LittleEndian.AppendUint32(fmtChunk, 3) // front left, right
		// The sub-format GUID: the format tag, then the fixed tail.
		fmtChunk = binary.LittleEndian.AppendUint16(fmtChunk, enc.tag)
		fmtChunk = append(fmtChunk, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
	}
	var b bytes.Buffer
	chunk := func(id string, p []byte) {
		b.WriteString(id)
		b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(p))))
		b.Write(p)
		if len(p)%2 == 1 {
			b.WriteByte(0)
		}
	}
	b.WriteString("RIFF\x00\x00\x00\x00WAVE")
	chunk("fmt ", fmtChunk)
	chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00test\x00\x00"))
	chunk("data", body.Bytes())
	out := b.Bytes()
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func writeSample(b *bytes.Buffer, enc wavEnc, v float64) {
	s16 := int16(v * 32767)
	switch {
	case enc.tag == 1 && enc.bits == 8:
		b.WriteByte(byte(int(v*127) + 128))
	case enc.tag == 1 && enc.bits == 16:
		b.Write(binary.LittleEndian.AppendUint16(nil, uint16(s16)))
	case enc.tag == 1 && enc.bits == 24:
		x := int32(v * (1<<23 - 1))
		b.Write([]byte{byte(x), byte(x >> 8), byte(x >> 16)})
	case enc.tag == 1 && enc.bits == 32:
		b.Write(binary.LittleEndian.AppendUint32(nil, uint32(int32(v*(1<<31-1)))))
	case enc.tag == 3 && enc.bits == 32:
		b.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(v))))
	case enc.tag == 3 && enc.bits == 64:
		b.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)))
	case enc.tag == 6:
		b.Write(codec.PCMA.Encode(make([]byte, 1), []int16{s16}))
	case enc.tag == 7:
		b.Write(codec.PCMU.Encode(make([]byte, 1), []int16{s16}))
	}
}

// goertzel is the power of freq in 8 kHz samples.
func goertzel(x []int16, freq float64) float64 {
	c := 2 * math.Cos(2*math.Pi*freq/codec.Rate)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

// dominant is the strongest frequency from 200 to 3600 Hz in 25 Hz steps.
func dominant(x []int16) float64 {
	best, bestP := 0.0, -1.0
	for f := 200.0; f <= 3600; f += 25 {
		if p := goertzel(x, f); p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

// checkTone expects about dur of a tone at freq.
func checkTone(t *testing.T, a media.Audio, dur time.Duration, tol time.Duration, freq float64) {
	t.Helper()
	if d := a.Duration(); d < dur-tol || d > dur+tol {
		t.Errorf("duration %v, want %v ± %v", d, dur, tol)
	}
	if len(a.PCM) < 800 {
		t.Fatalf("%d samples", len(a.PCM))
	}
	mid := a.PCM[len(a.PCM)/4 : len(a.PCM)*3/4]
	if f := dominant(mid); math.Abs(f-freq) > 25 {
		t.Errorf("dominant frequency %v Hz, want %v", f, freq)
	}
	// Half of full scale: RMS about 0.35 of 32767 (G.711 and MP3 a bit off).
	var sum float64
	for _, v := range mid {
		sum += float64(v) * float64(v)
	}
	if rms := math.Sqrt(sum/float64(len(mid))) / 32767; rms < 0.25 || rms > 0.45 {
		t.Errorf("RMS %.3f of full scale, want about 0.35", rms)
	}
}

func TestDecodeWAVEncodings(t *testing.T) {
	pcm16 := wavEnc{tag: 1, bits: 16}
	for _, c := range []struct {
		name     string
		enc      wavEnc
		rate, ch int
	}{
		{"pcm8", wavEnc{tag: 1, bits: 8}, 8000, 1},
		{"pcm16", pcm16, 8000, 1},
		{"pcm16 16k", pcm16, 16000, 1},
		{"pcm16 22050 stereo", pcm16, 22050, 2},
		{"pcm16 44100 stereo", pcm16, 44100, 2},
		{"pcm16 11025", pcm16, 11025, 1},
		{"pcm16 6000 (up)", pcm16, 6000, 1},
		{"pcm24 48k", wavEnc{tag: 1, bits: 24}, 48000, 1},
		{"pcm24 96k stereo", wavEnc{tag: 1, bits: 24}, 96000, 2},
		{"pcm32 32k", wavEnc{tag: 1, bits: 32}, 32000, 1},
		{"float32 44100", wavEnc{tag: 3, bits: 32}, 44100, 1},
		{"float32 stereo", wavEnc{tag: 3, bits: 32}, 48000, 2},
		{"float64", wavEnc{tag: 3, bits: 64}, 16000, 1},
		{"mulaw", wavEnc{tag: 7, bits: 8}, 8000, 1},
		{"alaw", wavEnc{tag: 6, bits: 8}, 8000, 1},
		{"alaw stereo 16k", wavEnc{tag: 6, bits: 8}, 16000, 2},
		{"extensible pcm16", wavEnc{tag: 1, bits: 16, extensible: true}, 44100, 2},
		{"extensible pcm24", wavEnc{tag: 1, bits: 24, extensible: true}, 48000, 2},
		{"extensible float32", wavEnc{tag: 3, bits: 32, extensible: true}, 48000, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := makeWAV(c.enc, c.rate, c.ch, 1000, 700*time.Millisecond)
			for _, ct := range []string{"audio/wav", "application/octet-stream", ""} {
				a, err := media.Decode(t.Context(), data, ct)
				if err != nil {
					t.Fatalf("Decode(%q): %v", ct, err)
				}
				if a.Format != media.FormatWAV {
					t.Errorf("format %q", a.Format)
				}
				checkTone(t, a, 700*time.Millisecond, 2*time.Millisecond, 1000)
			}
		})
	}
}

func TestDecodeMP3(t *testing.T) {
	for _, c := range []struct {
		file string
		dur  time.Duration
		freq float64
	}{
		{"tone-1000hz-44100-mono-id3.mp3", time.Second, 1000},
		{"tone-440hz-8000-mono.mp3", time.Second, 440},
		{"tone-700hz-48000-stereo.mp3", 500 * time.Millisecond, 700},
		{"tone-1500hz-22050-mono-notag.mp3", 500 * time.Millisecond, 1500},
	} {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "audio", c.file))
			if err != nil {
				t.Fatal(err)
			}
			for _, ct := range []string{"audio/mpeg", "application/octet-stream", "audio/wav", ""} {
				a, err := media.Decode(t.Context(), data, ct)
				if err != nil {
					t.Fatalf("Decode(%q): %v", ct, err)
				}
				if a.Format != media.FormatMP3 {
					t.Errorf("format %q", a.Format)
				}
				// An MP3 encoder adds up to about two frames of delay and
				// padding (1152 samples each).
				checkTone(t, a, c.dur, 120*time.Millisecond, c.freq)
			}
		})
	}
}

func TestDecodeHeaderlessG711(t *testing.T) {
	tone := make([]int16, 8000)
	for i := range tone {
		tone[i] = int16(16383 * math.Sin(2*math.Pi*600*float64(i)/8000))
	}
	for _, c := range []struct {
		ct  string
		enc codec.Codec
	}{{"audio/ulaw", codec.PCMU}, {"audio/x-alaw; rate=8000", codec.PCMA}} {
		a, err := media.Decode(t.Context(), c.enc.Encode(make([]byte, len(tone)), tone), c.ct)
		if err != nil {
			t.Fatalf("%s: %v", c.ct, err)
		}
		checkTone(t, a, time.Second, 0, 600)
	}
}

func TestDecodeUnsupported(t *testing.T) {
	for _, c := range []struct {
		name, ct string
		data     []byte
	}{
		{"html", "text/html", []byte("<html><body>Not Found</body></html>")},
		{"aiff", "audio/aiff", []byte("FORM\x00\x00\x00\x20AIFFCOMM")},
		{"empty mp3", "audio/mpeg", nil},
		{"mp3 garbage", "audio/mpeg", bytes.Repeat([]byte{0x12, 0x34}, 500)},
		{"truncated wav", "audio/wav", []byte("RIFF\x24\x00\x00\x00WAVEfmt ")},
		{"wav adpcm", "", makeWAV(wavEnc{tag: 2, bits: 4}, 8000, 1, 1000, 10*time.Millisecond)},
		{"id3 only", "", []byte("ID3\x04\x00\x00\x00\x00\x00\x05hello")},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := media.Decode(t.Context(), c.data, c.ct)
			if !errors.Is(err, media.ErrUnsupportedFormat) {
				t.Fatalf("err = %v, want ErrUnsupportedFormat", err)
			}
			if code := media.ErrorCode(err); code != media.CodeUnsupportedFormat {
				t.Errorf("code %d, want %d", code, media.CodeUnsupportedFormat)
			}
		})
	}
}

func TestDecodeReaderTooLarge(t *testing.T) {
	r := io.LimitReader(zeros{}, media.MaxFetchSize+1)
	if _, err := media.DecodeReader(t.Context(), r, "audio/ulaw"); !errors.Is(err, media.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestDecodeCancelled(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "audio", "tone-1000hz-44100-mono-id3.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(t.Context())
	cause := errors.New("caller hung up")
	cancel(cause)
	if _, err := media.Decode(ctx, data, "audio/mpeg"); !errors.Is(err, cause) {
		t.Fatalf("err = %v, want the context's cause", err)
	}
}

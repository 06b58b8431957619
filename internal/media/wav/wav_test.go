package wav_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/wav"
)

// build makes a WAV file; extra chunks go before "data".
func build(tag uint16, channels, rate, bits int, data []byte, extra ...[]byte) []byte {
	var b bytes.Buffer
	fmtChunk := make([]byte, 16)
	binary.LittleEndian.PutUint16(fmtChunk[0:], tag)
	binary.LittleEndian.PutUint16(fmtChunk[2:], uint16(channels))
	binary.LittleEndian.PutUint32(fmtChunk[4:], uint32(rate))
	binary.LittleEndian.PutUint32(fmtChunk[8:], uint32(rate*channels*bits/8))
	binary.LittleEndian.PutUint16(fmtChunk[12:], uint16(channels*bits/8))
	binary.LittleEndian.PutUint16(fmtChunk[14:], uint16(bits))
	if tag == 0xFFFE {
		ext := make([]byte, 24)
		binary.LittleEndian.PutUint16(ext[0:], 22)
		binary.LittleEndian.PutUint16(ext[8:], 1) // KSDATAFORMAT_SUBTYPE_PCM starts 01 00
		fmtChunk = append(fmtChunk, ext...)
	}
	chunk := func(id string, body []byte) {
		b.WriteString(id)
		binary.Write(&b, binary.LittleEndian, uint32(len(body)))
		b.Write(body)
		if len(body)%2 == 1 {
			b.WriteByte(0)
		}
	}
	b.WriteString("RIFF\x00\x00\x00\x00WAVE")
	chunk("fmt ", fmtChunk)
	for _, e := range extra {
		chunk("LIST", e)
	}
	chunk("data", data)
	out := b.Bytes()
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func sine(freq float64, n, rate int, amp float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
	}
	return out
}

func pcm16(x []float64, channels int) []byte {
	out := make([]byte, 0, 2*len(x)*channels)
	for _, v := range x {
		for range channels {
			out = binary.LittleEndian.AppendUint16(out, uint16(int16(v)))
		}
	}
	return out
}

// freq estimates the dominant frequency by counting zero crossings.
func freq(x []int16, rate int) float64 {
	n := 0
	for i := 1; i < len(x); i++ {
		if (x[i-1] < 0) != (x[i] < 0) {
			n++
		}
	}
	return float64(n) / 2 / (float64(len(x)) / float64(rate))
}

func rms(x []int16) float64 {
	s := 0.0
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func TestDecodeFormats(t *testing.T) {
	t.Parallel()
	tone := func(rate int) []float64 { return sine(1000, rate, rate, 10000) } // 1 s of 1 kHz
	alaw := codec.PCMA.Encode(make([]byte, 8000), toInt16(tone(8000)))
	ulaw := codec.PCMU.Encode(make([]byte, 8000), toInt16(tone(8000)))
	var float32s, pcm24, pcm8 []byte
	for _, v := range tone(16000) {
		float32s = binary.LittleEndian.AppendUint32(float32s, math.Float32bits(float32(v/32767)))
		s := int32(v * 256)
		pcm24 = append(pcm24, byte(s), byte(s>>8), byte(s>>16))
	}
	for _, v := range tone(8000) {
		pcm8 = append(pcm8, byte(int(v/256)+128))
	}
	tests := []struct {
		name     string
		file     []byte
		rate     int
		channels int
	}{
		{"8 kHz 16-bit mono", build(1, 1, 8000, 16, pcm16(tone(8000), 1)), 8000, 1},
		{"16 kHz 16-bit mono", build(1, 1, 16000, 16, pcm16(tone(16000), 1)), 16000, 1},
		{"44.1 kHz 16-bit stereo", build(1, 2, 44100, 16, pcm16(tone(44100), 2)), 44100, 2},
		{"22.05 kHz 16-bit mono, odd LIST chunk first", build(1, 1, 22050, 16, pcm16(tone(22050), 1), []byte("INFOabc")), 22050, 1},
		{"48 kHz extensible", build(0xFFFE, 1, 48000, 16, pcm16(tone(48000), 1)), 48000, 1},
		{"8 kHz A-law", build(6, 1, 8000, 8, alaw), 8000, 1},
		{"8 kHz µ-law", build(7, 1, 8000, 8, ulaw), 8000, 1},
		{"16 kHz float32", build(3, 1, 16000, 32, float32s), 16000, 1},
		{"16 kHz 24-bit", build(1, 1, 16000, 24, pcm24), 16000, 1},
		{"8 kHz 8-bit", build(1, 1, 8000, 8, pcm8), 8000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := wav.Decode(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if a.Rate != tt.rate || a.Channels != tt.channels {
				t.Fatalf("format %d Hz × %d, want %d × %d", a.Rate, a.Channels, tt.rate, tt.channels)
			}
			if d := a.Duration(); math.Abs(d-1) > 0.001 {
				t.Errorf("duration %.4f s, want 1 s", d)
			}
			pcm := a.To8kMono()
			if len(pcm) < 7990 || len(pcm) > 8000 {
				t.Errorf("8 kHz length %d, want about 8000", len(pcm))
			}
			if f := freq(pcm, 8000); math.Abs(f-1000) > 10 {
				t.Errorf("frequency %.1f Hz, want 1000", f)
			}
			if r := rms(pcm[100 : len(pcm)-100]); math.Abs(r-10000/math.Sqrt2) > 400 {
				t.Errorf("RMS %.0f, want %.0f", r, 10000/math.Sqrt2)
			}
		})
	}
}

func TestDecodeStreamedSize(t *testing.T) {
	t.Parallel()
	f := build(1, 1, 8000, 16, pcm16(sine(440, 800, 8000, 5000), 1))
	// A pipe writer cannot know the size: espeak-ng --stdout writes 0x7ffff000.
	binary.LittleEndian.PutUint32(f[len(f)-1600-4:], 0x7ffff000)
	a, err := wav.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Samples) != 800 {
		t.Errorf("%d samples, want 800", len(a.Samples))
	}
}

func TestDecodeMalformed(t *testing.T) {
	t.Parallel()
	good := build(1, 1, 8000, 16, pcm16(sine(440, 80, 8000, 5000), 1))
	tests := map[string][]byte{
		"empty":            nil,
		"not RIFF":         []byte("RIFX\x00\x00\x00\x00WAVEfmt "),
		"header only":      good[:12],
		"no data":          good[:36],
		"mp3 tag":          build(0x55, 1, 8000, 0, []byte{1, 2, 3}),
		"zero channels":    build(1, 0, 8000, 16, []byte{1, 2}),
		"absurd rate":      build(1, 1, 10, 16, []byte{1, 2}),
		"12-bit":           build(1, 1, 8000, 12, []byte{1, 2}),
		"short fmt":        append([]byte("RIFF\x10\x00\x00\x00WAVEfmt \x04\x00\x00\x00"), 1, 0, 1, 0),
		"short extensible": build(0xFFFE, 1, 8000, 16, nil)[:36],
	}
	for name, b := range tests {
		if _, err := wav.Decode(b); !errors.Is(err, wav.ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
}

func TestWriterRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wav.NewWriter(f, 8000)
	if err != nil {
		t.Fatal(err)
	}
	in := toInt16(sine(300, 1000, 8000, 8000))
	if err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSilence(500); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data, _ := os.ReadFile(path)
	a, err := wav.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != 8000 || a.Channels != 1 || len(a.Samples) != 1500 || a.Samples[1] != in[1] || a.Samples[1499] != 0 {
		t.Errorf("read back %d Hz × %d, %d samples", a.Rate, a.Channels, len(a.Samples))
	}
	if !bytes.Equal(data, wav.Encode(a.Samples, 8000)) {
		t.Error("Writer and Encode disagree")
	}
}

func TestResample(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		from    int
		freq    float64
		wantRMS float64 // relative to the input
		tol     float64
	}{
		{"16k passband 1 kHz", 16000, 1000, 1, 0.03},
		{"44.1k passband 2 kHz", 44100, 2000, 1, 0.05},
		{"16k above Nyquist (6 kHz) is filtered", 16000, 6000, 0, 0.03},
		{"44.1k above Nyquist (5 kHz) is filtered", 44100, 5000, 0, 0.03},
		{"22.05k far above (10 kHz)", 22050, 10000, 0, 0.01},
		{"up from 6 kHz", 6000, 500, 1, 0.03},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := toInt16(sine(tt.freq, tt.from, tt.from, 10000))
			out := wav.Resample(in, tt.from, 8000)
			if len(out) != 8000 {
				t.Fatalf("%d samples, want 8000", len(out))
			}
			got := rms(out[200:7800]) / rms(in)
			if math.Abs(got-tt.wantRMS) > tt.tol {
				t.Errorf("relative level %.3f, want %.2f ± %.2f", got, tt.wantRMS, tt.tol)
			}
			if tt.wantRMS > 0 {
				if f := freq(out[200:7800], 8000); math.Abs(f-tt.freq) > tt.freq*0.01 {
					t.Errorf("frequency %.1f, want %.0f", f, tt.freq)
				}
			}
		})
	}
	if got := wav.Resample([]int16{1, 2, 3}, 8000, 8000); len(got) != 3 {
		t.Error("same-rate resample changed the data")
	}
}

// TestDecodeSoxFiles reads what sox writes, when sox is installed (CI has it).
func TestDecodeSoxFiles(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sox"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sox is not installed (CI=true requires it)")
		}
		t.Skip("sox is not installed")
	}
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"},
		{"-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer"},
		{"-r", "44100", "-c", "2", "-b", "16", "-e", "signed-integer"},
		{"-r", "8000", "-c", "1", "-e", "a-law"},
		{"-r", "8000", "-c", "1", "-e", "u-law"},
		{"-r", "48000", "-c", "2", "-b", "24", "-e", "signed-integer"},
	} {
		path := filepath.Join(dir, "sox.wav")
		cmd := exec.Command("sox", append(append([]string{"-n"}, args...), path, "synth", "1", "sine", "1000", "vol", "0.3")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sox %v: %v: %s", args, err, out)
		}
		data, _ := os.ReadFile(path)
		a, err := wav.Decode(data)
		if err != nil {
			t.Errorf("sox %v: %v", args, err)
			continue
		}
		pcm := a.To8kMono()
		if f := freq(pcm, 8000); math.Abs(f-1000) > 10 || math.Abs(a.Duration()-1) > 0.01 {
			t.Errorf("sox %v: %.1f Hz, %.3f s", args, f, a.Duration())
		}
		if r := rms(pcm[100:7900]); math.Abs(r-0.3*32767/math.Sqrt2) > 500 {
			t.Errorf("sox %v: RMS %.0f", args, r)
		}
	}
}

func toInt16(x []float64) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(v)
	}
	return out
}

func FuzzDecode(f *testing.F) {
	f.Add(build(1, 1, 8000, 16, pcm16(sine(440, 80, 8000, 5000), 1)))
	f.Add(build(6, 1, 8000, 8, []byte{1, 2, 3}))
	f.Add(build(0xFFFE, 2, 44100, 16, []byte{1, 2, 3, 4}, []byte("x")))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := wav.Decode(b)
		if err == nil {
			_ = a.To8kMono()
		}
	})
}

// TestResamplerMatchesResample feeds a stream in uneven chunks and expects
// exactly what Resample gives for the whole input.
func TestResamplerMatchesResample(t *testing.T) {
	in := toInt16(sine(1000, 44100/3, 44100, 9000))
	for i := range in {
		in[i] += int16(i % 97 * 13)
	}
	for _, c := range []struct{ from, to int }{{44100, 8000}, {48000, 8000}, {16000, 8000}, {8000, 8000}, {6000, 8000}, {11025, 8000}, {8000, 44100}} {
		want := wav.Resample(in, c.from, c.to)
		r := wav.NewResampler(c.from, c.to)
		var got []int16
		for off, n := 0, 1; off < len(in); off, n = off+n, n*3%1001+1 {
			got = r.Write(got, in[off:min(off+n, len(in))])
		}
		got = r.Flush(got)
		if len(got) != len(want) {
			t.Fatalf("%d→%d: %d samples, want %d", c.from, c.to, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%d→%d: sample %d is %d, want %d", c.from, c.to, i, got[i], want[i])
			}
		}
	}
}

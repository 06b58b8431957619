// Package mediatest helps tests that need real media: a manager on
// loopback with a temporary data dir, two negotiated sessions, tones, WAV
// files and level measurements.
package mediatest

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/wav"
)

// Manager is a media manager on 127.0.0.1 with a temporary data dir.
// Options can adjust the config first.
func Manager(t testing.TB, opts ...func(*media.Config)) *media.Manager {
	t.Helper()
	cfg := media.Config{
		PublicIP: "127.0.0.1",
		BindIP:   "127.0.0.1",
		PortMin:  20000,
		PortMax:  29999,
		DataDir:  t.TempDir(),
		// Tests play files by path.
		LocalPaths: true,
	}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := media.NewManager(cfg, nil)
	if err != nil {
		t.Fatalf("media.NewManager: %v", err)
	}
	return m
}

// Session is a new session closed at the end of the test.
func Session(t testing.TB, m *media.Manager, callID string) *media.Session {
	t.Helper()
	s, err := m.NewSession(t.Context(), "acct", callID)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Connect negotiates a's offer with b's answer and starts both.
func Connect(t testing.TB, a, b *media.Session) {
	t.Helper()
	ans, err := b.Answer(a.Offer())
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}
	if err := a.SetAnswer(ans); err != nil {
		t.Fatalf("SetAnswer: %v", err)
	}
	if err := a.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := b.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

// Sine is a tone: dur seconds of freq Hz at amplitude amp (of 32767),
// sampled at rate.
func Sine(freq, dur float64, amp float64, rate int) []int16 {
	n := int(dur * float64(rate))
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// WriteWAV writes a 16-bit mono WAV file into the test's temp dir and
// returns its path.
func WriteWAV(t testing.TB, name string, samples []int16, rate int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, wav.Encode(samples, rate), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ReadWAV reads a WAV file.
func ReadWAV(t testing.TB, path string) wav.Audio {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := wav.Decode(data)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return a
}

// RMS is the root mean square level of samples, out of 32767.
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	sum := 0.0
	for _, v := range samples {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(samples)))
}

// DBFS is an RMS level in dB below full scale (-inf for silence).
func DBFS(rms float64) float64 { return 20 * math.Log10(rms/32767) }

// Voiced is the number of seconds in 20 ms frames louder than -40 dBFS.
func Voiced(samples []int16, rate int) float64 {
	frame := rate / 50
	n := 0
	for i := 0; i+frame <= len(samples); i += frame {
		if RMS(samples[i:i+frame]) > 328 {
			n++
		}
	}
	return float64(n) / 50
}

// RequireTool skips the test when the program is not installed, or fails
// it when CI=true (CI must have every tool).
func RequireTool(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (CI=true requires it)", name)
			}
			t.Skipf("%s is not installed", name)
		}
	}
}

// Frequency estimates the main frequency of the voiced (louder than
// -40 dBFS) 20 ms frames, by counting zero crossings inside them, so that
// gaps (a stalled sender) do not bias it.
func Frequency(samples []int16, rate int) float64 {
	frame := rate / 50
	crossings, n := 0, 0
	for i := 0; i+frame <= len(samples); i += frame {
		f := samples[i : i+frame]
		if RMS(f) < 328 {
			continue
		}
		for j := max(i, 1); j < i+frame; j++ {
			if (samples[j-1] < 0) != (samples[j] < 0) {
				crossings++
			}
		}
		n += frame
	}
	if n == 0 {
		return 0
	}
	return float64(crossings) / 2 / (float64(n) / float64(rate))
}

package dtmf_test

import (
	"math"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/switchboard/switchboard/internal/media/dtmf"
)

// offTone is key d with both tones moved by the same fraction dev of their
// frequency (Q.24's frequency deviation), each at amplitude amp, for ms
// milliseconds, starting at phase.
func offTone(d byte, dev, amp float64, ms int, phase float64) []int16 {
	lo, hi, _ := dtmf.Frequencies(d)
	lo, hi = lo*(1+dev), hi*(1+dev)
	out := make([]int16, 8*ms)
	for i := range out {
		t := float64(i) / 8000
		out[i] = int16(amp*math.Sin(2*math.Pi*lo*t+phase) + amp*math.Sin(2*math.Pi*hi*t+2*phase))
	}
	return out
}

// ITU-T Q.24's frequency tolerance: a key whose tones are within ±1.5 % of
// their nominal frequencies is detected, one off by ±3.5 % is not; for every
// key, both signs, and a few starting phases.
func TestGoertzelFrequencyDeviation(t *testing.T) {
	t.Parallel()
	for i := range len(dtmf.Digits) {
		d := dtmf.Digits[i]
		for _, dev := range []float64{-0.035, -0.015, 0, 0.015, 0.035} {
			want := string(d)
			if math.Abs(dev) > 0.02 {
				want = ""
			}
			for _, phase := range []float64{0, 1, 2.5} {
				pcm := append(append(silence(30), offTone(d, dev, 4000, 80, phase)...), silence(60)...)
				if got := detect(pcm); got != want {
					t.Errorf("key %c off by %+.1f %% (phase %.1f): detected %q, want %q", d, dev*100, phase, got, want)
				}
			}
		}
	}
}

// A key 1.5 % off its frequencies in noise (15 dB SNR) is still heard:
// the frequency check reads the tones' phase, which noise disturbs.
func TestGoertzelDeviationInNoise(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range len(dtmf.Digits) {
		d := dtmf.Digits[i]
		for _, dev := range []float64{-0.015, 0.015} {
			pcm := append(append(silence(30), offTone(d, dev, 4000, 80, float64(i))...), silence(60)...)
			for j := range pcm {
				pcm[j] = int16(max(-32768, min(32767, float64(pcm[j])+rng.NormFloat64()*700)))
			}
			if got := detect(pcm); got != string(d) {
				t.Errorf("key %c off by %+.1f %% in noise: detected %q", d, dev*100, got)
			}
		}
	}
}

// Q.24's twist: up to 4 dB either way is accepted (8 dB is the most any
// administration allows; ours is 8 dB), 14 dB is not, for every key.
func TestGoertzelTwistEveryKey(t *testing.T) {
	t.Parallel()
	for i := range len(dtmf.Digits) {
		d := dtmf.Digits[i]
		lo, hi, _ := dtmf.Frequencies(d)
		for _, tc := range []struct {
			db   float64 // high tone over low tone
			want bool
		}{{-4, true}, {4, true}, {-14, false}, {14, false}} {
			hiAmp := 3000 * math.Pow(10, tc.db/20)
			pcm := silence(30)
			for n := range 8 * 80 {
				t := float64(n) / 8000
				pcm = append(pcm, int16(3000*math.Sin(2*math.Pi*lo*t)+hiAmp*math.Sin(2*math.Pi*hi*t)))
			}
			pcm = append(pcm, silence(60)...)
			if got := detect(pcm); (got == string(d)) != tc.want {
				t.Errorf("key %c with %+.0f dB twist: detected %q", d, tc.db, got)
			}
		}
	}
}

// A key in the middle of speech-like sound and in music is still heard
// once, and nothing else is.
func TestGoertzelKeyOverSpeech(t *testing.T) {
	t.Parallel()
	voice := speechLike(2, 11)
	pcm := append([]int16(nil), voice[:8000]...)
	pcm = append(pcm, dtmf.Tone('9', 8*100, 8000, 6000)...)
	pcm = append(pcm, voice[8000:]...)
	if got := detect(pcm); got != "9" {
		t.Errorf("detected %q, want 9", got)
	}
}

// The detector's cost per 20 ms packet, on the signals a call carries:
// silence (the energy gate skips the filters), speech, and a key.
func BenchmarkDetector(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	quiet := make([]int16, 8000)
	for i := range quiet {
		quiet[i] = int16(rng.NormFloat64() * 30)
	}
	for _, sig := range []struct {
		name string
		pcm  []int16
	}{
		{"silence", quiet},
		{"speech", speechLike(1, 3)},
		{"key", dtmf.Tone('5', 8000, 8000, 5000)},
	} {
		b.Run(sig.name, func(b *testing.B) {
			d := dtmf.Detector{Emit: func(byte) {}}
			b.ReportAllocs()
			i := 0
			cpu0 := cpuTime()
			for b.Loop() {
				d.Write(sig.pcm[i : i+160])
				i = (i + 160) % len(sig.pcm)
			}
			// The process's CPU time per packet: on a loaded machine the
			// wall time also counts the time other processes ran.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user and system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

package media

import (
	"math"
	"testing"
	"time"
)

// goertzelShare is the share of a block's energy at freq.
func goertzelShare(pcm []int16, freq float64) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/8000)
	var s1, s2, energy float64
	for _, v := range pcm {
		x := float64(v) / 32768
		energy += x * x
		s0 := x + k*s1 - s2
		s2, s1 = s1, s0
	}
	if energy == 0 {
		return 0
	}
	return (s1*s1 + s2*s2 - k*s1*s2) / (float64(len(pcm)) / 2) / energy
}

// TestRingback: each country's cadence and frequencies; an unknown or
// empty ringTone rings as the United States.
func TestRingback(t *testing.T) {
	ms := func(d time.Duration) int { return int(d / time.Millisecond * 8) }
	for _, c := range []struct {
		tone     string
		length   time.Duration
		freqs    []float64
		silentAt time.Duration
	}{
		{"us", 6 * time.Second, []float64{440, 480}, 3 * time.Second},
		{"", 6 * time.Second, []float64{440, 480}, 3 * time.Second},
		{"zz", 6 * time.Second, []float64{440, 480}, 3 * time.Second},
		{"UK", 3 * time.Second, []float64{400, 450}, 500 * time.Millisecond},
		{"de", 5 * time.Second, []float64{425}, 2 * time.Second},
		{"fr", 5 * time.Second, []float64{440}, 2 * time.Second},
	} {
		pcm := Ringback(c.tone)
		if got := time.Duration(len(pcm)) * time.Second / 8000; got != c.length {
			t.Errorf("%q: %v long, want %v", c.tone, got, c.length)
		}
		on := pcm[ms(100*time.Millisecond):ms(300*time.Millisecond)]
		for _, f := range c.freqs {
			if s := goertzelShare(on, f); s < 0.8/float64(len(c.freqs)) {
				t.Errorf("%q: %v Hz has %.2f of the tone's energy", c.tone, f, s)
			}
		}
		off := pcm[ms(c.silentAt) : ms(c.silentAt)+80]
		for _, v := range off {
			if v != 0 {
				t.Errorf("%q: sound at %v, in the cadence's pause", c.tone, c.silentAt)
				break
			}
		}
	}
	if RingbackName("") != "ringback-us" || RingbackName("DE") != "ringback-de" || RingbackName("xx") != "ringback-us" {
		t.Errorf("names %s %s %s", RingbackName(""), RingbackName("DE"), RingbackName("xx"))
	}
	for _, n := range []string{"ringback-us", "ringback-uk", "ringback-jp"} {
		if _, ok := builtinSounds[n]; !ok {
			t.Errorf("builtin:%s missing", n)
		}
	}
}

package dtmf_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/media/dtmf"
)

func TestPayloadRoundTrip(t *testing.T) {
	t.Parallel()
	p := dtmf.Payload{Event: 11, End: true, Volume: 10, Duration: 800}
	var b [4]byte
	p.Put(b[:])
	if b != [4]byte{11, 0x8a, 0x03, 0x20} {
		t.Fatalf("wire = % x", b)
	}
	got, ok := dtmf.ParsePayload(b[:])
	if !ok || got != p {
		t.Fatalf("parsed %+v, %v", got, ok)
	}
	if _, ok := dtmf.ParsePayload(b[:3]); ok {
		t.Error("3-byte payload parsed")
	}
}

// pkt is one telephone-event packet as a sender would send it.
type pkt struct {
	ts  uint32
	ev  uint8
	end bool
	dur uint16
}

// event is what a sender sends for one key: start packets with growing
// duration, then three end packets, all with one timestamp.
func event(ts uint32, d byte) []pkt {
	ev, _ := dtmf.Event(d)
	var out []pkt
	for i := 1; i <= 5; i++ {
		out = append(out, pkt{ts, ev, false, uint16(160 * i)})
	}
	for range 3 {
		out = append(out, pkt{ts, ev, true, 800})
	}
	return out
}

func TestReceiver(t *testing.T) {
	t.Parallel()
	base := time.Unix(1000, 0)
	concat := func(ps ...[]pkt) []pkt {
		var out []pkt
		for _, p := range ps {
			out = append(out, p...)
		}
		return out
	}
	drop := func(ps []pkt, keep func(pkt) bool) []pkt {
		var out []pkt
		for _, p := range ps {
			if keep(p) {
				out = append(out, p)
			}
		}
		return out
	}
	noEnd := func(p pkt) bool { return !p.end }
	tests := []struct {
		name    string
		packets []pkt
		expire  bool // let the lost-end timeout pass at the end
		want    string
	}{
		{name: "one key", packets: event(1000, '5'), want: "5"},
		{name: "same key twice", packets: concat(event(1000, '1'), event(3000, '1')), want: "11"},
		{name: "sipp 1 then #", packets: concat(event(160, '1'), event(4000, '#')), want: "1#"},
		{name: "duplicated packets", packets: concat(event(1000, '7'), event(1000, '7'), event(1000, '7')), want: "7"},
		{name: "end packets only", packets: drop(event(1000, '9'), func(p pkt) bool { return p.end }), want: "9"},
		{name: "lost end, next key follows", packets: concat(drop(event(1000, '2'), noEnd), event(3000, '3')), want: "23"},
		{name: "lost end, then silence", packets: drop(event(1000, '4'), noEnd), expire: true, want: "4"},
		{name: "lost end, no timeout yet", packets: drop(event(1000, '4'), noEnd), want: ""},
		{name: "late end of an old event", packets: concat(event(1000, '6'), event(3000, '8'), []pkt{{1000, 6, true, 800}}), want: "68"},
		{name: "event out of range ignored", packets: []pkt{{1000, 16, true, 800}, {1000, 200, true, 800}}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []byte
			r := dtmf.Receiver{Emit: func(d byte) { got = append(got, d) }}
			now := base
			for _, p := range tt.packets {
				now = now.Add(20 * time.Millisecond)
				r.Packet(p.ts, dtmf.Payload{Event: p.ev, End: p.end, Duration: p.dur}, now)
				r.Expire(now)
			}
			if tt.expire {
				r.Expire(now.Add(dtmf.LostEndTimeout))
			}
			if string(got) != tt.want {
				t.Errorf("digits = %q, want %q", got, tt.want)
			}
		})
	}
}

func detect(pcm []int16) string {
	var got []byte
	d := dtmf.Detector{Emit: func(k byte) { got = append(got, k) }}
	// Feed in packet-sized pieces, as the receiver does.
	for len(pcm) > 0 {
		n := min(len(pcm), 160)
		d.Write(pcm[:n])
		pcm = pcm[n:]
	}
	return string(got)
}

func silence(ms int) []int16 { return make([]int16, 8*ms) }

func TestGoertzelKeys(t *testing.T) {
	t.Parallel()
	var pcm []int16
	pcm = append(pcm, silence(55)...) // not frame aligned
	for i := range len(dtmf.Digits) {
		pcm = append(pcm, dtmf.Tone(dtmf.Digits[i], 8*70, 8000, 5000)...)
		pcm = append(pcm, silence(60)...)
	}
	if got := detect(pcm); got != dtmf.Digits {
		t.Errorf("detected %q, want %q", got, dtmf.Digits)
	}
}

func TestGoertzelConditions(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(pcm []int16, amp float64) []int16 {
		out := make([]int16, len(pcm))
		for i, v := range pcm {
			out[i] = int16(max(-32768, min(32767, float64(v)+rng.NormFloat64()*amp)))
		}
		return out
	}
	twist := func(d byte, lowAmp, highAmp float64, ms int) []int16 {
		lo, hi, _ := dtmf.Frequencies(d)
		out := make([]int16, 8*ms)
		for i := range out {
			tt := float64(i) / 8000
			out[i] = int16(lowAmp*math.Sin(2*math.Pi*lo*tt) + highAmp*math.Sin(2*math.Pi*hi*tt))
		}
		return out
	}
	cat := func(ps ...[]int16) []int16 {
		var out []int16
		for _, p := range ps {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name string
		pcm  []int16
		want string
	}{
		{"long press is one key", cat(dtmf.Tone('5', 8*800, 8000, 5000), silence(50)), "5"},
		{"45 ms tone", cat(silence(10), dtmf.Tone('3', 8*45, 8000, 5000), silence(50)), "3"},
		{"20 ms blip is too short", cat(silence(10), dtmf.Tone('3', 8*20, 8000, 5000), silence(50)), ""},
		{"quiet keys (-36 dBFS a tone)", cat(dtmf.Tone('8', 8*80, 8000, 520), silence(50)), "8"},
		{"too quiet", cat(dtmf.Tone('8', 8*80, 8000, 150), silence(50)), ""},
		{"with noise at 15 dB SNR", noise(cat(dtmf.Tone('0', 8*80, 8000, 4000), silence(60), dtmf.Tone('#', 8*80, 8000, 4000), silence(60)), 700), "0#"},
		{"4 dB twist", cat(twist('6', 3000, 4800, 80), silence(50)), "6"},
		{"14 dB twist rejected", cat(twist('6', 800, 4000, 80), silence(50)), ""},
		{"single tone", cat(twist('1', 5000, 0, 200), silence(50)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detect(tt.pcm); got != tt.want {
				t.Errorf("detected %q, want %q", got, tt.want)
			}
		})
	}
}

// speechLike is a synthetic voice: a glottal pulse train (with a drifting
// pitch) through formant resonators that glide between vowels, plus
// breath noise, in syllables.
func speechLike(seconds float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	n := int(seconds * 8000)
	buf := make([]float64, n)
	type res struct{ y1, y2 float64 }
	var rs [3]res
	vowels := [][3]float64{{730, 1090, 2440}, {270, 2290, 3010}, {300, 870, 2240}, {530, 1840, 2480}, {660, 1720, 2410}, {570, 840, 2410}}
	phase := 0.0
	cur, next := vowels[0], vowels[1]
	for i := range buf {
		t := float64(i) / 8000
		seg := int(t / 0.25)
		frac := t/0.25 - float64(seg)
		if frac < 1.0/2000 {
			cur, next = next, vowels[rng.IntN(len(vowels))]
		}
		f0 := 110 + 30*math.Sin(2*math.Pi*0.7*t) + 20*rng.Float64()
		phase += f0 / 8000
		x := 0.0
		if phase >= 1 {
			phase -= 1
			x = 1
		}
		x += 0.02 * rng.NormFloat64()
		for k := range rs {
			f := cur[k] + (next[k]-cur[k])*frac
			bw := 80.0 + 40*float64(k)
			r := math.Exp(-math.Pi * bw / 8000)
			a1, a2 := 2*r*math.Cos(2*math.Pi*f/8000), -r*r
			y := x + a1*rs[k].y1 + a2*rs[k].y2
			rs[k].y2, rs[k].y1 = rs[k].y1, y
			x = y * (1 - r)
		}
		buf[i] = x * math.Sin(math.Pi*frac) // syllables
	}
	// Scale to speech level: RMS about -20 dBFS.
	sum := 0.0
	for _, v := range buf {
		sum += v * v
	}
	gain := 3300 / math.Sqrt(sum/float64(n))
	out := make([]int16, n)
	for i, v := range buf {
		out[i] = int16(max(-32768, min(32767, v*gain)))
	}
	return out
}

// music is chords of notes with harmonics, some right on DTMF
// frequencies (F5 = 698 Hz, E6 = 1319 Hz), as a melody over a chord.
func music(seconds float64) []int16 {
	n := int(seconds * 8000)
	out := make([]int16, n)
	notes := [][]float64{{261.6, 329.6, 392}, {349.2, 440, 523.3, 698.5}, {392, 493.9, 587.3, 1318.5}, {220, 261.6, 329.6, 880}}
	for i := range out {
		t := float64(i) / 8000
		chord := notes[int(t/0.5)%len(notes)]
		v := 0.0
		for _, f := range chord {
			for h, a := range []float64{1, 0.5, 0.3, 0.15} {
				v += a * math.Sin(2*math.Pi*f*float64(h+1)*t)
			}
		}
		out[i] = int16(v * 2500)
	}
	return out
}

func TestGoertzelNoFalsePositives(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	white := make([]int16, 8000*10)
	for i := range white {
		white[i] = int16(rng.NormFloat64() * 4000)
	}
	tests := []struct {
		name string
		pcm  []int16
	}{
		{"speech-like", speechLike(30, 1)},
		{"speech-like, another voice", speechLike(30, 7)},
		{"music chords", music(30)},
		{"white noise", white},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detect(tt.pcm); got != "" {
				t.Errorf("detected %q in %s", got, tt.name)
			}
		})
	}
}

func TestEventDigit(t *testing.T) {
	t.Parallel()
	for i := range len(dtmf.Digits) {
		ev, ok := dtmf.Event(dtmf.Digits[i])
		if !ok || int(ev) != i {
			t.Errorf("Event(%c) = %d, %v", dtmf.Digits[i], ev, ok)
		}
		if d, ok := dtmf.Digit(ev); !ok || d != dtmf.Digits[i] {
			t.Errorf("Digit(%d) = %c", ev, d)
		}
	}
	if _, ok := dtmf.Event('x'); ok {
		t.Error("Event(x) ok")
	}
	if ev, ok := dtmf.Event('b'); !ok || ev != 13 {
		t.Errorf("Event(b) = %d", ev)
	}
}

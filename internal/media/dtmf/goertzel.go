package dtmf

import "math"

// Detector finds DTMF keys in 8 kHz audio with the Goertzel algorithm, one
// 20 ms block at a time. A block holds a key when its strongest row and
// column tones carry most of the block's energy, stand well above the other
// tones of their group, are loud enough, are within 2.5 % of their nominal
// frequencies (the phase each advances from the block's first half to its
// second), and are within the twist limits; a key is reported once it is
// seen in two blocks in a row (40 ms), and again only after a gap. Quiet
// blocks stop at an energy gate and most speech after the column filters.
// It is not safe for concurrent use.
type Detector struct {
	// Emit is called with each key.
	Emit func(byte)

	buf      [detectorBlock]int16
	energy   int64 // Σ sample² of buf[:n]
	n        int
	cur      byte // key of the current run
	hits     int  // blocks in a row with cur
	misses   int  // blocks in a row without cur since the run started
	reported bool
}

const (
	detectorRate  = 8000
	detectorBlock = 160 // 20 ms, 50 Hz bins
	// minTonePower is the least mean power of each tone: a sine of
	// amplitude 300 (about -41 dBFS).
	minTonePower = 300 * 300 / 2
	// minFraction is the least share of the block's energy the two tones
	// must carry together (1.0 for a clean key).
	minFraction = 0.70
	// peakRatio is how much stronger (in power) the chosen tone must be
	// than any other tone of its group: about 7 dB.
	peakRatio = 5.0
	// Twist limits: the column tone may be up to 8 dB above the row tone,
	// the row tone up to 8 dB above the column one (Q.24 allows 4–8 dB).
	maxNormalTwist  = 6.3
	maxReverseTwist = 6.3
	confirmBlocks   = 2
	gapBlocks       = 2
)

// tone is one of the eight frequencies: its Goertzel coefficient 2·cos ω,
// the sine and cosine of ω (to turn the filter's state into a complex
// value), and of ω·half (to join the block's two halves at the nominal
// frequency).
type tone struct {
	coeff, cos, sin   float64
	joinCos, joinSin  float64
	nominal, maxShift float64 // ω·half mod 2π, and the largest accepted shift of it
}

// half is the length of the two halves of a block: the phase a tone
// advances from one half to the next gives its frequency, unambiguously
// within ±fs/(2·half) = ±50 Hz of the nominal one.
const half = detectorBlock / 2

// maxDeviation is how far off its nominal frequency a tone may be: ITU-T
// Q.24 asks for detection within ±1.5 % and for none beyond ±3.5 %.
const maxDeviation = 0.025

// minCoherence is the least share of a chosen tone's aligned power that
// remains at its nominal frequency over the whole block.
const minCoherence = 0.15

var tones = func() (t [8]tone) {
	for i, f := range append(rowHz[:], colHz[:]...) {
		w := 2 * math.Pi * f / detectorRate
		adv := math.Mod(w*half, 2*math.Pi)
		t[i] = tone{coeff: 2 * math.Cos(w), cos: math.Cos(w), sin: math.Sin(w),
			joinCos: math.Cos(-w * half), joinSin: math.Sin(-w * half),
			nominal: adv, maxShift: 2 * math.Pi * f * maxDeviation * half / detectorRate}
	}
	return t
}()

// Write feeds 8 kHz samples.
func (d *Detector) Write(pcm []int16) {
	for len(pcm) > 0 {
		k := copy(d.buf[d.n:], pcm)
		// The energy as the samples come, in integers: most blocks are
		// quiet, and the gate needs nothing else.
		var e int64
		for _, v := range pcm[:k] {
			e += int64(v) * int64(v)
		}
		d.energy += e
		pcm = pcm[k:]
		d.n += k
		if d.n == detectorBlock {
			d.n = 0
			d.block(classify(&d.buf, float64(d.energy)))
			d.energy = 0
		}
	}
}

func (d *Detector) block(k byte) {
	if k != 0 && k == d.cur {
		d.hits++
		d.misses = 0
	} else if k != 0 {
		d.cur, d.hits, d.misses, d.reported = k, 1, 0, false
	} else if d.cur != 0 {
		d.misses++
		if d.misses >= gapBlocks || !d.reported {
			d.cur, d.hits, d.misses, d.reported = 0, 0, 0, false
		}
	}
	if d.cur != 0 && !d.reported && d.hits >= confirmBlocks {
		d.reported = true
		if d.Emit != nil {
			d.Emit(d.cur)
		}
	}
}

// halves is the complex Goertzel output of one tone over each half of a
// block.
type halves struct{ re1, im1, re2, im2 float64 }

// goertzel4 runs four filters in one pass over x, each restarted at the
// half: the four recurrences are independent, so the processor overlaps
// them instead of waiting on one chain at a time.
func goertzel4(x *[detectorBlock]float64, t *[8]tone, first int, out *[8]halves) {
	c0, c1, c2, c3 := t[first].coeff, t[first+1].coeff, t[first+2].coeff, t[first+3].coeff
	var a1, a2, b1, b2, e1, e2, f1, f2 float64
	var st [2][8]float64
	for h := range 2 {
		a1, a2, b1, b2, e1, e2, f1, f2 = 0, 0, 0, 0, 0, 0, 0, 0
		for _, v := range x[h*half : h*half+half] {
			// (v − s2) + c·s1: only the multiply and one add wait on
			// the previous sample's s1.
			a1, a2 = (v-a2)+c0*a1, a1
			b1, b2 = (v-b2)+c1*b1, b1
			e1, e2 = (v-e2)+c2*e1, e1
			f1, f2 = (v-f2)+c3*f1, f1
		}
		st[h] = [8]float64{a1, a2, b1, b2, e1, e2, f1, f2}
	}
	for i := range 4 {
		tn := &t[first+i]
		// y = s1 − e^(−jω)·s2
		s1, s2 := st[0][2*i], st[0][2*i+1]
		o := &out[first+i]
		o.re1, o.im1 = s1-tn.cos*s2, tn.sin*s2
		s1, s2 = st[1][2*i], st[1][2*i+1]
		o.re2, o.im2 = s1-tn.cos*s2, tn.sin*s2
	}
}

// coherent is the power of the whole block at the tone's nominal
// frequency: the two halves joined with the phase the nominal tone
// advances between them.
func (h *halves) coherent(t *tone) float64 {
	re := h.re1 + t.joinCos*h.re2 - t.joinSin*h.im2
	im := h.im1 + t.joinCos*h.im2 + t.joinSin*h.re2
	return re*re + im*im
}

// aligned is the power of the whole block at the tone's own frequency
// within ±50 Hz of the nominal one: the halves joined in phase. With shift
// it also says how far (in radians per half) the tone's phase advance is
// from the nominal tone's, which is its frequency error.
func (h *halves) aligned(t *tone) (power, shift float64) {
	m1 := math.Sqrt(h.re1*h.re1 + h.im1*h.im1)
	m2 := math.Sqrt(h.re2*h.re2 + h.im2*h.im2)
	// arg(y2·conj(y1)) is the tone's phase advance over one half.
	re := h.re2*h.re1 + h.im2*h.im1
	im := h.im2*h.re1 - h.re2*h.im1
	shift = math.Remainder(math.Atan2(im, re)-t.nominal, 2*math.Pi)
	return (m1 + m2) * (m1 + m2), shift
}

// classify is the key a block holds, or 0.
// energy is Σ sample² of the block.
func classify(pcm *[detectorBlock]int16, energy float64) byte {
	// The energy gate: a block quieter than two tones at the least power
	// is no key, and most blocks of a call (silence, pauses) stop here.
	if energy/detectorBlock < 2*minTonePower {
		return 0
	}
	var x [detectorBlock]float64
	for i, v := range pcm {
		x[i] = float64(v)
	}
	// The column group first: speech carries little above 1.2 kHz, so most
	// of its blocks end there, before the row filters run.
	c, pc, ok := pick(&x, 4, energy)
	if !ok {
		return 0
	}
	r, pr, ok := pick(&x, 0, energy)
	if !ok {
		return 0
	}
	// The share of the energy (Σx² = N·mean power) in the two tones.
	if (pr+pc)*scale*detectorBlock < minFraction*energy {
		return 0
	}
	if pc > pr*maxNormalTwist || pr > pc*maxReverseTwist {
		return 0
	}
	return keypad[r][c]
}

// |X(f)|² of a sine of amplitude A over N samples is (A·N/2)²; its mean
// power is A²/2, so power = 2·|X|²/N².
const scale = 2.0 / (detectorBlock * detectorBlock)

// pick finds the tone of one group (first = 0 for the rows, 4 for the
// columns) that may be half of a key: the strongest at its nominal
// frequency, within maxDeviation of it, loud enough, well above the
// group's other tones, and strong enough that with the other group's tone
// at the greatest twist the two could carry minFraction of the energy. It
// returns the tone's index in its group and its aligned power.
func pick(x *[detectorBlock]float64, first int, energy float64) (int, float64, bool) {
	var hs [8]halves
	goertzel4(x, &tones, first, &hs)
	var p [4]float64
	for i := range p {
		p[i] = hs[first+i].coherent(&tones[first+i])
	}
	k := argmax(p[:])
	t := &tones[first+k]
	// The chosen tone at its own frequency: a key a little off its
	// nominal frequencies (Q.24 allows ±1.5 %) loses up to 4 dB at the
	// nominal one over a 20 ms block.
	pk, shift := hs[first+k].aligned(t)
	if math.Abs(shift) > t.maxShift {
		return 0, 0, false
	}
	// A column tone more than 50 Hz off (3.5 % of 1477 and 1633 Hz) has
	// its advance aliased into the accepted range; over the whole block at
	// the nominal frequency it then keeps almost nothing (≈ 5 % of its
	// aligned power, against ≥ 25 % within 2 %).
	if p[k] < minCoherence*pk {
		return 0, 0, false
	}
	if pk*scale < minTonePower {
		return 0, 0, false
	}
	if pk*scale*detectorBlock*(1+max(maxNormalTwist, maxReverseTwist)) < minFraction*energy {
		return 0, 0, false
	}
	for i := range p {
		if i != k && p[i]*peakRatio > pk {
			return 0, 0, false
		}
	}
	return k, pk, true
}

func argmax(p []float64) int {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}

package dtmf

import "math"

// Detector finds DTMF keys in 8 kHz audio with the Goertzel algorithm, one
// 20 ms block at a time. A block holds a key when its strongest row and
// column tones carry most of the block's energy, stand well above the other
// tones of their group, are loud enough, and are within the twist limits; a
// key is reported once it is seen in two blocks in a row (40 ms), and again
// only after a gap. It is not safe for concurrent use.
type Detector struct {
	// Emit is called with each key.
	Emit func(byte)

	buf      [detectorBlock]float64
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

var goertzelCoeff = func() (c [8]float64) {
	for i, f := range append(rowHz[:], colHz[:]...) {
		c[i] = 2 * math.Cos(2*math.Pi*f/detectorRate)
	}
	return c
}()

// Write feeds 8 kHz samples.
func (d *Detector) Write(pcm []int16) {
	for _, v := range pcm {
		d.buf[d.n] = float64(v)
		d.n++
		if d.n == detectorBlock {
			d.n = 0
			d.block(classify(&d.buf))
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

// classify is the key a block holds, or 0.
func classify(x *[detectorBlock]float64) byte {
	energy := 0.0
	for _, v := range x {
		energy += v * v
	}
	if energy/detectorBlock < 2*minTonePower {
		return 0
	}
	var p [8]float64
	for i, c := range goertzelCoeff {
		var s1, s2 float64
		for _, v := range x {
			s0 := v + c*s1 - s2
			s2, s1 = s1, s0
		}
		p[i] = s1*s1 + s2*s2 - c*s1*s2
	}
	r := argmax(p[0:4])
	c := argmax(p[4:8])
	pr, pc := p[r], p[4+c]
	// |X(f)|² of a sine of amplitude A over N samples is (A·N/2)²; its
	// mean power is A²/2, so power = 2·|X|²/N².
	const scale = 2.0 / (detectorBlock * detectorBlock)
	if pr*scale < minTonePower || pc*scale < minTonePower {
		return 0
	}
	// The share of the energy (Σx² = N·mean power) in the two tones.
	if (pr+pc)*scale*detectorBlock < minFraction*energy {
		return 0
	}
	if pc > pr*maxNormalTwist || pr > pc*maxReverseTwist {
		return 0
	}
	for i := range 4 {
		if i != r && p[i]*peakRatio > pr {
			return 0
		}
		if i != c && p[4+i]*peakRatio > pc {
			return 0
		}
	}
	return keypad[r][c]
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

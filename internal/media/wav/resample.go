package wav

import "math"

// Resample converts mono samples from one rate to another by linear
// interpolation. Going down, it first low-passes with a windowed-sinc FIR
// (evaluated only where the interpolation needs it), so that what is above
// the new Nyquist frequency does not fold back as aliasing.
func Resample(in []int16, from, to int) []int16 {
	if from == to || len(in) == 0 || from <= 0 || to <= 0 {
		return in
	}
	n := int(int64(len(in)) * int64(to) / int64(from))
	out := make([]int16, n)
	src := func(i int) float64 { return float64(in[i]) }
	if to < from {
		f := newLowPass(from, to)
		src = func(i int) float64 { return f.at(in, i) }
	}
	step := float64(from) / float64(to)
	last := len(in) - 1
	prevI, prevV := -1, 0.0
	for k := range out {
		pos := float64(k) * step
		i := int(pos)
		frac := pos - float64(i)
		var a float64
		if i == prevI {
			a = prevV
		} else {
			a = src(i)
		}
		b := a
		if i < last {
			b = src(i + 1)
		}
		prevI, prevV = i+1, b
		out[k] = clamp16(a + (b-a)*frac)
	}
	return out
}

type lowPass struct {
	taps []float64
	half int
}

// newLowPass designs a Blackman-windowed sinc with its cutoff at 85% of
// the output's Nyquist frequency (3.4 kHz for 8 kHz) and a transition band
// about a tenth of the output rate wide.
func newLowPass(from, to int) lowPass {
	fc := 0.425 * float64(to) / float64(from) // cycles per input sample
	n := int(math.Ceil(5.5*float64(from)/(0.1*float64(to)))) | 1
	n = min(max(n, 31), 255)
	taps := make([]float64, n)
	m := float64(n - 1)
	sum := 0.0
	for i := range taps {
		x := float64(i) - m/2
		s := 2 * fc
		if x != 0 {
			s = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/m) + 0.08*math.Cos(4*math.Pi*float64(i)/m)
		taps[i] = s * w
		sum += taps[i]
	}
	for i := range taps {
		taps[i] /= sum
	}
	return lowPass{taps: taps, half: n / 2}
}

// at is the filtered value of sample i (edges treated as zero).
func (f lowPass) at(in []int16, i int) float64 {
	start := i - f.half
	acc := 0.0
	for k, t := range f.taps {
		j := start + k
		if j < 0 || j >= len(in) {
			continue
		}
		acc += t * float64(in[j])
	}
	return acc
}

func clamp16(v float64) int16 {
	v = math.Round(v)
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

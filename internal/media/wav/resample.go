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
	if start >= 0 && start+len(f.taps) <= len(in) {
		// The common case, without a bounds test per tap.
		w := in[start : start+len(f.taps)]
		for k, t := range f.taps {
			acc += t * float64(w[k])
		}
		return acc
	}
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

// Resampler is Resample for a stream: it takes mono input chunk by chunk
// and gives exactly the samples Resample gives for the whole input, so a
// long decode (an MP3 at 44.1 kHz) never holds all of its source-rate
// audio at once. It is not safe for concurrent use.
type Resampler struct {
	from, to int
	step     float64
	lp       *lowPass // nil when not going down
	half     int64    // the filter's reach either side of a sample
	buf      []int16  // input from index base on
	base     int64
	total    int64 // input samples written
	k        int64 // next output index
	prevI    int64 // the input index whose value prevV holds
	prevV    float64
}

// NewResampler converts from one rate to another; rates of zero or less
// leave the samples as they are.
func NewResampler(from, to int) *Resampler {
	r := &Resampler{from: from, to: to, prevI: -1}
	if from > 0 && to > 0 {
		r.step = float64(from) / float64(to)
	}
	if to < from && to > 0 {
		f := newLowPass(from, to)
		r.lp, r.half = &f, int64(f.half)
	}
	return r
}

// Write feeds in and appends to out the output samples it completes.
func (r *Resampler) Write(out, in []int16) []int16 {
	if r.step == 0 || r.from == r.to {
		return append(out, in...)
	}
	r.buf = append(r.buf, in...)
	r.total += int64(len(in))
	out = r.emit(out, -1)
	// Drop the input no later output needs.
	next := int64(float64(r.k)*r.step) - r.half
	if drop := next - r.base; drop > 0 && drop <= int64(len(r.buf)) {
		n := copy(r.buf, r.buf[drop:])
		r.buf = r.buf[:n]
		r.base = next
	}
	return out
}

// Flush ends the input and appends the remaining output samples to out.
func (r *Resampler) Flush(out []int16) []int16 {
	if r.step == 0 || r.from == r.to {
		return out
	}
	n := r.total * int64(r.to) / int64(r.from)
	out = r.emit(out, n)
	r.buf = r.buf[:0]
	return out
}

// emit appends outputs up to index n (exclusive) at the end of input, or,
// with n < 0, those whose inputs have all arrived.
func (r *Resampler) emit(out []int16, n int64) []int16 {
	last := r.total - 1
	for ; n < 0 || r.k < n; r.k++ {
		pos := float64(r.k) * r.step
		i := int64(pos)
		if n < 0 && i+1+r.half >= r.total {
			break
		}
		frac := pos - float64(i)
		var a float64
		if i == r.prevI { // going up, one input serves several outputs
			a = r.prevV
		} else {
			a = r.src(i)
		}
		b := a
		if i < last {
			b = r.src(i + 1)
		}
		r.prevI, r.prevV = i+1, b
		out = append(out, clamp16(a+(b-a)*frac))
	}
	return out
}

// src is input sample i, low-passed when going down.
func (r *Resampler) src(i int64) float64 {
	j := int(i - r.base)
	if r.lp != nil {
		return r.lp.at(r.buf, j)
	}
	if j < 0 || j >= len(r.buf) {
		return 0
	}
	return float64(r.buf[j])
}

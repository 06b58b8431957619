// Package codec converts between 16-bit linear PCM and G.711 (µ-law, A-law)
// one 20 ms frame at a time, with lookup tables so that nothing allocates.
package codec

import "github.com/zaf/g711"

// Codec is a G.711 variant.
type Codec uint8

// The codecs we speak. The values are their static RTP payload types.
const (
	PCMU Codec = 0
	PCMA Codec = 8
)

// Rate is the sample rate of every codec here.
const Rate = 8000

// FrameSamples is the number of samples in one 20 ms frame at 8 kHz; a
// G.711 frame is as many bytes.
const FrameSamples = 160

// String is the SDP encoding name.
func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return "unknown"
}

// Silence is the byte that encodes a zero sample.
func (c Codec) Silence() byte {
	if c == PCMA {
		return 0xD5
	}
	return 0xFF
}

var (
	ulawToLinear = func() (t [256]int16) {
		for i := range t {
			t[i] = g711.DecodeUlawFrame(uint8(i))
		}
		return t
	}()
	alawToLinear = func() (t [256]int16) {
		for i := range t {
			t[i] = g711.DecodeAlawFrame(uint8(i))
		}
		return t
	}()
	ulawToAlaw = func() (t [256]byte) {
		for i := range t {
			t[i] = g711.Ulaw2AlawFrame(uint8(i))
		}
		return t
	}()
	alawToUlaw = func() (t [256]byte) {
		for i := range t {
			t[i] = g711.Alaw2UlawFrame(uint8(i))
		}
		return t
	}()
)

// Decode decodes G.711 bytes into dst (which must be at least len(src)
// long) and returns the samples written.
func (c Codec) Decode(dst []int16, src []byte) []int16 {
	t := &ulawToLinear
	if c == PCMA {
		t = &alawToLinear
	}
	dst = dst[:len(src)]
	for i, b := range src {
		dst[i] = t[b]
	}
	return dst
}

// Encode encodes linear samples into dst (at least len(src) long).
func (c Codec) Encode(dst []byte, src []int16) []byte {
	dst = dst[:len(src)]
	if c == PCMA {
		for i, v := range src {
			dst[i] = g711.EncodeAlawFrame(v)
		}
		return dst
	}
	for i, v := range src {
		dst[i] = g711.EncodeUlawFrame(v)
	}
	return dst
}

// EncodeFrames encodes pcm into whole 20 ms frames, padding the last frame
// with silence. The result's length is a multiple of FrameSamples.
func (c Codec) EncodeFrames(pcm []int16) []byte {
	n := (len(pcm) + FrameSamples - 1) / FrameSamples * FrameSamples
	out := make([]byte, n)
	c.Encode(out, pcm)
	for i := len(pcm); i < n; i++ {
		out[i] = c.Silence()
	}
	return out
}

// Transcode converts G.711 bytes from one codec to the other in place; it
// does nothing when from == to.
func Transcode(buf []byte, from, to Codec) {
	if from == to {
		return
	}
	t := &ulawToAlaw
	if from == PCMA {
		t = &alawToUlaw
	}
	for i, b := range buf {
		buf[i] = t[b]
	}
}

// Package wav reads RIFF WAVE files (PCM 8/16/24/32-bit, IEEE float, G.711
// A-law and µ-law, mono or multichannel, any rate) into 16-bit samples,
// writes 16-bit mono ones, and resamples.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/switchboard/switchboard/internal/media/codec"
)

// ErrFormat is returned for data that is not a WAV file we can read.
var ErrFormat = errors.New("wav: unsupported or malformed file")

// The WAVE format tags we read.
const (
	formatPCM        = 1
	formatFloat      = 3
	formatALaw       = 6
	formatULaw       = 7
	formatExtensible = 0xFFFE
)

// Audio is decoded audio: 16-bit samples, channels interleaved.
type Audio struct {
	Rate     int
	Channels int
	Samples  []int16
}

// Duration is the audio's length in seconds.
func (a Audio) Duration() float64 {
	if a.Rate == 0 || a.Channels == 0 {
		return 0
	}
	return float64(len(a.Samples)/a.Channels) / float64(a.Rate)
}

// Mono mixes the channels down to one (the average).
func (a Audio) Mono() []int16 {
	if a.Channels <= 1 {
		return a.Samples
	}
	n := len(a.Samples) / a.Channels
	out := make([]int16, n)
	for i := range n {
		sum := 0
		for c := range a.Channels {
			sum += int(a.Samples[i*a.Channels+c])
		}
		out[i] = int16(sum / a.Channels)
	}
	return out
}

// To8kMono is the audio as 8 kHz mono, the form we play.
func (a Audio) To8kMono() []int16 {
	return Resample(a.Mono(), a.Rate, codec.Rate)
}

// Decode parses a WAV file held in memory.
func Decode(data []byte) (Audio, error) {
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return Audio{}, fmt.Errorf("%w: no RIFF/WAVE header", ErrFormat)
	}
	var (
		haveFmt              bool
		tag                  uint16
		channels, rate, bits int
		body                 []byte
		haveData             bool
	)
	p := data[12:]
	for len(p) >= 8 {
		id := string(p[0:4])
		size := int64(binary.LittleEndian.Uint32(p[4:8]))
		p = p[8:]
		// Streamed files (a pipe) carry a bogus size; take what is there.
		if size > int64(len(p)) {
			size = int64(len(p))
		}
		chunk := p[:size]
		switch id {
		case "fmt ":
			if len(chunk) < 16 {
				return Audio{}, fmt.Errorf("%w: short fmt chunk", ErrFormat)
			}
			tag = binary.LittleEndian.Uint16(chunk[0:2])
			channels = int(binary.LittleEndian.Uint16(chunk[2:4]))
			rate = int(binary.LittleEndian.Uint32(chunk[4:8]))
			bits = int(binary.LittleEndian.Uint16(chunk[14:16]))
			if tag == formatExtensible {
				if len(chunk) < 26 {
					return Audio{}, fmt.Errorf("%w: short extensible fmt chunk", ErrFormat)
				}
				tag = binary.LittleEndian.Uint16(chunk[24:26])
			}
			haveFmt = true
		case "data":
			body = chunk
			haveData = true
		}
		if haveFmt && haveData {
			break
		}
		// Chunks are word aligned.
		if size%2 == 1 && size < int64(len(p)) {
			size++
		}
		p = p[size:]
	}
	if !haveFmt || !haveData {
		return Audio{}, fmt.Errorf("%w: missing fmt or data chunk", ErrFormat)
	}
	if channels < 1 || channels > 8 || rate < 1000 || rate > 384000 {
		return Audio{}, fmt.Errorf("%w: %d channels at %d Hz", ErrFormat, channels, rate)
	}
	samples, err := decodeSamples(tag, bits, body)
	if err != nil {
		return Audio{}, err
	}
	samples = samples[:len(samples)/channels*channels]
	return Audio{Rate: rate, Channels: channels, Samples: samples}, nil
}

func decodeSamples(tag uint16, bits int, body []byte) ([]int16, error) {
	switch {
	case tag == formatPCM && bits == 8:
		out := make([]int16, len(body))
		for i, b := range body {
			out[i] = int16(int(b)-128) << 8
		}
		return out, nil
	case tag == formatPCM && bits == 16:
		out := make([]int16, len(body)/2)
		for i := range out {
			out[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
		}
		return out, nil
	case tag == formatPCM && bits == 24:
		out := make([]int16, len(body)/3)
		for i := range out {
			out[i] = int16(uint16(body[3*i+1]) | uint16(body[3*i+2])<<8)
		}
		return out, nil
	case tag == formatPCM && bits == 32:
		out := make([]int16, len(body)/4)
		for i := range out {
			out[i] = int16(binary.LittleEndian.Uint32(body[4*i:]) >> 16)
		}
		return out, nil
	case tag == formatFloat && bits == 32:
		out := make([]int16, len(body)/4)
		for i := range out {
			out[i] = floatToInt16(float64(math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))))
		}
		return out, nil
	case tag == formatFloat && bits == 64:
		out := make([]int16, len(body)/8)
		for i := range out {
			out[i] = floatToInt16(math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:])))
		}
		return out, nil
	case tag == formatALaw && bits == 8:
		return codec.PCMA.Decode(make([]int16, len(body)), body), nil
	case tag == formatULaw && bits == 8:
		return codec.PCMU.Decode(make([]int16, len(body)), body), nil
	}
	return nil, fmt.Errorf("%w: format tag %d with %d bits", ErrFormat, tag, bits)
}

func floatToInt16(f float64) int16 {
	if f != f { // NaN
		return 0
	}
	v := f * 32767
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

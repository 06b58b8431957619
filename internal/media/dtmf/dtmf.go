// Package dtmf handles touch tones: RFC 4733 telephone-event payloads (parse,
// write, and a receiver that turns packets into one digit per event), and an
// in-band Goertzel detector for peers that send tones as audio.
package dtmf

import (
	"encoding/binary"
	"math"
	"strings"
	"time"
)

// Digits are the keys in RFC 4733 event order (events 0 to 15).
const Digits = "0123456789*#ABCD"

// Event is the RFC 4733 event code of a key.
func Event(d byte) (uint8, bool) {
	if d >= 'a' && d <= 'd' {
		d -= 'a' - 'A'
	}
	i := strings.IndexByte(Digits, d)
	if i < 0 {
		return 0, false
	}
	return uint8(i), true
}

// Digit is the key of an RFC 4733 event code.
func Digit(ev uint8) (byte, bool) {
	if int(ev) >= len(Digits) {
		return 0, false
	}
	return Digits[ev], true
}

// Valid reports whether d is a key.
func Valid(d byte) bool {
	_, ok := Event(d)
	return ok
}

// Payload is an RFC 4733 telephone-event payload.
type Payload struct {
	Event    uint8
	End      bool
	Volume   uint8 // 0..63, in -dBm0
	Duration uint16
}

// PayloadSize is the size of an RFC 4733 payload.
const PayloadSize = 4

// ParsePayload reads a payload; false when it is too short.
func ParsePayload(b []byte) (Payload, bool) {
	if len(b) < PayloadSize {
		return Payload{}, false
	}
	return Payload{
		Event:    b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:4]),
	}, true
}

// Put writes the payload into b (at least PayloadSize bytes).
func (p Payload) Put(b []byte) {
	b[0] = p.Event
	b[1] = p.Volume & 0x3f
	if p.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:4], p.Duration)
}

// LostEndTimeout is how long after an event's last packet the receiver
// gives up waiting for its end packets and emits the digit anyway.
const LostEndTimeout = 250 * time.Millisecond

// Receiver turns telephone-event packets into digits: one per event
// (events are told apart by their RTP timestamp), on the first end packet,
// and also for events whose end packets were lost, when the next event
// starts or after LostEndTimeout. It is not safe for concurrent use.
type Receiver struct {
	// Emit is called with each digit.
	Emit func(byte)

	active  bool
	ts      uint32
	event   uint8
	emitted bool
	last    time.Time
	recent  [8]uint32
	nrecent int
}

// Packet handles one packet with RTP timestamp ts, received at now.
func (r *Receiver) Packet(ts uint32, p Payload, now time.Time) {
	if _, ok := Digit(p.Event); !ok {
		return
	}
	if r.active && ts == r.ts {
		r.last = now
		if p.End && !r.emitted {
			r.emit()
		}
		return
	}
	if r.seen(ts) { // a late packet of an event already reported
		return
	}
	if r.active && !r.emitted { // the previous event lost its end packets
		r.emit()
	}
	r.active, r.ts, r.event, r.emitted, r.last = true, ts, p.Event, false, now
	if p.End {
		r.emit()
	}
}

// Pending reports whether an event started and was not reported yet.
func (r *Receiver) Pending() bool { return r.active && !r.emitted }

// Expire reports a pending event whose packets stopped LostEndTimeout ago.
func (r *Receiver) Expire(now time.Time) {
	if r.Pending() && now.Sub(r.last) >= LostEndTimeout {
		r.emit()
	}
}

func (r *Receiver) emit() {
	r.emitted = true
	r.recent[r.nrecent%len(r.recent)] = r.ts
	r.nrecent++
	if d, ok := Digit(r.event); ok && r.Emit != nil {
		r.Emit(d)
	}
}

func (r *Receiver) seen(ts uint32) bool {
	for i := range min(r.nrecent, len(r.recent)) {
		if r.recent[i] == ts {
			return true
		}
	}
	return false
}

var (
	rowHz = [4]float64{697, 770, 852, 941}
	colHz = [4]float64{1209, 1336, 1477, 1633}
)

// keypad[row][col]
var keypad = [4][4]byte{
	{'1', '2', '3', 'A'},
	{'4', '5', '6', 'B'},
	{'7', '8', '9', 'C'},
	{'*', '0', '#', 'D'},
}

// Frequencies are the low and high tone of a key.
func Frequencies(d byte) (low, high float64, ok bool) {
	if d >= 'a' && d <= 'd' {
		d -= 'a' - 'A'
	}
	for r := range keypad {
		for c := range keypad[r] {
			if keypad[r][c] == d {
				return rowHz[r], colHz[c], true
			}
		}
	}
	return 0, 0, false
}

// Tone synthesizes a key's dual tone: n samples at rate Hz, each tone at
// amplitude amp (out of 32767). A short ramp avoids clicks. Unknown keys
// give silence.
func Tone(d byte, n, rate int, amp float64) []int16 {
	out := make([]int16, n)
	lo, hi, ok := Frequencies(d)
	if !ok {
		return out
	}
	ramp := rate / 400 // 2.5 ms
	for i := range out {
		t := float64(i) / float64(rate)
		v := amp * (math.Sin(2*math.Pi*lo*t) + math.Sin(2*math.Pi*hi*t))
		if i < ramp {
			v *= float64(i) / float64(ramp)
		} else if n-i < ramp {
			v *= float64(n-i) / float64(ramp)
		}
		out[i] = int16(max(-32768, min(32767, v)))
	}
	return out
}

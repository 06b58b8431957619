package media

import (
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/dtmf"
)

// What RFC 4733 digits look like on the wire: 100 ms of tone (5 packets
// with growing duration, the first with the marker bit), the end packet
// sent 3 times, then 100 ms of silence before the next digit. 'w' waits
// 500 ms.
const (
	digitTonePackets = 5
	digitEndPackets  = 3
	digitGapPackets  = 5
	digitSteps       = digitTonePackets + digitEndPackets + digitGapPackets
	pauseSteps       = 25
	digitVolume      = 10 // -10 dBm0
)

var silence = [2][codec.FrameSamples]byte{
	func() (f [codec.FrameSamples]byte) {
		for i := range f {
			f[i] = codec.PCMU.Silence()
		}
		return f
	}(),
	func() (f [codec.FrameSamples]byte) {
		for i := range f {
			f[i] = codec.PCMA.Silence()
		}
		return f
	}(),
}

func silenceFrame(c codec.Codec) []byte {
	if c == codec.PCMA {
		return silence[1][:]
	}
	return silence[0][:]
}

type outputKind uint8

const (
	outAudio outputKind = iota
	outDigits
)

// output is what the pacer sends instead of silence: encoded audio frames
// (looped), or RFC 4733 digits. Its fields belong to the session's mu.
type output struct {
	kind   outputKind
	codec  codec.Codec
	frames []byte // whole 160-byte frames
	pos    int
	loops  int // plays left after this one

	digits []byte
	di     int
	step   int
	evTS   uint32

	done   chan struct{} // closed when finished or stopped
	closed atomic.Bool
}

func newAudioOutput(c codec.Codec, frames []byte, plays int) *output {
	return &output{kind: outAudio, codec: c, frames: frames, loops: plays - 1, done: make(chan struct{})}
}

func newDigitsOutput(digits string) *output {
	return &output{kind: outDigits, digits: []byte(digits), done: make(chan struct{})}
}

// finish ends the output (once; nil is fine).
func (o *output) finish() {
	if o != nil && o.closed.CompareAndSwap(false, true) {
		close(o.done)
	}
}

// setOutput makes o the session's output, ending the one before.
func (s *Session) setOutput(o *output) {
	s.mu.Lock()
	old := s.out
	s.out = o
	if s.closed {
		s.out = nil
		o.finish()
	}
	s.mu.Unlock()
	if old != o {
		old.finish()
	}
}

// stopOutput ends o if it is still the session's output.
func (s *Session) stopOutput(o *output) {
	s.mu.Lock()
	if s.out == o {
		s.out = nil
	}
	s.mu.Unlock()
	o.finish()
}

// tick builds the session's next packet and sends it at once (tests; the
// pacer queues it: tickBatch).
func (s *Session) tick(now time.Time) { s.tickBatch(now, nil) }

// tickBatch is the pacer's call, once per 20 ms: build the next packet
// (audio, digit event, relayed audio, or silence so the stream never
// stops) and queue it on b, which the pacer flushes at the end of its
// tick (nil: send it now). It does not allocate.
func (s *Session) tickBatch(now time.Time, b *sendBatch) {
	s.mu.Lock()
	if s.closed || !s.started || !s.haveNeg {
		s.mu.Unlock()
		return
	}
	relaying := s.rq.from != nil
	if s.sentAny {
		n := max((now.Sub(s.lastSend)+ptime/2)/ptime, 1)
		switch {
		case !relaying:
			s.ts += uint32(n) * frameTS
		case n >= rqStall:
			// The pacer stalled: the timeline follows the clock, and the
			// relayed audio of the missed ticks goes.
			s.ts += uint32(n) * frameTS
			s.rq.skipLocked(int(n - 1))
		default:
			// Relayed audio is one frame a tick: a late tick is still
			// the next 20 ms.
			s.ts += frameTS
		}
	}
	s.sentAny = true
	s.lastSend = now
	addr := s.remote
	send := s.neg.dir.Sends() && addr.Port() != 0 && !addr.Addr().IsUnspecified()
	// On hold the output still runs (a prompt takes its time, relayed
	// audio drains), but no sequence number is spent: the far end sees no
	// loss, only a timestamp jump.
	var n int
	if relaying {
		n = s.nextRelayPacketLocked(send, now)
	} else {
		n = s.nextPacketLocked(send)
	}
	s.rtcpCount++
	rtcpDue := s.rtcpCount >= rtcpEvery
	if rtcpDue {
		s.rtcpCount = 0
	}
	s.mu.Unlock()
	if send {
		if u, ok := s.w.(*udpSock); ok && b != nil {
			b.queue(s, u, s.sendBuf[:n], addr)
		} else {
			s.sent(s.w.WriteToUDPAddrPort(s.sendBuf[:n], addr))
		}
	}
	if rtcpDue {
		s.sendRTCP(now)
	}
}

// nextRelayPacketLocked writes the next frame of the relay queue into
// sendBuf and returns the packet's length. The session's own output (a
// Play started while bridged) waits for the bridge to end.
func (s *Session) nextRelayPacketLocked(send bool, now time.Time) int {
	if send {
		s.seq++
	}
	h := rtpHeader{pt: s.neg.pt, seq: s.seq, ts: s.ts, ssrc: s.ssrc}
	s.rq.popLocked(s.sendBuf[rtpHeaderLen:rtpHeaderLen+codec.FrameSamples], s.neg.codec, now)
	if s.marker && send {
		h.marker = true
		s.marker = false
	}
	putRTP(s.sendBuf[:], h)
	return rtpHeaderLen + codec.FrameSamples
}

// nextPacketLocked writes the next packet into sendBuf and returns its
// length.
func (s *Session) nextPacketLocked(send bool) int {
	if send {
		s.seq++
	}
	h := rtpHeader{pt: s.neg.pt, seq: s.seq, ts: s.ts, ssrc: s.ssrc}
	payload := s.sendBuf[rtpHeaderLen:]
	n := codec.FrameSamples
	o := s.out
	switch {
	case o == nil:
		copy(payload, silenceFrame(s.neg.codec))
	case o.kind == outAudio:
		if len(o.frames) < codec.FrameSamples {
			copy(payload, silenceFrame(s.neg.codec))
			s.out = nil
			o.finish()
			break
		}
		copy(payload, o.frames[o.pos:o.pos+codec.FrameSamples])
		codec.Transcode(payload[:n], o.codec, s.neg.codec)
		o.pos += codec.FrameSamples
		if o.pos+codec.FrameSamples > len(o.frames) {
			if o.loops > 0 {
				o.loops--
				o.pos = 0
			} else {
				s.out = nil
				o.finish()
			}
		}
	case o.kind == outDigits:
		n = s.nextDigitLocked(o, &h, payload)
	}
	if s.marker && send && h.pt == s.neg.pt {
		h.marker = true
		s.marker = false
	}
	putRTP(s.sendBuf[:], h)
	return rtpHeaderLen + n
}

func (s *Session) nextDigitLocked(o *output, h *rtpHeader, payload []byte) int {
	n := codec.FrameSamples
	copy(payload, silenceFrame(s.neg.codec))
	if o.di >= len(o.digits) {
		s.out = nil
		o.finish()
		return n
	}
	d := o.digits[o.di]
	steps := digitSteps
	if d == 'w' || d == 'W' {
		steps = pauseSteps
	} else if ev, ok := dtmf.Event(d); ok {
		if o.step == 0 {
			o.evTS = s.ts
		}
		switch {
		case o.step < digitTonePackets:
			dtmf.Payload{Event: ev, Volume: digitVolume, Duration: uint16((o.step + 1) * frameTS)}.Put(payload)
		case o.step < digitTonePackets+digitEndPackets:
			dtmf.Payload{Event: ev, End: true, Volume: digitVolume, Duration: digitTonePackets * frameTS}.Put(payload)
		}
		if o.step < digitTonePackets+digitEndPackets {
			h.pt, h.ts, h.marker = s.neg.tePT, o.evTS, o.step == 0
			n = dtmf.PayloadSize
		}
	} else {
		steps = 0 // not a key: skip it
	}
	o.step++
	if o.step >= steps {
		o.step = 0
		o.di++
		if o.di >= len(o.digits) {
			s.out = nil
			o.finish()
		}
	}
	return n
}

package media

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/dtmf"
)

// receiver is the receive state, used by the session's I/O loop only
// (ioloop.go).
type receiver struct {
	s            *Session
	jb           jitter
	dtmf         dtmf.Receiver
	teNegotiated atomic.Bool
	gotTE        bool
	waiting      bool // on the loop's housekeeping list (the loop's lock)
	codec        codec.Codec
	// dec decodes for recording and in-band DTMF, taken from decoders
	// when first needed: most calls (a phone offering telephone-event,
	// no recording) never decode, and its 1.4 kB would almost double a
	// Session.
	dec *decoder
}

// decoder is the receive side's decoding state.
type decoder struct {
	det dtmf.Detector
	pcm [maxPayload]int16
}

// decoders are the decoders of closed sessions, for new ones.
var decoders = sync.Pool{New: func() any { return new(decoder) }}

func (r *receiver) init(s *Session) {
	r.s = s
	r.jb.deliver = r.deliver
	r.dtmf.Emit = s.digits.push
}

// decoder returns r's decoder, taking one when r has none.
func (r *receiver) decoder() *decoder {
	if r.dec == nil {
		r.dec = decoders.Get().(*decoder)
		*r.dec = decoder{}
		r.dec.det.Emit = r.s.digits.push
	}
	return r.dec
}

// release gives the decoder back once nothing reads the session any more
// (Close, after the session left its I/O loop).
func (r *receiver) release() {
	if d := r.dec; d != nil {
		r.dec = nil
		d.det.Emit = nil
		decoders.Put(d)
	}
}

// rxStats feed RTCP reception reports.
type rxStats struct {
	init        bool
	ssrc        uint32
	baseSeq     uint32
	maxSeq      uint16
	cycles      uint32
	received    uint32
	jitter      float64
	lastTransit int64
	expPrior    uint32
	recvPrior   uint32
}

func (st *rxStats) update(h rtpHeader, audio bool, now time.Time) {
	if !st.init || st.ssrc != h.ssrc {
		*st = rxStats{init: true, ssrc: h.ssrc, baseSeq: uint32(h.seq), maxSeq: h.seq - 1}
	}
	st.received++
	if d := h.seq - st.maxSeq; d < 0x8000 && d != 0 {
		if h.seq < st.maxSeq {
			st.cycles += 1 << 16
		}
		st.maxSeq = h.seq
	}
	if audio {
		arrival := now.UnixNano() / (1e9 / codec.Rate)
		transit := arrival - int64(h.ts)
		if st.lastTransit != 0 {
			d := transit - st.lastTransit
			if d < 0 {
				d = -d
			}
			st.jitter += (float64(d) - st.jitter) / 16
		}
		st.lastTransit = transit
	}
}

// pending reports whether something waits for housekeeping: a jitter
// buffer holding packets behind a gap, a digit whose end has not come.
func (r *receiver) pending() bool { return r.jb.count > 0 || r.dtmf.Pending() }

// handlePacket checks one datagram: RTP with a negotiated payload type,
// from an address the call named (latch.go), on the latched port once one
// is latched (the first valid packet latches it: symmetric RTP). Anything
// else is dropped and counted.
func (s *Session) handlePacket(b []byte, src netip.AddrPort, now time.Time) {
	h, payload, ok := parseRTP(b)
	if !ok || len(payload) > maxPayload {
		s.dropped.Add(1)
		return
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	s.mu.Lock()
	neg := s.neg
	te := neg.hasTE && h.pt == neg.tePT
	switch {
	case !s.haveNeg || s.closed:
		s.mu.Unlock()
		s.dropped.Add(1)
		return
	case !s.allowedLocked(src.Addr()):
		s.mu.Unlock()
		s.dropStranger()
		return
	case h.pt != neg.pt && !te,
		te && len(payload) < dtmf.PayloadSize,
		!te && len(payload) == 0,
		!s.latchLocked(src):
		s.mu.Unlock()
		s.dropped.Add(1)
		return
	}
	s.rxStats.update(h, !te, now)
	s.mu.Unlock()
	s.lastHeard.Store(now.UnixNano())
	s.packetsReceived.Add(1)
	s.bytesReceived.Add(uint64(len(b)))
	if l := s.link.Load(); l != nil {
		l.relay(h, payload, te, neg.codec, now)
	}
	s.rx.codec = neg.codec
	s.rx.jb.push(h, te, payload, now)
}

// deliver gets packets in sequence order from the jitter buffer.
func (r *receiver) deliver(h rtpHeader, te bool, payload []byte, now time.Time) {
	if te {
		if p, ok := dtmf.ParsePayload(payload); ok {
			r.gotTE = true
			r.dtmf.Packet(h.ts, p, now)
		}
		return
	}
	rec, taps := r.s.rec.Load(), r.s.taps.Load()
	// While bridged, in-band tones are the far party's to hear (relayed
	// as audio), not keys for this leg: no detection, which would cost
	// more than the relay itself (BenchmarkRelay/wire/…/inband-digits),
	// unless a Gather waits for this leg's keys (hangupOnStar's *).
	inband := !r.teNegotiated.Load() && !r.gotTE && (r.s.link.Load() == nil || r.s.gathering.Load() > 0)
	if rec == nil && taps == nil && !inband {
		return
	}
	d := r.decoder()
	pcm := r.codec.Decode(d.pcm[:], payload)
	if rec != nil {
		rec.write(h.ts, pcm, now)
	}
	if taps != nil {
		for _, t := range *taps {
			t.write(h.ts, pcm, now)
		}
	}
	if inband {
		d.det.Write(pcm)
	}
}

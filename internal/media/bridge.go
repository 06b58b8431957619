package media

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard/switchboard/internal/media/codec"
)

// ErrBridged is returned by Bridge when a session is already bridged.
var ErrBridged = errors.New("media session already bridged")

// bridgeLink relays one direction of a bridge: packets that reach the
// session holding it go out of to, rewritten as to's stream (its SSRC, and
// sequence numbers and timestamps continuing its own), transcoded between
// PCMU and PCMA when the legs differ. telephone-event packets pass with
// to's payload type. Only the holding session's reader goroutine uses it.
type bridgeLink struct {
	to       *Session
	buf      [rtpHeaderLen + maxPayload]byte
	anchored bool // under to.mu from here on
	inSSRC   uint32
	seqDelta uint16
	tsDelta  uint32
}

// Bridge relays audio and DTMF both ways between s and other until ctx
// ends or either side closes. It returns nil when a side closed, and the
// context's cause when ctx ended. While bridged, each leg's own output
// (Play …) is replaced by what the other leg receives; when nothing comes
// for 60 ms (the other side on hold, say) silence fills in.
func (s *Session) Bridge(ctx context.Context, other *Session) error {
	if other == nil || other == s {
		return errors.New("media: bridge needs two sessions")
	}
	if err := s.ready(); err != nil {
		return err
	}
	if err := other.ready(); err != nil {
		return err
	}
	ab, ba := &bridgeLink{to: other}, &bridgeLink{to: s}
	if !s.link.CompareAndSwap(nil, ab) {
		return ErrBridged
	}
	if !other.link.CompareAndSwap(nil, ba) {
		s.link.CompareAndSwap(ab, nil)
		return ErrBridged
	}
	s.setOutput(nil)
	other.setOutput(nil)
	s.setRelay(true)
	other.setRelay(true)
	defer func() {
		s.link.CompareAndSwap(ab, nil)
		other.link.CompareAndSwap(ba, nil)
		s.setRelay(false)
		other.setRelay(false)
	}()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-s.done:
		return nil
	case <-other.done:
		return nil
	}
}

func (s *Session) setRelay(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.relayActive = on
	s.resync = true
	s.lastRelay = time.Time{}
	s.marker = true
}

// relay sends one packet received by the far side of the link out of to.
func (l *bridgeLink) relay(h rtpHeader, payload []byte, te bool, from codec.Codec, now time.Time) {
	to := l.to
	to.mu.Lock()
	if to.closed || !to.relayActive || !to.haveNeg || (te && !to.neg.hasTE) {
		to.mu.Unlock()
		return
	}
	pt := to.neg.pt
	if te {
		pt = to.neg.tePT
	}
	marker := h.marker
	if !l.anchored || h.ssrc != l.inSSRC || to.resync {
		// Continue to's stream where it stands: the next sequence number,
		// and its timestamp moved on by the time since its last packet.
		base := to.ts
		if to.sentAny {
			n := (now.Sub(to.lastSend) + ptime/2) / ptime
			base += uint32(max(n, 1)) * frameTS
		}
		l.tsDelta = base - h.ts
		l.seqDelta = to.seq + 1 - h.seq
		l.inSSRC, l.anchored, to.resync = h.ssrc, true, false
		marker = marker || !te
	}
	seq, ts := h.seq+l.seqDelta, h.ts+l.tsDelta
	if int16(seq-to.seq) > 0 {
		to.seq = seq
	}
	if int32(ts-to.ts) > 0 {
		to.ts = ts
	}
	to.sentAny, to.lastSend, to.lastRelay = true, now, now
	addr, toCodec, ssrc := to.remote, to.neg.codec, to.ssrc
	send := to.neg.dir.Sends() && addr.Port() != 0 && !addr.Addr().IsUnspecified()
	to.mu.Unlock()
	if !send {
		return
	}
	putRTP(l.buf[:], rtpHeader{marker: marker, pt: pt, seq: seq, ts: ts, ssrc: ssrc})
	n := copy(l.buf[rtpHeaderLen:], payload)
	if !te {
		codec.Transcode(l.buf[rtpHeaderLen:rtpHeaderLen+n], from, toCodec)
	}
	if _, err := to.w.WriteToUDPAddrPort(l.buf[:rtpHeaderLen+n], addr); err == nil {
		to.packetsSent.Add(1)
		to.bytesSent.Add(uint64(rtpHeaderLen + n))
		to.octetsSent.Add(uint64(n))
	}
}

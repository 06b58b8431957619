package media

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard/switchboard/internal/media/codec"
)

// ErrBridged is returned by Bridge when a session is already bridged.
var ErrBridged = errors.New("media session already bridged")

// bridgeLink relays one direction of a bridge: what the session holding it
// receives goes out of to. Audio is queued in to's relay queue, converted
// between PCMU and PCMA when the legs differ, and leaves on to's own pacer
// tick (bridge_queue.go); telephone-event packets go out at once, with
// to's payload type, on to's timeline. Only the holding session's reader
// goroutine uses it.
type bridgeLink struct {
	to  *Session
	buf [rtpHeaderLen + maxPayload]byte
}

// Bridge relays audio and DTMF both ways between s and other until ctx
// ends or either side closes. It returns nil when a side closed, and the
// context's cause when ctx ended. While bridged, each leg sends what the
// other leg receives, re-paced on its own 20 ms tick with its own sequence
// numbers and timestamps (the first packet after the bridge begins carries
// the marker); when nothing comes (the other side on hold, say) silence
// fills in. A leg's own output (Play …) waits until the bridge ends.
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
	s.startRelay(ba)
	other.startRelay(ab)
	defer func() {
		s.link.CompareAndSwap(ab, nil)
		other.link.CompareAndSwap(ba, nil)
		s.stopRelay(ba)
		other.stopRelay(ab)
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

// startRelay makes l the feed of s's relay queue, empty, and marks the
// next packet: a new stream begins, on s's timeline.
func (s *Session) startRelay(l *bridgeLink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rq.from = l
	s.rq.resetLocked(s.neg.codec)
	s.marker = true
}

// stopRelay ends l's feed of s (if it still is the feed).
func (s *Session) stopRelay(l *bridgeLink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rq.from == l {
		s.rq.from = nil
		s.marker = true
	}
}

// relay takes one packet received by the far side of the link: audio into
// to's queue, a telephone-event packet out of to at once.
func (l *bridgeLink) relay(h rtpHeader, payload []byte, te bool, from codec.Codec, now time.Time) {
	to := l.to
	to.mu.Lock()
	if to.rq.from != l || to.closed || !to.haveNeg {
		to.mu.Unlock()
		return
	}
	if !te {
		to.rq.pushLocked(h, payload, from, to.neg.codec)
		to.mu.Unlock()
		return
	}
	q := &to.rq
	if !to.neg.hasTE {
		to.mu.Unlock()
		return
	}
	if !q.te || h.ssrc != q.teSSRC || h.ts != q.teIn {
		// A new event starts now on to's timeline; its later packets and
		// the end packet's repeats keep that timestamp.
		out := to.ts
		if q.te && out == q.teOut {
			out++ // two events within a tick must stay two
		}
		q.te, q.teSSRC, q.teIn, q.teOut, q.teMarker = true, h.ssrc, h.ts, out, true
	}
	q.teAt = now
	addr := to.remote
	if !to.neg.dir.Sends() || addr.Port() == 0 || addr.Addr().IsUnspecified() {
		to.mu.Unlock()
		return
	}
	to.seq++
	hdr := rtpHeader{marker: q.teMarker, pt: to.neg.tePT, seq: to.seq, ts: q.teOut, ssrc: to.ssrc}
	q.teMarker = false
	to.mu.Unlock()
	putRTP(l.buf[:], hdr)
	n := copy(l.buf[rtpHeaderLen:], payload)
	if _, err := to.w.WriteToUDPAddrPort(l.buf[:rtpHeaderLen+n], addr); err == nil {
		to.packetsSent.Add(1)
		to.bytesSent.Add(uint64(rtpHeaderLen + n))
		to.octetsSent.Add(uint64(n))
	}
}

package media

import (
	"bytes"
	"fmt"

	"github.com/switchboard/switchboard/internal/media/sdp"
)

// Answer negotiates an SDP offer and returns our answer: ErrBadSDP when it
// does not parse, ErrNoCodec when it has no codec we speak. The answer
// uses the offer's payload type numbers and its first codec we speak, plus
// telephone-event when offered.
func (s *Session) Answer(offer []byte) ([]byte, error) {
	d, ch, err := parseOffer(offer)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	s.applyLocked(ch, sdp.AnswerTo(ch.Direction, s.localDir))
	formats := []sdp.Format{{PT: ch.Codec.PT, Name: s.neg.codec.String(), Rate: 8000}}
	if ch.HasTE {
		fmtp := ch.TE.Fmtp
		if fmtp == "" {
			fmtp = "0-15"
		}
		formats = append(formats, sdp.Format{PT: ch.TE.PT, Name: "telephone-event", Rate: 8000, Fmtp: fmtp})
	}
	return s.writeSDPLocked(func(l sdp.Local) ([]byte, error) { return sdp.Answer(d, ch.Index, l) }, formats, s.neg.dir)
}

// Update handles a re-INVITE's offer: hold (sendonly/inactive), resume,
// codec or address change. It returns the new answer.
func (s *Session) Update(offer []byte) ([]byte, error) { return s.Answer(offer) }

// Offer is our SDP offer, for an outbound leg: PCMU, PCMA and
// telephone-event 101. Called again (after Hold, say) it is a re-offer
// with the o= version bumped when anything changed.
func (s *Session) Offer() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.writeSDPLocked(sdp.Offer, sdp.DefaultFormats(), s.localDir)
	if err != nil {
		s.logger().Error("sdp offer failed", "err", err)
		return nil
	}
	return b
}

// SetAnswer takes the far end's answer to Offer.
func (s *Session) SetAnswer(answer []byte) error {
	_, ch, err := parseOffer(answer)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	// Our direction is what we offered, narrowed by what they answered.
	s.applyLocked(ch, sdp.AnswerTo(ch.Direction, s.localDir))
	return nil
}

func parseOffer(b []byte) (*sdp.Description, sdp.Choice, error) {
	d, err := sdp.Parse(b)
	if err != nil {
		return nil, sdp.Choice{}, fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	ch, err := d.Select()
	if err != nil {
		return nil, sdp.Choice{}, fmt.Errorf("%w: %v", ErrNoCodec, err)
	}
	return d, ch, nil
}

// applyLocked adopts a negotiated stream. A new far-end address drops the
// symmetric-RTP latch; a new codec starts a new talkspurt (marker bit).
func (s *Session) applyLocked(ch sdp.Choice, dir sdp.Direction) {
	c, _ := ch.Codec.Codec()
	n := negotiation{
		codec:      c,
		pt:         ch.Codec.PT,
		tePT:       ch.TE.PT,
		hasTE:      ch.HasTE,
		dir:        dir,
		remote:     ch.Media.RTPAddr(),
		remoteRTCP: ch.Media.RTCPAddr(),
	}
	if !s.haveNeg || n.remote != s.neg.remote {
		s.remote, s.remoteRTCP = n.remote, n.remoteRTCP
		s.latched, s.rtcpLatched = false, false
	}
	if s.haveNeg && (n.codec != s.neg.codec || n.pt != s.neg.pt || n.dir.Sends() && !s.neg.dir.Sends()) {
		s.marker = true
	}
	s.neg = n
	s.haveNeg = true
	s.rx.teNegotiated.Store(n.hasTE)
}

// writeSDPLocked writes our SDP with build. The o= version goes up by one
// whenever the body differs from the last one we sent (RFC 3264 §8), and
// stays when it is the same.
func (s *Session) writeSDPLocked(build func(sdp.Local) ([]byte, error), formats []sdp.Format, dir sdp.Direction) ([]byte, error) {
	l := sdp.Local{
		IP: s.m.publicIP, Port: s.port, SessionID: s.sdpID, Version: s.sdpVersion,
		Direction: dir, Formats: formats,
	}
	b, err := build(l)
	if err != nil {
		return nil, err
	}
	if !sameButOrigin(b, s.lastSDP) {
		s.sdpVersion++
		l.Version = s.sdpVersion
		if b, err = build(l); err != nil {
			return nil, err
		}
	}
	s.lastSDP = b
	return b, nil
}

// sameButOrigin compares two SDP bodies ignoring the o= line.
func sameButOrigin(a, b []byte) bool {
	if a == nil || b == nil {
		return false
	}
	strip := func(x []byte) []byte {
		i := bytes.Index(x, []byte("\no="))
		if i < 0 {
			return x
		}
		j := bytes.IndexByte(x[i+1:], '\n')
		if j < 0 {
			return x[:i]
		}
		return append(append([]byte{}, x[:i]...), x[i+1+j:]...)
	}
	return bytes.Equal(strip(a), strip(b))
}

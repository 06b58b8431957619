package sip

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
)

// Media allocates the RTP side of call legs. NewMedia adapts the real
// *media.Manager; tests give a fake so that signalling runs without RTP.
type Media interface {
	NewSession(ctx context.Context, accountID, callID string) (MediaSession, error)
}

// MediaSession is one leg's audio, as internal/media's Session offers it.
// Errors from Answer, SetAnswer and Update wrapping media.ErrBadSDP or
// media.ErrNoCodec make the SIP layer answer 488.
type MediaSession interface {
	Answer(offer []byte) ([]byte, error)
	Offer() []byte
	SetAnswer(answer []byte) error
	Update(offer []byte) ([]byte, error)
	Start() error
	// Activity is when media last came from the far end (Start counts)
	// and whether the stream is on hold either way; zero before Start.
	Activity() (last time.Time, held bool)
	// AllowSource lets media come from the address the call's signalling
	// came from, besides the SDP's (a phone behind NAT); every other
	// address is dropped.
	AllowSource(ip netip.Addr)
	Play(ctx context.Context, o call.PlayOptions) error
	Say(ctx context.Context, o call.SayOptions) error
	Pause(ctx context.Context, d time.Duration) error
	Gather(ctx context.Context, o call.GatherOptions) (string, error)
	Record(ctx context.Context, o call.RecordOptions) (call.Recording, error)
	SendDigits(ctx context.Context, digits string) error
	InjectDigit(d byte)
	// Bridge relays audio and DTMF between this session and other (from
	// the same Media) until ctx ends or either side closes.
	Bridge(ctx context.Context, other MediaSession) error
	Close() error
}

// NewMedia adapts a *media.Manager.
func NewMedia(m *media.Manager) Media { return realMedia{m} }

type realMedia struct{ m *media.Manager }

func (r realMedia) NewSession(ctx context.Context, accountID, callID string) (MediaSession, error) {
	s, err := r.m.NewSession(ctx, accountID, callID)
	if err != nil {
		return nil, err
	}
	return realSession{s}, nil
}

// realSession is a *media.Session whose Bridge takes the interface.
type realSession struct{ *media.Session }

func (s realSession) Bridge(ctx context.Context, other MediaSession) error {
	o, ok := other.(realSession)
	if !ok {
		return fmt.Errorf("bridge: other leg's media is %T, not a media session", other)
	}
	return s.Session.Bridge(ctx, o.Session)
}

var _ MediaSession = realSession{}

// signalAddr is the IP of a message's transport source ("198.51.100.7:5060"),
// invalid when it cannot be read.
func signalAddr(source string) netip.Addr {
	ap, err := netip.ParseAddrPort(source)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// Package media is Switchboard's RTP media layer: SDP offer/answer (PCMU,
// PCMA, telephone-event), symmetric RTP at 20 ms, RFC 4733 DTMF (and SIP
// INFO digits fed in, and in-band Goertzel as a fallback), WAV playback
// (paths, stored media, HTTP URLs, cached), text to speech through flite or
// espeak-ng, recording with silence detection, and bridging two legs. It
// knows nothing of SIP dialogs: internal/sip drives it.
//
// This file is the contract internal/sip codes against.
package media

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/switchboard/switchboard/internal/call"
)

// ErrNoCodec is returned by Answer when the offer has no codec we speak
// (the SIP layer answers 488).
var ErrNoCodec = errors.New("no common codec")

// ErrBadSDP is returned for an SDP that does not parse (488 too).
var ErrBadSDP = errors.New("malformed SDP")

// Config sets up media for the whole server; a zero field means the
// documented default.
type Config struct {
	// PublicIP is the address written in SDP c= lines; "127.0.0.1" when
	// empty.
	PublicIP string
	// BindIP is the local address RTP sockets bind to; "0.0.0.0" when empty.
	BindIP string
	// PortMin and PortMax bound the RTP ports (even ports; default 10000 to
	// 20000).
	PortMin, PortMax int
	// DataDir holds recordings (DataDir/recordings) and the media cache
	// (DataDir/cache).
	DataDir string
	// TTS is "flite", "espeak-ng", or "" for the first one installed.
	TTS string
	// HTTPClient fetches http(s) media; nil = a client with a 10 s timeout.
	// (Typed any here to keep this contract free of net/http; the
	// implementation asserts *http.Client.)
	HTTPClient any
	// RecordingURL turns a recording file name into the authenticated URL
	// the API serves it at; nil = the file path.
	RecordingURL func(accountID, file string) string
}

// Stats are a session's RTP counters.
type Stats struct {
	PacketsSent, PacketsReceived uint64
	BytesSent, BytesReceived     uint64
	Dropped                      uint64 // garbage, wrong source, wrong payload type
	Codec                        string // "PCMU" or "PCMA"
}

// Manager allocates RTP sessions; one per server. NewManager builds it.
type Manager struct {
	cfg Config
	log *slog.Logger
}

// NewManager checks the configuration (port range, TTS engine found) and
// returns the manager.
func NewManager(cfg Config, log *slog.Logger) (*Manager, error) {
	return &Manager{cfg: cfg, log: log}, nil
}

// Session is one call leg's media: one audio stream.
type Session struct {
	m *Manager
}

// NewSession allocates an RTP port pair for a leg.
func (m *Manager) NewSession(ctx context.Context, accountID, callID string) (*Session, error) {
	return nil, errors.ErrUnsupported
}

// Answer negotiates an SDP offer and returns our answer: ErrBadSDP when it
// does not parse, ErrNoCodec when it has no codec we speak.
func (s *Session) Answer(offer []byte) ([]byte, error) { return nil, errors.ErrUnsupported }

// Offer is our SDP offer, for an outbound leg.
func (s *Session) Offer() []byte { return nil }

// SetAnswer takes the far end's answer to Offer.
func (s *Session) SetAnswer(answer []byte) error { return errors.ErrUnsupported }

// Update handles a re-INVITE's offer: hold (sendonly/inactive), resume,
// codec or address change. It returns the new answer.
func (s *Session) Update(offer []byte) ([]byte, error) { return nil, errors.ErrUnsupported }

// Start begins sending and receiving RTP.
func (s *Session) Start() error { return errors.ErrUnsupported }

// Play plays audio; a terminator key stops it.
func (s *Session) Play(ctx context.Context, o call.PlayOptions) error { return errors.ErrUnsupported }

// Say speaks text with the TTS engine (cached by engine, voice, language,
// text).
func (s *Session) Say(ctx context.Context, o call.SayOptions) error { return errors.ErrUnsupported }

// Pause sends silence for d.
func (s *Session) Pause(ctx context.Context, d time.Duration) error { return errors.ErrUnsupported }

// Gather plays the prompts (a digit stops them and counts) and collects
// digits.
func (s *Session) Gather(ctx context.Context, o call.GatherOptions) (string, error) {
	return "", errors.ErrUnsupported
}

// Record records the caller to a WAV file.
func (s *Session) Record(ctx context.Context, o call.RecordOptions) (call.Recording, error) {
	return call.Recording{}, errors.ErrUnsupported
}

// SendDigits sends RFC 4733 events.
func (s *Session) SendDigits(ctx context.Context, digits string) error { return errors.ErrUnsupported }

// InjectDigit feeds a digit received by SIP INFO to digit collection.
func (s *Session) InjectDigit(d byte) {}

// Bridge relays audio and DTMF both ways between s and other until ctx
// ends or either side closes.
func (s *Session) Bridge(ctx context.Context, other *Session) error { return errors.ErrUnsupported }

// Stats are the session's counters.
func (s *Session) Stats() Stats { return Stats{} }

// Close releases the session's sockets and goroutines.
func (s *Session) Close() error { return nil }

// Package media is Switchboard's RTP media layer: SDP offer/answer (PCMU,
// PCMA, telephone-event), symmetric RTP at 20 ms, RFC 4733 DTMF (and SIP
// INFO digits fed in, and in-band Goertzel as a fallback), WAV and MP3
// playback (paths, stored media, HTTP URLs decoded once into a bounded,
// revalidated cache), text to speech through flite or espeak-ng, recording
// with silence detection, and bridging two legs. It knows nothing of SIP
// dialogs: internal/sip drives it.
//
// The exported API is the contract internal/sip codes against: the types
// here, Manager (manager.go) and Session (session.go, offer_answer.go,
// play.go, gather.go, record.go, bridge.go). README.md has the file
// layout, conventions and measured performance.
package media

import (
	"errors"
	"time"

	"github.com/switchboard/switchboard/internal/egress"
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
	// DataDir holds recordings (DataDir/recordings/<account>/<call>-<n>.wav),
	// stored media (DataDir/media/<id>.wav) and the caches
	// (DataDir/cache/<sha256 of URL>.wav, DataDir/cache/tts/<key>.wav);
	// "switchboard" under the system temp dir when empty.
	DataDir string
	// TTS is "flite", "espeak-ng", or "" for the first one installed.
	TTS string
	// HTTPClient fetches http(s) media; nil = a client with a 10 s timeout
	// that follows at most 10 redirects.
	// (Typed any here to keep this contract free of net/http; the
	// implementation asserts *http.Client.)
	HTTPClient any
	// LocalPaths lets a play name a file on the server's disk ("/path",
	// "file://…"; --media-local-paths). Off by default: a tenant's flow or
	// webhook answer could otherwise play any file the process can read
	// (another tenant's recordings).
	LocalPaths bool
	// Egress, when set, is the policy http(s) media fetches go under (the
	// account the fetch's context carries, egress.WithAccount): the default
	// client dials through it, and fetched audio is cached per policy
	// class, so a tenant never gets a copy of what only the operator's
	// account may fetch.
	Egress *egress.Policy
	// RecordingURL turns a recording file name into the authenticated URL
	// the API serves it at; nil = the file path.
	RecordingURL func(accountID, file string) string
	// MediaCacheBytes bounds the decoded audio kept for http(s) media
	// URLs (4 bytes a sample at 8 kHz: PCM and both G.711 encodings);
	// 0 = DefaultMediaCacheBytes (64 MB, about 35 minutes). Least
	// recently played out first.
	MediaCacheBytes int64
	// MediaCacheEntries bounds the number of URLs kept; 0 =
	// DefaultMediaCacheEntries (1000).
	MediaCacheEntries int
	// MediaCacheTTL is how long a response with neither Cache-Control
	// max-age nor Expires is played before it is revalidated (with
	// If-None-Match / If-Modified-Since when it had an ETag or
	// Last-Modified); 0 = DefaultMediaCacheTTL (1 h). no-cache
	// revalidates before every play, no-store is never kept.
	MediaCacheTTL time.Duration
	// Priority is --media-priority: the pacing thread is raised to
	// real-time at PriorityPacer and PriorityHigh, for the first
	// paceTickRT of each tick at PriorityBounded, not at PriorityNormal
	// (the zero value). The nice and slice of PriorityHigh are the
	// process's, set by ApplyPriority.
	Priority Priority
	// NoIOURing sends each RTP packet with its own sendto, as where the
	// kernel has no io_uring (or a container's seccomp profile or the
	// kernel.io_uring_disabled sysctl refuses it). Off: each pacer tick's
	// packets go in one io_uring_enter when io_uring is there.
	NoIOURing bool
}

// Stats are a session's RTP counters.
type Stats struct {
	PacketsSent, PacketsReceived uint64
	BytesSent, BytesReceived     uint64
	Dropped                      uint64 // garbage, wrong source, wrong payload type
	// DroppedSource counts the packets (RTP and RTCP) from addresses the
	// call's SDP and signalling never named: a stranger spraying the port
	// range. They are in Dropped too.
	DroppedSource uint64
	Codec         string // "PCMU" or "PCMA"
}

// ErrClosed is returned by a session's methods once it is closed.
var ErrClosed = errors.New("media session closed")

// ErrNotNegotiated is returned when media is used before an offer/answer
// gave the far end's address and codec.
var ErrNotNegotiated = errors.New("media not negotiated")

// ErrNoTTS is returned by Say when no TTS engine is installed.
var ErrNoTTS = errors.New("no TTS engine installed (flite or espeak-ng)")

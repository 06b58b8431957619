package media

import (
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/sdp"
)

// packetWriter is where RTP goes: the session's UDP socket, or a recorder
// in tests.
type packetWriter interface {
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// negotiation is the outcome of offer/answer.
type negotiation struct {
	codec      codec.Codec
	pt         uint8 // the far end's payload type number for codec
	tePT       uint8
	hasTE      bool
	dir        sdp.Direction // our direction, as in our SDP
	remote     netip.AddrPort
	remoteRTCP netip.AddrPort
}

// Session is one call leg's media: one audio stream.
//
// One of the manager's I/O loops reads RTP and RTCP from Start to Close
// (ioloop.go); the manager's pacer sends. Everything the pacer, the reader and the caller's
// methods share is under mu, apart from counters (atomics), the digit queue
// (its own lock), and the recorder and bridge links (atomic pointers).
type Session struct {
	m         *Manager
	accountID string
	callID    string
	port      int
	rtpConn   *udpSock
	rtcpConn  *udpSock
	w         packetWriter
	// the I/O loop reading rtpConn and rtcpConn (ioloop.go) and their
	// pair, the pool's once the session closes (sockpool.go); set by
	// NewSession
	loop *ioLoop
	pair *rtpPair

	done      chan struct{} // closed by Close
	closeOnce sync.Once

	mu sync.Mutex
	// offer/answer
	neg        negotiation
	haveNeg    bool
	localDir   sdp.Direction
	sdpID      uint64
	sdpVersion uint64
	lastSDP    []byte
	started    bool
	closed     bool
	pacer      *pacer
	pacerIdx   int
	// where RTP and RTCP go: the SDP's addresses until packets arrive,
	// then wherever they come from (symmetric RTP)
	remote      netip.AddrPort
	remoteRTCP  netip.AddrPort
	latched     bool
	rtcpLatched bool
	// who may send us media: the SDP's address and the addresses the
	// signalling came from (AllowSource); any port on them, for NAT
	signalAddrs []netip.Addr
	// a latched stream moves to another port of an allowed address only
	// after relatchAfter packets in a row from there (relatch.go)
	candidate  netip.AddrPort
	candidateN int
	// sending
	ssrc      uint32
	seq       uint16
	ts        uint32
	lastSend  time.Time
	sentAny   bool
	marker    bool
	out       *output
	sendBuf   [rtpHeaderLen + maxPayload]byte
	rtcpCount int
	// bridging: while rq.from is set, what the far leg receives is queued
	// here and the pacer sends it (bridge_queue.go)
	rq relayQueue
	// receive statistics for RTCP (set by the reader, under mu)
	rxStats rxStats

	rx   receiver // the session's I/O loop only (ioloop.go)
	rec  atomic.Pointer[recorder]
	taps atomic.Pointer[[]*track] // recordings of the whole call (callrecord.go)
	link atomic.Pointer[bridgeLink]
	// gathering counts the Gathers waiting for keys: a bridged leg
	// detects in-band tones only while one waits (receive.go).
	gathering atomic.Int32
	digits    digitQueue
	recN      atomic.Int64

	packetsSent, packetsReceived atomic.Uint64
	bytesSent, bytesReceived     atomic.Uint64
	octetsSent                   atomic.Uint64 // payload bytes, for RTCP
	dropped                      atomic.Uint64
	droppedSource                atomic.Uint64 // from an address the call never named
	sendErrors                   atomic.Uint64 // RTP the kernel would not send (send_batch.go)
	lastHeard                    atomic.Int64  // unix ns of the last RTP or RTCP accepted, or of Start
}

func newSession(m *Manager, accountID, callID string) *Session {
	s := &Session{
		m:         m,
		accountID: accountID,
		callID:    callID,
		done:      make(chan struct{}),
		localDir:  sdp.SendRecv,
		sdpID:     uint64(randUint32()),
		ssrc:      randUint32(),
		seq:       uint16(randUint32()),
		ts:        randUint32(),
		marker:    true,
		pacerIdx:  -1,
		rtcpCount: int(randUint32() % rtcpEvery),
	}
	s.sdpVersion = s.sdpID
	s.rx.init(s)
	return s
}

// logger is the session's logger, with its call and account: made when
// something is logged (rarely: a warning), not for every call.
func (s *Session) logger() *slog.Logger {
	return s.m.log.With("call_id", s.callID, "account_id", s.accountID)
}

// attach makes sp the session's sockets (NewSession, before anyone else
// sees s).
func (s *Session) attach(sp *rtpPair) {
	s.pair, s.loop = sp, sp.loop
	s.port, s.rtpConn, s.rtcpConn, s.w = sp.port, sp.rtp, sp.rtcp, sp.rtp
}

// Start begins sending and receiving RTP. It needs a negotiated session
// (Answer, or Offer and SetAnswer); the other methods call it as needed.
func (s *Session) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startLocked()
}

func (s *Session) startLocked() error {
	if s.closed {
		return ErrClosed
	}
	if !s.haveNeg {
		return ErrNotNegotiated
	}
	if s.started {
		return nil
	}
	s.started = true
	s.lastHeard.Store(time.Now().UnixNano())
	if s.loop != nil {
		s.loop.enable(s)
	}
	s.pacer = s.m.pacerFor()
	s.pacer.add(s)
	return nil
}

// ready is the check every media operation starts with: the session is
// open and negotiated, and started.
func (s *Session) ready() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startLocked()
}

// Stats are the session's counters.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	c := ""
	if s.haveNeg {
		c = s.neg.codec.String()
	}
	s.mu.Unlock()
	return Stats{
		PacketsSent:     s.packetsSent.Load(),
		PacketsReceived: s.packetsReceived.Load(),
		BytesSent:       s.bytesSent.Load(),
		BytesReceived:   s.bytesReceived.Load(),
		Dropped:         s.dropped.Load(),
		DroppedSource:   s.droppedSource.Load(),
		Codec:           c,
	}
}

// LocalPort is the session's RTP port (RTCP is the next one).
func (s *Session) LocalPort() int { return s.port }

// Close releases the session's sockets and goroutines. A Play, Gather or
// Record in progress returns ErrClosed. Close is idempotent.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		out := s.out
		s.out = nil
		p := s.pacer
		s.mu.Unlock()
		out.finish()
		close(s.done)
		if p != nil {
			p.remove(s)
		}
		switch {
		case s.pair != nil:
			s.loop.detach(s) // waits for a packet being handled
			s.rx.release()
			s.m.pool.put(s.pair)
		case s.rtpConn != nil: // sockets of a test's own
			s.rtpConn.close()
			s.rtcpConn.close()
			if s.port != 0 {
				s.m.ports.release(s.port)
			}
		}
		s.m.sessions.retire(s)
	})
	return nil
}

// Activity is when media last came from the far end (RTP or RTCP
// accepted; Start counts as the first) and whether the stream is on hold
// either way (negotiated sendonly, recvonly or inactive), when silence is
// expected: what the SIP layer needs to end a call whose caller vanished.
// The time is zero before Start.
func (s *Session) Activity() (last time.Time, held bool) {
	s.mu.Lock()
	held = s.localDir != sdp.SendRecv || s.haveNeg && s.neg.dir != sdp.SendRecv
	s.mu.Unlock()
	if ns := s.lastHeard.Load(); ns != 0 {
		last = time.Unix(0, ns)
	}
	return last, held
}

// Hold puts the far end on hold (our direction becomes sendonly, or
// inactive if they hold us too) or takes it off hold. It takes effect in
// the next Offer, Answer or Update, which the SIP layer sends in a
// re-INVITE.
func (s *Session) Hold(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.localDir = sdp.SendOnly
	} else {
		s.localDir = sdp.SendRecv
	}
}

// Package sip puts Switchboard on the phone network: a SIP user agent on
// sipgo that answers INVITEs from trusted trunks, turns each into a
// call.Channel for the engine, and places the outbound legs of a Dial. It
// owns dialogs (re-INVITE, UPDATE, session timers, INFO digits, BYE both
// ways, CANCEL); internal/media owns the RTP. sipgo's types stop here.
package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/egress"
)

// Config sets up the SIP side of the server; a zero field means the
// documented default.
type Config struct {
	// Addr is where SIP listens, on UDP and TCP with the same port;
	// ":5060" by default. Port 0 picks a free port for both.
	Addr string
	// TLSAddr, when set, is where SIP over TLS listens, with the PEM
	// certificate and key files TLSCert and TLSKey.
	TLSAddr, TLSCert, TLSKey string
	// Host is the address written in Contact and Via headers: by default
	// the listen IP, or when listening on every interface, the address
	// the caller reached us at.
	Host string
	// UserAgent is the User-Agent and Server header; "switchboard" by
	// default.
	UserAgent string
	// MinSE is the shortest session interval accepted (RFC 4028 Min-SE);
	// 90 s by default.
	MinSE time.Duration
	// SessionExpires is the session interval offered to a caller that
	// supports session timers but asked for none; 30 min by default.
	SessionExpires time.Duration
	// RingTimeout is how long an outbound leg rings when a Dial sets no
	// timeout; 30 s by default.
	RingTimeout time.Duration
	// StrictVia sends UDP responses to the port of the request's Via
	// (RFC 3261 §18.2.2). By default they go back to the port the request
	// came from, as if it had asked with rport (RFC 3581): what phones
	// behind NAT need.
	StrictVia bool
	// Egress, when set, is the policy that judges every sip: URI an
	// account dials (not its own outbound gateway): a host it may not
	// reach is refused before any INVITE is sent.
	Egress *egress.Policy

	// TCPMaxConns and TCPMaxConnsPerSource bound the SIP connections (TCP
	// and TLS) open at once, in total and from one IP address, so a flood
	// of idle connections is refused long before descriptors run out;
	// 4096 and 128 by default, negative for no limit.
	TCPMaxConns, TCPMaxConnsPerSource int
	// TCPIdleTimeout closes a SIP connection on which nothing arrived for
	// so long; 10 min by default.
	TCPIdleTimeout time.Duration
	// TCPMessageTimeout closes a connection whose first message, or the
	// rest of a message begun, does not arrive in time (a half-open or
	// dribbling connection); 10 s by default.
	TCPMessageTimeout time.Duration
	// Strangers is what an INVITE from a source that belongs to no
	// account gets: StrangersReject (a stateless 403, the default) or
	// StrangersDrop (nothing).
	Strangers string
	// MaxCalls is how many inbound calls may run at once, and
	// MaxCallsPerSecond how many may start in a second (with a burst of as
	// many); calls over either get 503 with Retry-After. 0 means no limit.
	MaxCalls          int
	MaxCallsPerSecond float64
	// ShedLatency sheds load by itself, without a rate to guess: while the
	// Go scheduler kept runnable goroutines waiting longer than this at
	// the 99th percentile over the last 100 ms (the process is short of
	// CPU), the calls in progress are limited, and new calls over the
	// limit get 503 with Retry-After at once (saturation.go, shed.go).
	// 0 means off here; the binary starts with DefaultShedLatency.
	ShedLatency time.Duration
	// ShedQueueDelay is the SIP UDP socket's standing queue (the least
	// wait of its datagrams over the last 100 ms before the read loop
	// took them: the kernel's receive stamp against the read) past which
	// a process whose scheduler latency is over ShedLatency is falling
	// behind, and its calls in progress are cut: a process that is busy
	// but drains its socket keeps up, and sheds nothing (shed_queue.go,
	// shed.go). 0 means the scheduler's latency judges alone; the binary
	// starts with DefaultShedQueueDelay. Only with ShedLatency set.
	ShedQueueDelay time.Duration
	// MediaTimeout ends an answered call with BYE (cause media_timeout)
	// when no RTP or RTCP came from the caller for so long while the call
	// is not on hold, and MediaHoldTimeout while it is; 30 s and 1 h by
	// default, negative to never end a call for silence.
	MediaTimeout, MediaHoldTimeout time.Duration
}

// DefaultShedLatency is --shed-latency's default: the scheduler latency
// (p99 over 100 ms) past which the server judges itself short of CPU and
// limits the calls in progress (saturation.go, shed.go). Measured on the
// bench (bench/sip/run.sh overload): see bench/RESULTS.md.
const DefaultShedLatency = 20 * time.Millisecond

// DefaultShedQueueDelay is --shed-queue-delay's default: the SIP UDP
// socket's standing queue (the least wait of its datagrams over 100 ms)
// past which a server short of CPU is falling behind and limits the calls
// in progress (shed_queue.go, shed.go); CoDel's target.
const DefaultShedQueueDelay = 5 * time.Millisecond

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = ":5060"
	}
	if c.UserAgent == "" {
		c.UserAgent = "switchboard"
	}
	if c.MinSE <= 0 {
		c.MinSE = 90 * time.Second
	}
	if c.SessionExpires <= 0 {
		c.SessionExpires = 30 * time.Minute
	}
	if c.SessionExpires < c.MinSE {
		c.SessionExpires = c.MinSE
	}
	if c.RingTimeout <= 0 {
		c.RingTimeout = 30 * time.Second
	}
	c.TCPMaxConns = limitDefault(c.TCPMaxConns, defaultTCPMaxConns)
	c.TCPMaxConnsPerSource = limitDefault(c.TCPMaxConnsPerSource, defaultTCPMaxConnsPerSource)
	if c.TCPIdleTimeout <= 0 {
		c.TCPIdleTimeout = defaultTCPIdleTimeout
	}
	if c.TCPMessageTimeout <= 0 {
		c.TCPMessageTimeout = defaultTCPMessageTimeout
	}
	if c.Strangers == "" {
		c.Strangers = StrangersReject
	}
	if c.MediaTimeout == 0 {
		c.MediaTimeout = 30 * time.Second
	}
	if c.MediaHoldTimeout == 0 {
		c.MediaHoldTimeout = time.Hour
	}
	return c
}

// limitDefault is a limit's value: def when zero, none (0) when negative.
func limitDefault(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Handler runs one inbound call to its end. ctx is the call's context: it
// is cancelled with call.ErrHangup when the caller hangs up.
type Handler func(ctx context.Context, ch call.Channel)

// Trunks tells which account a call from an address belongs to, and where
// an account's calls to phone numbers go.
type Trunks interface {
	// Inbound returns the account of a trunk whose source CIDRs hold addr.
	Inbound(addr netip.Addr) (accountID string, ok bool)
	// Outbound returns the SIP URI of the account's outbound gateway
	// ("sip:gw.example.net:5060;transport=tcp").
	Outbound(accountID string) (uri string, ok bool)
}

// Server is the SIP user agent: listeners, transactions, dialogs.
type Server struct {
	cfg    Config
	log    *slog.Logger
	media  Media
	trunks Trunks
	handle Handler

	parser *sipmsg.Parser // read only: safe for every goroutine
	// serverHeader is the Server header of our responses, made once
	// (see allowHeader).
	serverHeader sipmsg.Header
	ua           *sipgo.UserAgent
	srv          *sipgo.Server
	client       *sipgo.Client

	mu      sync.Mutex
	dialogs map[string]*dialog // callID|localTag|remoteTag
	calls   map[string]*inLeg  // inbound calls by Call-ID
	closed  bool

	// cancelled are the INVITEs of ours CANCELled lately: only a 2xx to
	// one of them is released (stray_answer.go), so a stranger's forged
	// 200 gets nothing back.
	cancelled cancelledInvites
	strays    atomic.Uint64 // responses of no transaction seen (tests wait on it)

	udp       net.PacketConn
	tcp, tls  net.Listener
	bindIP    netip.Addr // the listen IP; unspecified when on every interface
	port      int
	tlsPort   int
	ctx       context.Context // ends when the server closes
	cancel    context.CancelFunc
	wg        sync.WaitGroup // listeners and call helpers
	callWG    sync.WaitGroup // inbound calls
	t1, t2    time.Duration  // RFC 3261 timers for our 2xx retransmissions
	outOnce   sync.Once
	streams   sync.Map // remote address → *streamConn, accepted TCP connections
	logLimit  logLimit // lines about strangers
	lastRead  lastRead // the UDP datagram sipgo parses next (guard.go)
	shed      shedder
	adm       admission // new calls judged as they are read (shed.go)
	sat       saturation
	qwait     queueWait // the UDP datagrams' wait in the socket (shed_queue.go)
	shedN     shedCounts
	onRefuse  func(Refusal)
	refusals  chan Refusal
	outIP     string
	closeOnce sync.Once
	stats     messageStats // SIP messages by method and code (stats.go)
	reg       *registrar   // nil until EnableRegistrar
	carriers  Carriers     // nil until SetCarriers
	transfers Transfers    // nil until SetTransfers (refer.go)
	// accountMusic is nil until SetAccountMusic (hold_music.go)
	accountMusic AccountMusic
	bridges      sync.Map // dialog id → *bridging, calls being bridged (relay.go)
	refers       sync.Map // dialog id → *referWait, REFERs we sent (refer_out.go)
}

// New builds the server; Start listens. log receives the server's lines
// and, demoted, sipgo's own.
func New(cfg Config, m Media, trunks Trunks, h Handler, log *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.Strangers != StrangersReject && cfg.Strangers != StrangersDrop {
		return nil, fmt.Errorf("sip: strangers %q: want %s or %s", cfg.Strangers, StrangersReject, StrangersDrop)
	}
	if m == nil || trunks == nil || h == nil {
		return nil, errors.New("sip: media, trunks and handler are required")
	}
	udpLimitOnce.Do(func() { sipmsg.UDPMTUSize = maxUDPMessage + 200 })
	s := &Server{
		cfg: cfg, log: log, media: m, trunks: trunks, handle: h,
		dialogs: map[string]*dialog{}, calls: map[string]*inLeg{}, parser: sipmsg.NewParser(),
		serverHeader: sipmsg.NewHeader("Server", cfg.UserAgent),
		t1:           sipmsg.T1, t2: sipmsg.T2, // process-wide in sipgo; main may tune them
		refusals: make(chan Refusal, 256),
	}
	s.shed.init(cfg.MaxCalls)
	s.adm.init(cfg.MaxCallsPerSecond, cfg.ShedLatency > 0)
	s.sat.init(cfg.ShedLatency, log, &s.adm)
	if cfg.ShedLatency > 0 && cfg.ShedQueueDelay > 0 {
		s.sat.queueLimit, s.sat.queue = cfg.ShedQueueDelay, &s.qwait
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	libLog := slog.New(demote{h: log.Handler(), parseFailed: s.parseFailed}).With("component", "sipgo")
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentTransactionLayerOptions(
			sipmsg.WithTransactionLayerLogger(libLog),
			sipmsg.WithTransactionLayerUnhandledResponseHandler(func(r *sipmsg.Response) {
				// 2xx retransmissions after the transaction ended: ours
				// were ACKed already, or the leg is gone.
				s.onStrayResponse(r)
			}),
		),
		sipgo.WithUserAgentTransportLayerOptions(
			sipmsg.WithTransportLayerLogger(libLog),
			sipmsg.WithTransportLayerReadFilter(s.guard),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("sip: user agent: %w", err)
	}
	s.ua = ua
	s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(libLog))
	if err != nil {
		return nil, fmt.Errorf("sip: server: %w", err)
	}
	s.client, err = sipgo.NewClient(ua, sipgo.WithClientLogger(libLog))
	if err != nil {
		return nil, fmt.Errorf("sip: client: %w", err)
	}
	s.srv.OnInvite(s.onInvite)
	s.srv.OnAck(s.inDialog)
	s.srv.OnBye(s.inDialog)
	s.srv.OnCancel(s.onCancel)
	s.srv.OnOptions(s.onOptions)
	s.srv.OnInfo(s.inDialog)
	s.srv.OnUpdate(s.inDialog)
	s.srv.OnRefer(s.onRefer)
	s.srv.OnNotify(s.inDialog)
	s.srv.OnNoRoute(s.onNoRoute)
	return s, nil
}

// maxUDPMessage is the largest SIP message sent over UDP: what one
// datagram holds. sipgo refuses to send one over 1,300 bytes (UDPMTUSize
// less 200), but RFC 3261 §18.2.2 wants a response sent whatever its
// size (IP fragments it): a response to a request carrying many
// Record-Route or Via headers, which a caller over UDP would otherwise
// never get. sipgo keeps the limit in a process-wide variable; it is set
// once, by the first server built, before any transport runs.
const maxUDPMessage = 65507

var udpLimitOnce sync.Once

// Start binds the listeners and serves in the background; it returns once
// they are bound, so Addr reports real ports. ctx only bounds the setup.
func (s *Server) Start(ctx context.Context) error {
	if err := s.bind(ctx); err != nil {
		return err
	}
	s.wg.Go(s.reportRefusals)
	s.wg.Go(func() { s.sat.run(s.ctx) })
	s.serve(s.udp, s.wrapStream(s.tcp, true), s.tls)
	s.log.Info("sip listening", "transport", "udp", "addr", s.udp.LocalAddr().String())
	s.log.Info("sip listening", "transport", "tcp", "addr", s.tcp.Addr().String())
	if s.tls != nil {
		s.log.Info("sip listening", "transport", "tls", "addr", s.tls.Addr().String())
	}
	return nil
}

func (s *Server) bind(ctx context.Context) error {
	host, portStr, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("sip addr %q: %w", s.cfg.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return fmt.Errorf("sip addr %q: bad port", s.cfg.Addr)
	}
	if host != "" {
		ip, err := netip.ParseAddr(host)
		if err != nil {
			ips, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			if lerr != nil || len(ips) == 0 {
				return fmt.Errorf("sip addr %q: %w", s.cfg.Addr, err)
			}
			ip = ips[0]
		}
		s.bindIP = ip.Unmap()
	}
	var lc net.ListenConfig
	// With port 0 the UDP port is free but its TCP twin may not be: retry.
	for attempt := 0; ; attempt++ {
		pc, err := lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return fmt.Errorf("listen sip udp %s: %w", s.cfg.Addr, err)
		}
		bound := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(bound)))
		if err != nil {
			pc.Close()
			if port == 0 && attempt < 20 {
				continue
			}
			return fmt.Errorf("listen sip tcp %s: %w", net.JoinHostPort(host, strconv.Itoa(bound)), err)
		}
		sizeUDPBuffers(pc)
		if s.sat.queue != nil {
			var err error
			if pc, err = stampSocket(pc, &s.qwait); err != nil {
				s.sat.queue = nil
				s.log.Warn("the SIP socket's queue is not measured: the scheduler's latency alone judges the load", "err", err)
			}
		}
		s.udp, s.tcp, s.port = pc, ln, bound
		break
	}
	if s.cfg.TLSAddr != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			s.udp.Close()
			s.tcp.Close()
			return fmt.Errorf("sip tls certificate: %w", err)
		}
		ln, err := lc.Listen(ctx, "tcp", s.cfg.TLSAddr)
		if err != nil {
			s.udp.Close()
			s.tcp.Close()
			return fmt.Errorf("listen sip tls %s: %w", s.cfg.TLSAddr, err)
		}
		s.tls = tls.NewListener(s.wrapStream(ln, false), &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		s.tlsPort = ln.Addr().(*net.TCPAddr).Port
	}
	return nil
}

func (s *Server) serve(udp net.PacketConn, tcp, tlsLn net.Listener) {
	s.listen("udp", func() error { return s.srv.ServeUDP(newCountedPacketConn(udp, &s.stats)) })
	s.listen("tcp", func() error { return s.srv.ServeTCP(countedListener{tcp, &s.stats}) })
	if tlsLn != nil {
		s.listen("tls", func() error { return s.srv.ServeTLS(countedListener{tlsLn, &s.stats}) })
	}
}

// listen runs one of sipgo's serve loops until its listener closes.
func (s *Server) listen(transport string, serve func() error) {
	s.wg.Go(func() {
		if err := serve(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("sip listener stopped", "transport", transport, "err", err)
		}
	})
}

// Addr is the bound UDP and TCP address ("127.0.0.1:5060").
func (s *Server) Addr() string {
	if s.udp == nil {
		return ""
	}
	return s.udp.LocalAddr().String()
}

// TLSAddr is the bound TLS address, "" without TLS.
func (s *Server) TLSAddr() string {
	if s.tls == nil {
		return ""
	}
	return s.tls.Addr().String()
}

// Calls is the number of inbound calls in progress.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Close refuses new calls, hangs up the calls in progress, waits for them
// (up to ctx) and stops listening. Later calls do nothing.
func (s *Server) Close(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() { err = s.close(ctx) })
	return err
}

func (s *Server) close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	legs := make([]*inLeg, 0, len(s.calls))
	for _, l := range s.calls {
		legs = append(legs, l)
	}
	s.mu.Unlock()
	for _, l := range legs {
		l.shutdown()
	}
	done := make(chan struct{})
	go func() {
		s.callWG.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("sip calls still running at shutdown")
	}
	s.cancel()
	var errs []error
	for _, c := range []interface{ Close() error }{s.udp, s.tcp, s.tls} {
		if c == nil {
			continue
		}
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if err := s.ua.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		errs = append(errs, err)
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

func (s *Server) addDialog(d *dialog) {
	s.mu.Lock()
	s.dialogs[d.id] = d
	s.mu.Unlock()
}

func (s *Server) removeDialog(id string) {
	s.mu.Lock()
	delete(s.dialogs, id)
	s.mu.Unlock()
}

// matchDialog finds the dialog of an in-dialog request: its To tag is our
// local tag, its From tag the remote one, whichever side began it.
func (s *Server) matchDialog(req *sipmsg.Request) (*dialog, bool) {
	id, err := sipmsg.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil, false
	}
	s.mu.Lock()
	d, ok := s.dialogs[id]
	s.mu.Unlock()
	return d, ok
}

func dialogID(callID, localTag, remoteTag string) string {
	return sipmsg.DialogIDMake(callID, localTag, remoteTag)
}

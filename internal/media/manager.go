package media

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/switchboard/switchboard/internal/media/tts"
)

// Defaults for a zero Config field.
const (
	DefaultPortMin = 10000
	DefaultPortMax = 20000
	fetchTimeout   = 10 * time.Second
)

// Manager allocates RTP sessions; one per server. NewManager builds it.
type Manager struct {
	cfg      Config
	log      *slog.Logger
	publicIP netip.Addr
	bindIP   netip.Addr
	ports    *portAllocator
	pool     sockPool // socket pairs between sessions (sockpool.go)
	pacers   []*pacer
	paceT    paceThread // runs the pacers' ticks while a session is started
	loops    []*ioLoop  // receive I/O loops, one per GOMAXPROCS
	dualIP   bool       // RTP sockets are dual-stack IPv6, not IPv4
	prompts  *promptCache
	stat     statCache // files' prompt keys, checked at most once a second (filestat.go)
	http     *http.Client
	tts      *tts.Engine
	urls     *urlCache
	builtins builtins
	sessions sessionSet       // open sessions and closed ones' counts (stats.go)
	pacing   latencyHistogram // how late each tick's last packet went out
	// how late the pacers woke for their ticks: pacing less this is the
	// ticks' own work
	pacingWake latencyHistogram
}

// NewManager checks the configuration (port range, TTS engine found) and
// returns the manager. An empty TTS picks flite, else espeak-ng; when
// neither is installed the manager still works and Say fails with
// ErrNoTTS. A TTS named but missing is an error.
func NewManager(cfg Config, log *slog.Logger) (*Manager, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.PortMin == 0 && cfg.PortMax == 0 {
		cfg.PortMin, cfg.PortMax = DefaultPortMin, DefaultPortMax
	}
	if cfg.PortMin < 1 || cfg.PortMax > 65535 || cfg.PortMin >= cfg.PortMax {
		return nil, fmt.Errorf("media: bad RTP port range %d-%d", cfg.PortMin, cfg.PortMax)
	}
	if (cfg.PortMin+1)&^1 > cfg.PortMax-1 {
		return nil, fmt.Errorf("media: RTP port range %d-%d holds no even/odd pair", cfg.PortMin, cfg.PortMax)
	}
	if cfg.PublicIP == "" {
		cfg.PublicIP = "127.0.0.1"
	}
	if cfg.BindIP == "" {
		cfg.BindIP = "0.0.0.0"
	}
	pub, err := netip.ParseAddr(cfg.PublicIP)
	if err != nil {
		return nil, fmt.Errorf("media: public IP: %w", err)
	}
	bind, err := netip.ParseAddr(cfg.BindIP)
	if err != nil {
		return nil, fmt.Errorf("media: bind IP: %w", err)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = filepath.Join(os.TempDir(), "switchboard")
	}
	m := &Manager{
		cfg:      cfg,
		log:      log,
		publicIP: pub.Unmap(),
		bindIP:   bind.Unmap(),
		ports:    newPortAllocator(cfg.PortMin, cfg.PortMax),
		prompts:  newPromptCache(256 << 20),
		urls:     newURLCache(cfg.MediaCacheBytes, cfg.MediaCacheEntries, cfg.MediaCacheTTL),
	}
	m.pool.init(m.dropPairs)
	removeLegacyCache(cfg.DataDir)
	switch c := cfg.HTTPClient.(type) {
	case nil:
		m.http = defaultHTTPClient()
		if cfg.Egress != nil {
			m.http.Transport = cfg.Egress.Transport(nil)
		}
	case *http.Client:
		m.http = c
	default:
		return nil, fmt.Errorf("media: HTTPClient is %T, want *http.Client", cfg.HTTPClient)
	}
	engine, err := tts.Find(cfg.TTS, filepath.Join(cfg.DataDir, "cache", "tts"))
	switch {
	case err == nil:
		m.tts = engine
	case cfg.TTS == "" && err == tts.ErrNoEngine:
		log.Warn("no tts engine installed", "err", err)
	default:
		return nil, fmt.Errorf("media: %w", err)
	}
	// IPv4 sockets when media is IPv4 (bound to an IPv4 address, or to
	// 0.0.0.0 with an IPv4 public address): a dual-stack socket sends
	// IPv4 through the kernel's v4-mapped path, at a cost per packet.
	m.dualIP = m.bindIP.Is6() || m.bindIP.IsUnspecified() && m.publicIP.Is6()
	// A pacer sends its tick's packets, and an I/O loop reads its ready
	// sockets, in one io_uring_enter where the kernel allows it
	// (send_batch.go, recv_batch.go), else one sendto or recvfrom each.
	ring := false
	if !cfg.NoIOURing {
		if err := uringAvailable(); err != nil {
			log.Info("rtp sent and received without io_uring", "reason", err)
		} else {
			ring = true
		}
	}
	gate := newRingGate(ring, log)
	for range runtime.GOMAXPROCS(0) {
		m.loops = append(m.loops, &ioLoop{gate: gate, pool: &m.pool})
	}
	m.paceT.log = log
	m.paceT.ring = gate
	m.paceT.prio = cfg.Priority
	m.paceT.maxShare, m.paceT.guardEvery, m.paceT.demote = paceMaxShare, paceGuardEvery, paceDemoteFor
	if cfg.Priority == PriorityBounded {
		m.paceT.tickRT = paceTickRT
	}
	for i := range pacerSlots {
		m.pacers = append(m.pacers, newPacer(time.Duration(i)*step, &m.pacing, &m.pacingWake, &m.paceT))
	}
	m.paceT.slots = m.pacers
	return m, nil
}

// TTSEngine is the TTS engine in use ("flite", "espeak-ng"), "" for none.
func (m *Manager) TTSEngine() string {
	if m.tts == nil {
		return ""
	}
	return m.tts.Name()
}

// DataDir is the data directory in use.
func (m *Manager) DataDir() string { return m.cfg.DataDir }

// NewSession allocates an RTP port pair for a leg: an even RTP port in the
// range and the next one for RTCP. ctx bounds only the allocation; the
// session lives until Close.
func (m *Manager) NewSession(ctx context.Context, accountID, callID string) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	s := newSession(m, accountID, callID)
	if _, err := m.pair(ctx, s); err != nil {
		return nil, err
	}
	m.sessions.add(s)
	return s, nil
}

// pacerSlots is how many pacers share the 20 ms, one every 2 ms: each
// session keeps its slot for life, and a tick sends only a tenth of the
// calls, so the burst (what the p99 pacing deviation measures) is a tenth
// of one tick per CPU. An idle slot costs no goroutine. Fewer slots mean
// fewer wake-ups of the pacing thread, each of which costs the process
// context switches (its P handed off while it sleeps, taken back when it
// wakes): on the quiet 2-vCPU VM, 10 slots took CPU per call at 1,800
// calls/s from 0.565 to 0.483–0.508 ms and context switches from 6.2 to
// 4.7 a call, with 1,500 concurrent calls still at p99 2.42 ms (2.46 at
// 20); 5 slots spilled past the bounded priority's budget (p99 7.72 ms).
const pacerSlots = 10

// pacerFor picks the least loaded pacer.
func (m *Manager) pacerFor() *pacer {
	best := m.pacers[0]
	bestN := best.load()
	for _, p := range m.pacers[1:] {
		if n := p.load(); n < bestN {
			best, bestN = p, n
		}
	}
	return best
}

func randUint32() uint32 { return rand.Uint32() }

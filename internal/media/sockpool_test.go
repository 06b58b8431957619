package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// poolRig is a manager whose sessions negotiate with local peers.
type poolRig struct {
	t *testing.T
	m *Manager
}

func newPoolRig(t *testing.T, min, max int) *poolRig {
	t.Helper()
	m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: min, PortMax: max}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.pool.reserve = 0
	t.Cleanup(m.pool.drain)
	return &poolRig{t: t, m: m}
}

// peer is a UDP socket on ip (skips when the address is missing here).
func (r *poolRig) peer(ip string) *net.UDPConn {
	r.t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		r.t.Skipf("no %s: %v", ip, err)
	}
	r.t.Cleanup(func() { c.Close() })
	return c
}

// session opens a started session that negotiated with peer.
func (r *poolRig) session(peer *net.UDPConn) *Session {
	r.t.Helper()
	s, err := r.m.NewSession(r.t.Context(), "acct", fmt.Sprint("pool-", time.Now().UnixNano()))
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { s.Close() })
	a := peer.LocalAddr().(*net.UDPAddr)
	offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", a.IP, a.IP, a.Port)
	if _, err := s.Answer(offer); err != nil {
		r.t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		r.t.Fatal(err)
	}
	return s
}

// send writes one RTP packet from peer to a session's port.
func (r *poolRig) send(peer *net.UDPConn, port int, seq uint16) {
	r.t.Helper()
	pkt := make([]byte, rtpHeaderLen+160)
	putRTP(pkt, rtpHeader{pt: 0, seq: seq, ts: uint32(seq) * 160, ssrc: 9})
	if _, err := peer.WriteToUDPAddrPort(pkt, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))); err != nil {
		r.t.Fatal(err)
	}
}

// TestPoolReusesPair: a closed session's sockets serve the next session,
// which latches anew to its own peer: the packets of the last call's
// peer, sent after the close, reach neither call, and the new peer's do.
func TestPoolReusesPair(t *testing.T) {
	r := newPoolRig(t, 30000, 39999)
	// At once, and the packets below are the old stream's tail (from
	// the address a latched): what the pool lets go, and the next
	// session's take drains.
	r.m.pool.quiet, r.m.pool.tail = 0, time.Hour
	old, next := r.peer("127.0.0.2"), r.peer("127.0.0.1")
	a := r.session(old)
	r.send(old, a.LocalPort(), 1)
	waitfor.True(t, 5*time.Second, "a's packet", func() bool { return a.packetsReceived.Load() == 1 })
	port := a.LocalPort()
	a.Close()
	// The old peer goes on sending: the loop discards it while the pair
	// waits, or the next session's take drains it.
	for i := range 5 {
		r.send(old, port, uint16(2+i))
	}
	b := r.session(next)
	if b.LocalPort() != port || r.m.pool.reused.Load() != 1 {
		t.Fatalf("b on port %d (a had %d), %d pairs reused; want a's pair", b.LocalPort(), port, r.m.pool.reused.Load())
	}
	r.send(next, port, 100)
	waitfor.True(t, 5*time.Second, "b's packet", func() bool { return b.packetsReceived.Load() == 1 })
	if st := b.Stats(); st.PacketsReceived != 1 || st.Dropped != 0 || st.DroppedSource != 0 {
		t.Errorf("b's stats %+v: want its peer's one packet and nothing of a's", st)
	}
	if st := a.Stats(); st.PacketsReceived != 1 {
		t.Errorf("a took %d packets after its close", st.PacketsReceived-1)
	}
	b.mu.Lock()
	latched := b.remote
	b.mu.Unlock()
	if want := next.LocalAddr().(*net.UDPAddr).AddrPort(); latched != want {
		t.Errorf("b sends to %v, want its peer %v", latched, want)
	}
}

// TestPoolKeepsNoisyPairOut: a pair whose last call's peer still sends
// after the tail is not handed out but closed, so its sender is refused
// as it was before the pool; the next session gets a new pair.
func TestPoolKeepsNoisyPairOut(t *testing.T) {
	r := newPoolRig(t, 30000, 39999)
	r.m.pool.quiet, r.m.pool.tail = 0, 0
	old := r.peer("127.0.0.1")
	a := r.session(old)
	port := a.LocalPort()
	a.Close()
	r.send(old, port, 1)
	sp := a.pair
	waitfor.True(t, 5*time.Second, "the loop to discard the stale packet", func() bool { return sp.lastRx.Load() != 0 })
	b := r.session(r.peer("127.0.0.1"))
	if b.LocalPort() == port || r.m.pool.reused.Load() != 0 {
		t.Fatalf("b took the noisy pair (port %d)", port)
	}
	if n := r.m.pool.size(); n != 0 {
		t.Errorf("%d pairs in the pool, want the noisy one closed", n)
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatalf("port %d still bound after the noisy pair was closed: %v", port, err)
	}
	c.Close()
}

// TestPoolForcedNoisyClosed: with one pair in the range and it noisy, the
// next session gets the port anew (the noisy pair closed, its port bound
// again), as before the pool.
func TestPoolForcedNoisyClosed(t *testing.T) {
	port := freePair(t)
	r := newPoolRig(t, port, port+1)
	r.m.pool.quiet, r.m.pool.tail = time.Hour, 0
	peer := r.peer("127.0.0.1")
	a := r.session(peer)
	a.Close()
	r.send(peer, port, 1)
	waitfor.True(t, 5*time.Second, "the loop to discard the stale packet", func() bool { return a.pair.lastRx.Load() != 0 })
	b := r.session(peer)
	if b.LocalPort() != port || b.pair == a.pair || r.m.pool.reused.Load() != 0 {
		t.Fatalf("b on %d (reused %d), want port %d on a new pair", b.LocalPort(), r.m.pool.reused.Load(), port)
	}
}

// TestPoolForcedWhenRangeFull: with one pair in the range, a closed
// session's pair serves the next one even before it is quiet (as the
// port could be bound again at once before the pool), and a third
// session finds no port.
func TestPoolForcedWhenRangeFull(t *testing.T) {
	port := freePair(t)
	r := newPoolRig(t, port, port+1)
	r.m.pool.quiet = time.Hour
	peer := r.peer("127.0.0.1")
	a := r.session(peer)
	a.Close()
	b := r.session(peer)
	if b.LocalPort() != port {
		t.Fatalf("b on %d, want %d", b.LocalPort(), port)
	}
	if _, err := r.m.NewSession(t.Context(), "acct", "third"); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("a third session: %v, want ErrNoPorts", err)
	}
	if used, total := r.m.ports.inUse(); used != 1 || total != 1 {
		t.Errorf("ports in use %d of %d, want 1 of 1", used, total)
	}
}

// TestPoolLetsIdlePairsGo: pairs unused for poolIdle are closed, and the
// loop ends with its last pair.
func TestPoolLetsIdlePairsGo(t *testing.T) {
	r := newPoolRig(t, 30000, 39999)
	r.m.pool.idle = 10 * time.Millisecond
	peer := r.peer("127.0.0.1")
	var ports []int
	var ss []*Session
	for range 3 {
		s := r.session(peer)
		ports = append(ports, s.LocalPort())
		ss = append(ss, s)
	}
	for _, s := range ss {
		s.Close()
	}
	waitfor.True(t, 10*time.Second, "the pool to empty", func() bool { return r.m.pool.size() == 0 })
	waitfor.True(t, 10*time.Second, "the loops to end", func() bool {
		for _, l := range r.m.loops {
			l.mu.Lock()
			running := l.running
			l.mu.Unlock()
			if running {
				return false
			}
		}
		return true
	})
	for _, p := range ports {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			t.Errorf("port %d still bound: %v", p, err)
			continue
		}
		c.Close()
	}
	if used, _ := r.m.ports.inUse(); used != 0 {
		t.Errorf("%d port pairs taken, want 0", used)
	}
}

// freePair finds an even port p with p and p+1 free on 127.0.0.1.
func freePair(t *testing.T) int {
	t.Helper()
	for range 100 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		c.Close()
		a, err1 := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		b, err2 := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p + 1})
		if a != nil {
			a.Close()
		}
		if b != nil {
			b.Close()
		}
		if err1 == nil && err2 == nil && p > 1024 {
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

// BenchmarkSessionChurn opens, negotiates, starts and closes a session,
// its sockets from the pool (pool) or opened and closed each time
// (nopool: the pool emptied after each Close, as before it). cpu-ns/op
// is the process's CPU time (user + kernel) per session.
func BenchmarkSessionChurn(b *testing.B) {
	for _, pooled := range []bool{true, false} {
		name := map[bool]string{true: "pool", false: "nopool"}[pooled]
		b.Run(name, func(b *testing.B) {
			m, err := NewManager(Config{DataDir: b.TempDir(), BindIP: "127.0.0.1", PortMin: 30000, PortMax: 39999}, nil)
			if err != nil {
				b.Fatal(err)
			}
			m.pool.reserve, m.pool.quiet = 0, 0
			defer m.pool.drain()
			peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer peer.Close()
			offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", peer.LocalAddr().(*net.UDPAddr).Port)
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			for b.Loop() {
				s, err := m.NewSession(b.Context(), "acct", "churn")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Answer(offer); err != nil {
					b.Fatal(err)
				}
				if err := s.Start(); err != nil {
					b.Fatal(err)
				}
				s.Close()
				if !pooled {
					m.pool.drain()
				}
			}
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(m.pool.reused.Load())/float64(b.N), "reused/op")
		})
	}
}

// TestPoolHoldsEarlyPackets: a reused pair stays polled, and a packet
// that comes for its new session before the session starts waits in the
// socket (the loop stops polling the pair rather than read it) and is
// the session's first packet once it starts, as on a new pair.
func TestPoolHoldsEarlyPackets(t *testing.T) {
	r := newPoolRig(t, 30000, 39999)
	r.m.pool.quiet = 0
	peer := r.peer("127.0.0.1")
	a := r.session(peer)
	port := a.LocalPort()
	a.Close()
	s, err := r.m.NewSession(t.Context(), "acct", "early")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if s.LocalPort() != port {
		t.Fatalf("on port %d, want the pooled %d", s.LocalPort(), port)
	}
	polled := func() bool {
		s.pair.pmu.Lock()
		defer s.pair.pmu.Unlock()
		return s.pair.polled
	}
	if !polled() {
		t.Fatal("a reused pair was taken off polling before any packet came")
	}
	a2 := peer.LocalAddr().(*net.UDPAddr)
	offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", a2.IP, a2.IP, a2.Port)
	if _, err := s.Answer(offer); err != nil {
		t.Fatal(err)
	}
	r.send(peer, port, 7)
	waitfor.True(t, 5*time.Second, "the pair off polling for the early packet", func() bool { return !polled() })
	if n := s.packetsReceived.Load(); n != 0 {
		t.Fatalf("%d packets read before Start", n)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, 5*time.Second, "the early packet after Start", func() bool { return s.packetsReceived.Load() == 1 })
	if !polled() {
		t.Error("a started session's pair is not polled")
	}
	r.send(peer, port, 8)
	waitfor.True(t, 5*time.Second, "the next packet", func() bool { return s.packetsReceived.Load() == 2 })
	if st := s.Stats(); st.Dropped != 0 || st.DroppedSource != 0 {
		t.Errorf("stats %+v: want both packets taken", st)
	}
}

package media

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
	"golang.org/x/sys/unix"
)

// batchModes are the two ways packets go: batched in one io_uring_enter
// (skipped where the kernel refuses io_uring) and one sendto or recvfrom
// each (forced, as where io_uring is unavailable).
var batchModes = []struct {
	name string
	ring bool
}{{"io_uring", true}, {"fallback", false}}

func needRing(t *testing.T, ring bool) {
	t.Helper()
	if !ring {
		return
	}
	if err := uringAvailable(); err != nil {
		t.Skipf("io_uring unavailable here: %v", err)
	}
}

// TestIOURingInUse says which path the package's tests took (TestMain):
// a manager's gate is open exactly when io_uring is available and not
// turned off.
func TestIOURingInUse(t *testing.T) {
	avail := uringAvailable()
	t.Logf("io_uring: %v", map[bool]string{true: "in use", false: fmt.Sprint("not used: ", avail)}[avail == nil])
	for _, off := range []bool{false, true} {
		m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: 30000, PortMax: 39999, NoIOURing: off}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := avail == nil && !off
		if got := m.loops[0].gate.open(); got != want {
			t.Errorf("NoIOURing %v: gate open %v, want %v", off, got, want)
		}
	}
}

// batchSink is a UDP socket that keeps what arrives: source port and
// RTP sequence number.
type batchSink struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  map[uint16][]uint16 // source port → sequence numbers
}

func newBatchSink(t *testing.T) *batchSink {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	// Room for a whole large tick (TestSendBatchLargeTick) before the
	// reader gets to it: the default buffer holds about 270 packets.
	conn.SetReadBuffer(8 << 20)
	k := &batchSink{conn: conn, got: map[uint16][]uint16{}}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			h, _, ok := parseRTP(buf[:n])
			if !ok {
				continue
			}
			k.mu.Lock()
			k.got[from.Port()] = append(k.got[from.Port()], h.seq)
			k.mu.Unlock()
		}
	}()
	return k
}

func (k *batchSink) port() int { return k.conn.LocalAddr().(*net.UDPAddr).Port }

func (k *batchSink) from(port int) []uint16 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]uint16(nil), k.got[uint16(port)]...)
}

// batchSessions makes n negotiated sessions sending to the sink, ticked
// by hand (no pacer, no reader).
func batchSessions(t *testing.T, m *Manager, n int, sink *batchSink) []*Session {
	t.Helper()
	var out []*Session
	for i := range n {
		s, err := m.NewSession(t.Context(), "acct", fmt.Sprint("batch-", i))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n", sink.port())
		if _, err := s.Answer(offer); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		s.started = true
		s.mu.Unlock()
		out = append(out, s)
	}
	return out
}

// newBatchManager is a manager whose pacers and loops use io_uring when
// ring (and the kernel allows it).
func newBatchManager(t *testing.T, ring bool) *Manager {
	t.Helper()
	m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: 30000, PortMax: 39999, NoIOURing: !ring}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// forEachMode runs f as a subtest for each way packets go (batchModes),
// with a manager of that way and a sink; the io_uring one is skipped
// where the kernel refuses io_uring.
func forEachMode(t *testing.T, f func(t *testing.T, ring bool, m *Manager, sink *batchSink)) {
	t.Helper()
	for _, mode := range batchModes {
		t.Run(mode.name, func(t *testing.T) {
			needRing(t, mode.ring)
			f(t, mode.ring, newBatchManager(t, mode.ring), newBatchSink(t))
		})
	}
}

// TestSendBatch sends three ticks of 40 sessions (more than one ring's
// worth is TestSendBatchLargeTick) through a batch: every packet arrives
// from its own session's port, in order, and is counted once.
func TestSendBatch(t *testing.T) {
	forEachMode(t, func(t *testing.T, ring bool, m *Manager, sink *batchSink) {
		ss := batchSessions(t, m, 40, sink)
		b := newSendBatch(newRingGate(ring, nil))
		defer b.close()
		now := time.Now()
		for range 3 {
			now = now.Add(ptime)
			for _, s := range ss {
				s.tickBatch(now, b)
			}
			if len(b.pend) != len(ss) {
				t.Fatalf("%d packets queued, want %d", len(b.pend), len(ss))
			}
			b.flush()
			if len(b.pend) != 0 {
				t.Fatalf("%d packets left queued after the flush", len(b.pend))
			}
		}
		if got := b.ring != nil; got != ring {
			t.Fatalf("ring made: %v, want %v", got, ring)
		}
		for _, s := range ss {
			port := s.rtpConn.LocalAddr().Port()
			seqs := waitfor.Value(t, 5*time.Second, "3 packets from "+fmt.Sprint(port), func() ([]uint16, bool) {
				got := sink.from(int(port))
				return got, len(got) >= 3
			})
			if len(seqs) != 3 || seqs[1] != seqs[0]+1 || seqs[2] != seqs[1]+1 {
				t.Errorf("port %d: sequence numbers %v, want 3 in a row", port, seqs)
			}
			if n := s.packetsSent.Load(); n != 3 {
				t.Errorf("port %d: %d packets counted sent, want 3", port, n)
			}
			if n := s.sendErrors.Load(); n != 0 {
				t.Errorf("port %d: %d send errors", port, n)
			}
		}
		if tot := m.Totals(); tot.PacketsSent != 3*40 || tot.DroppedSend != 0 {
			t.Errorf("totals: %d sent, %d dropped at send; want 120, 0", tot.PacketsSent, tot.DroppedSend)
		}
	})
}

// TestSendBatchLargeTick: a tick with more packets than the ring holds is
// sent in several enters, none lost.
func TestSendBatchLargeTick(t *testing.T) {
	needRing(t, true)
	m := newBatchManager(t, true)
	sink := newBatchSink(t)
	ss := batchSessions(t, m, batchRing+30, sink)
	b := newSendBatch(newRingGate(true, nil))
	defer b.close()
	now := time.Now().Add(ptime)
	for _, s := range ss {
		s.tickBatch(now, b)
	}
	b.flush()
	var sent uint64
	for _, s := range ss {
		sent += s.packetsSent.Load() + s.sendErrors.Load()
	}
	if sent != uint64(len(ss)) {
		t.Fatalf("%d packets accounted for, want %d", sent, len(ss))
	}
	waitfor.True(t, 5*time.Second, "a packet from every session", func() bool {
		for _, s := range ss {
			if len(sink.from(int(s.rtpConn.LocalAddr().Port()))) == 0 {
				return false
			}
		}
		return true
	})
}

// TestSendBatchErrors: a packet the kernel refuses (a broadcast address
// the socket may not send to: EACCES) is counted in DroppedSend, in
// either mode, and the packets queued around it still go.
func TestSendBatchErrors(t *testing.T) {
	forEachMode(t, func(t *testing.T, ring bool, m *Manager, sink *batchSink) {
		ss := batchSessions(t, m, 5, sink)
		bad := ss[2]
		bad.mu.Lock()
		bad.remote = netip.MustParseAddrPort("255.255.255.255:9")
		bad.mu.Unlock()
		b := newSendBatch(newRingGate(ring, nil))
		defer b.close()
		now := time.Now().Add(ptime)
		for _, s := range ss {
			s.tickBatch(now, b)
		}
		b.flush()
		if n := bad.sendErrors.Load(); n != 1 {
			t.Errorf("refused packet: %d send errors counted, want 1", n)
		}
		if n := bad.packetsSent.Load(); n != 0 {
			t.Errorf("refused packet counted as sent (%d)", n)
		}
		if tot := m.Totals(); tot.DroppedSend != 1 || tot.PacketsSent != 4 {
			t.Errorf("totals: %d dropped at send, %d sent; want 1, 4", tot.DroppedSend, tot.PacketsSent)
		}
		for _, s := range ss {
			if s == bad {
				continue
			}
			port := int(s.rtpConn.LocalAddr().Port())
			waitfor.True(t, 5*time.Second, "the packet from "+fmt.Sprint(port), func() bool { return len(sink.from(port)) == 1 })
		}
	})
}

// TestSendBatchClosedSocket: a session whose socket closed before its
// packet was queued counts it as not sent; its descriptor, reused by a
// new socket, never carries it.
func TestSendBatchClosedSocket(t *testing.T) {
	forEachMode(t, func(t *testing.T, ring bool, m *Manager, sink *batchSink) {
		ss := batchSessions(t, m, 3, sink)
		gone := ss[1]
		gone.rtpConn.close()
		// Another call's socket takes the descriptor number.
		other, err := listenUDP(netip.MustParseAddr("127.0.0.1"), 0, false)
		if err != nil {
			t.Fatal(err)
		}
		defer other.close()
		b := newSendBatch(newRingGate(ring, nil))
		defer b.close()
		now := time.Now().Add(ptime)
		for _, s := range ss {
			s.tickBatch(now, b)
		}
		b.flush()
		if n := gone.sendErrors.Load(); n != 1 {
			t.Errorf("closed socket: %d send errors, want 1", n)
		}
		for _, s := range []*Session{ss[0], ss[2]} {
			port := int(s.rtpConn.LocalAddr().Port())
			waitfor.True(t, 5*time.Second, "the packet from "+fmt.Sprint(port), func() bool { return len(sink.from(port)) == 1 })
		}
		if got := sink.from(int(other.LocalAddr().Port())); len(got) != 0 {
			t.Errorf("the closed session's packet went out of another socket: %v", got)
		}
	})
}

// TestSendBatchCloseWaits: a Close racing a tick waits for the packet
// already queued to complete, so the packet goes out of the session's own
// port, never out of a socket that took the descriptor number in between.
func TestSendBatchCloseWaits(t *testing.T) {
	forEachMode(t, func(t *testing.T, ring bool, m *Manager, sink *batchSink) {
		ss := batchSessions(t, m, 4, sink)
		port := int(ss[0].rtpConn.LocalAddr().Port())
		b := newSendBatch(newRingGate(ring, nil))
		defer b.close()
		now := time.Now().Add(ptime)
		for _, s := range ss {
			s.tickBatch(now, b)
		}
		closed := make(chan struct{})
		go func() {
			ss[0].Close()
			close(closed)
		}()
		b.flush()
		<-closed
		// The Close could not take the socket before the flush.
		if n := ss[0].packetsSent.Load(); n != 1 {
			t.Fatalf("the packet queued before Close: %d sent (%d send errors), want 1", n, ss[0].sendErrors.Load())
		}
		waitfor.True(t, 5*time.Second, "the packet from the closing session's port", func() bool { return len(sink.from(port)) == 1 })
	})
}

// TestSendBatchRingFails: where the ring cannot be made at run time
// (io_uring refused by a seccomp profile, the sysctl, memory), the batch
// falls back to sendto for good and loses nothing.
func TestSendBatchRingFails(t *testing.T) {
	m := newBatchManager(t, true)
	sink := newBatchSink(t)
	ss := batchSessions(t, m, 6, sink)
	b := newSendBatch(newRingGate(true, nil))
	defer b.close()
	tries := 0
	b.newRing = func(uint32) (*uring, error) {
		tries++
		return nil, fmt.Errorf("%w: refused", errNoURing)
	}
	now := time.Now()
	for range 2 {
		now = now.Add(ptime)
		for _, s := range ss {
			s.tickBatch(now, b)
		}
		b.flush()
	}
	if tries != 1 {
		t.Errorf("ring tried %d times, want once", tries)
	}
	if b.gate.open() {
		t.Error("the manager's gate is still open after a ring failed: every pacer would try again")
	}
	for _, s := range ss {
		port := int(s.rtpConn.LocalAddr().Port())
		waitfor.True(t, 5*time.Second, "2 packets from "+fmt.Sprint(port), func() bool { return len(sink.from(port)) == 2 })
	}
}

// TestSendBatchOneSession: a pacer with one session sends with sendto
// and makes no ring (batchMin).
func TestSendBatchOneSession(t *testing.T) {
	m := newBatchManager(t, true)
	sink := newBatchSink(t)
	ss := batchSessions(t, m, 1, sink)
	b := newSendBatch(newRingGate(true, nil))
	defer b.close()
	ss[0].tickBatch(time.Now().Add(ptime), b)
	b.flush()
	if b.ring != nil {
		t.Error("a ring was made for one packet")
	}
	port := int(ss[0].rtpConn.LocalAddr().Port())
	waitfor.True(t, 5*time.Second, "the packet", func() bool { return len(sink.from(port)) == 1 })
}

// TestPacerSendsBothWays runs real pacers (started sessions) with and
// without io_uring: every session's stream arrives.
func TestPacerSendsBothWays(t *testing.T) {
	forEachMode(t, func(t *testing.T, ring bool, m *Manager, sink *batchSink) {
		if m.paceT.ring.open() != ring {
			t.Fatalf("pacing thread's ring %v, want %v", m.paceT.ring.open(), ring)
		}
		var ss []*Session
		for i := range 60 { // 3 a pacer: batches of 3
			s, err := m.NewSession(context.Background(), "acct", fmt.Sprint("p-", i))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", sink.port())
			if _, err := s.Answer(offer); err != nil {
				t.Fatal(err)
			}
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			ss = append(ss, s)
		}
		for _, s := range ss {
			port := int(s.rtpConn.LocalAddr().Port())
			waitfor.True(t, 10*time.Second, "5 packets from "+fmt.Sprint(port), func() bool { return len(sink.from(port)) >= 5 })
		}
		if tot := m.Totals(); tot.DroppedSend != 0 {
			t.Errorf("%d packets dropped at send", tot.DroppedSend)
		}
	})
}

// TestProbeSupports reads struct io_uring_probe as the kernel fills it.
func TestProbeSupports(t *testing.T) {
	probe := func(lastOp, opsLen uint8, set map[uint8]uint16) []byte {
		b := make([]byte, 16+8*64)
		b[0], b[1] = lastOp, opsLen
		for i := range int(opsLen) {
			b[16+8*i] = uint8(i)
		}
		for op, flags := range set {
			b[16+8*int(op)+2], b[16+8*int(op)+3] = byte(flags), byte(flags>>8)
		}
		return b
	}
	for _, c := range []struct {
		name  string
		probe []byte
		want  bool
	}{
		{"supported", probe(50, 51, map[uint8]uint16{ioringOpSendmsg: 1}), true},
		{"listed, not supported", probe(50, 51, map[uint8]uint16{ioringOpSendmsg: 0}), false},
		{"other flag bits only", probe(50, 51, map[uint8]uint16{ioringOpSendmsg: 0x100}), false},
		{"kernel knows fewer ops", probe(5, 6, map[uint8]uint16{}), false},
		{"fewer ops reported", probe(50, 8, map[uint8]uint16{ioringOpSendmsg: 1}), false},
		{"short buffer", []byte{50, 51, 0, 0}, false},
		{"truncated ops", probe(50, 51, map[uint8]uint16{ioringOpSendmsg: 1})[:16+8*ioringOpSendmsg+4], false},
		{"op number mismatch", func() []byte {
			b := probe(50, 51, map[uint8]uint16{ioringOpSendmsg: 1})
			b[16+8*ioringOpSendmsg] = 3
			return b
		}(), false},
	} {
		if got := probeSupports(c.probe, ioringOpSendmsg); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestRecvBatch reads a loop's ready sockets as one batch (io_uring) or
// one recvfrom each (forced): packets from the call's address are taken,
// a stranger's (127.0.0.2) is dropped, an empty socket and an event for a
// session that left are passed over.
func TestRecvBatch(t *testing.T) {
	forEachMode(t, func(t *testing.T, ring bool, m *Manager, _ *batchSink) {
		peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		stranger, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
		if err != nil {
			t.Skipf("no 127.0.0.2: %v", err)
		}
		defer stranger.Close()
		// Sessions on one loop, negotiated, their pairs marked started
		// but never polled: the loop's goroutine is never woken for
		// them, and the test hands the loop its events.
		l := m.loops[0]
		var ss []*Session
		for i := range 8 {
			s := newSession(m, "acct", fmt.Sprint("r-", i))
			rtp, rtcp, port, err := m.ports.listen(t.Context(), m.bindIP, m.dualIP)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.add(&rtpPair{rtp: rtp, rtcp: rtcp, port: port}, s); err != nil {
				t.Fatal(err)
			}
			m.sessions.add(s)
			t.Cleanup(func() { s.Close() })
			offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", peer.LocalAddr().(*net.UDPAddr).Port)
			if _, err := s.Answer(offer); err != nil {
				t.Fatal(err)
			}
			s.pair.started.Store(true)
			ss = append(ss, s)
		}
		pkt := make([]byte, rtpHeaderLen+160)
		send := func(from *net.UDPConn, s *Session, seq uint16) {
			putRTP(pkt, rtpHeader{pt: 0, seq: seq, ts: uint32(seq) * 160, ssrc: 7})
			if _, err := from.WriteToUDPAddrPort(pkt, s.rtpConn.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
		for i, s := range ss[:6] {
			send(peer, s, uint16(100+i))
		}
		send(stranger, ss[6], 1) // ss[7]'s socket stays empty
		waitfor.True(t, 5*time.Second, "the packets queued", func() bool {
			for _, s := range ss[:7] {
				n, err := unix.IoctlGetInt(s.rtpConn.fd, unix.SIOCINQ)
				if err != nil || n == 0 {
					return false
				}
			}
			return true
		})
		var evs []unix.EpollEvent
		for _, s := range ss {
			evs = append(evs, s.pair.events[0])
		}
		stale := ss[0].pair.events[0]
		stale.Pad++ // the slot's generation moved on: a session that left
		evs = append(evs, stale)
		l.handle(evs, time.Now())
		if got := l.rb != nil; got != ring {
			t.Errorf("ring used: %v, want %v", got, ring)
		}
		for i, s := range ss[:6] {
			if n := s.packetsReceived.Load(); n != 1 {
				t.Errorf("session %d: %d packets taken, want 1", i, n)
			}
		}
		if n, d := ss[6].packetsReceived.Load(), ss[6].droppedSource.Load(); n != 0 || d != 1 {
			t.Errorf("stranger's packet: %d taken, %d dropped as a stranger; want 0, 1", n, d)
		}
		if n := ss[7].packetsReceived.Load() + ss[7].dropped.Load(); n != 0 {
			t.Errorf("empty socket: %d packets", n)
		}
	})
}

// BenchmarkSendBatch is one pacer tick of 50 sessions (1,000 calls over
// 20 pacers) sent to a local socket: built, queued and flushed in one
// io_uring_enter, or sent with a sendto each. cpu-ns/packet is the
// figure: the sending thread's CPU time (user + kernel, which on
// loopback includes delivering to the sink), steady on a busy machine
// where the wall clock is not.
func BenchmarkSendBatch(b *testing.B) {
	for _, mode := range batchModes {
		b.Run(mode.name, func(b *testing.B) {
			if mode.ring && uringAvailable() != nil {
				b.Skip("io_uring unavailable")
			}
			m, err := NewManager(Config{DataDir: b.TempDir(), BindIP: "127.0.0.1", PortMin: 30000, PortMax: 39999}, nil)
			if err != nil {
				b.Fatal(err)
			}
			sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			sink.SetReadBuffer(8 << 20)
			go func() {
				buf := make([]byte, 1500)
				for {
					if _, _, err := sink.ReadFromUDPAddrPort(buf); err != nil {
						return
					}
				}
			}()
			var ss []*Session
			for i := range 50 {
				s, err := m.NewSession(context.Background(), "acct", fmt.Sprint("bench-", i))
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", sink.LocalAddr().(*net.UDPAddr).Port)
				if _, err := s.Answer(offer); err != nil {
					b.Fatal(err)
				}
				s.mu.Lock()
				s.started = true
				s.mu.Unlock()
				ss = append(ss, s)
			}
			batch := newSendBatch(newRingGate(mode.ring, nil))
			defer batch.close()
			now := time.Now()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var ru0, ru1 unix.Rusage
			b.ReportAllocs()
			b.ResetTimer()
			unix.Getrusage(unix.RUSAGE_THREAD, &ru0)
			for b.Loop() {
				now = now.Add(ptime)
				for _, s := range ss {
					s.tickBatch(now, batch)
				}
				batch.flush()
			}
			unix.Getrusage(unix.RUSAGE_THREAD, &ru1)
			cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
			b.ReportMetric(float64(cpu)/float64(b.N*len(ss)), "cpu-ns/packet")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ss)), "ns/packet")
		})
	}
}

// BenchmarkRecvBatch is one I/O loop batch of 50 ready sockets (one RTP
// packet each, from the call's peer): read in one io_uring_enter, or with
// a recvfrom each, and handled. cpu-ns/packet is the reading thread's
// CPU time for the reads and the handling, not the peer's sends.
func BenchmarkRecvBatch(b *testing.B) {
	for _, mode := range batchModes {
		b.Run(mode.name, func(b *testing.B) {
			if mode.ring && uringAvailable() != nil {
				b.Skip("io_uring unavailable")
			}
			m, err := NewManager(Config{DataDir: b.TempDir(), BindIP: "127.0.0.1", PortMin: 30000, PortMax: 39999, NoIOURing: !mode.ring}, nil)
			if err != nil {
				b.Fatal(err)
			}
			peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer peer.Close()
			l := m.loops[0]
			var ss []*Session
			var evs []unix.EpollEvent
			for i := range 50 {
				s := newSession(m, "acct", fmt.Sprint("r-", i))
				rtp, rtcp, port, err := m.ports.listen(context.Background(), m.bindIP, m.dualIP)
				if err != nil {
					b.Fatal(err)
				}
				if err := l.add(&rtpPair{rtp: rtp, rtcp: rtcp, port: port}, s); err != nil {
					b.Fatal(err)
				}
				m.sessions.add(s)
				defer s.Close()
				offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", peer.LocalAddr().(*net.UDPAddr).Port)
				if _, err := s.Answer(offer); err != nil {
					b.Fatal(err)
				}
				ss = append(ss, s)
				evs = append(evs, s.pair.events[0])
			}
			pkt := make([]byte, rtpHeaderLen+160)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var cpu int64
			var ru0, ru1 unix.Rusage
			seq := uint16(0)
			b.ResetTimer()
			for b.Loop() {
				seq++
				putRTP(pkt, rtpHeader{pt: 0, seq: seq, ts: uint32(seq) * 160, ssrc: 7})
				for _, s := range ss {
					peer.WriteToUDPAddrPort(pkt, s.rtpConn.LocalAddr())
				}
				unix.Getrusage(unix.RUSAGE_THREAD, &ru0)
				l.handle(evs, time.Now())
				unix.Getrusage(unix.RUSAGE_THREAD, &ru1)
				cpu += ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
			}
			var got uint64
			for _, s := range ss {
				got += s.packetsReceived.Load()
			}
			b.ReportMetric(float64(cpu)/float64(max(got, 1)), "cpu-ns/packet")
			b.ReportMetric(float64(got)/float64(b.N*len(ss)), "taken/sent")
		})
	}
}

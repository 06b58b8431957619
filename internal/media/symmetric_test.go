package media_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/mediatest"
	"github.com/switchboard/switchboard/internal/waitfor"
)

func udp(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitfor.True(t, 5*time.Second, what, cond)
}

func TestSymmetricRTP(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	s := mediatest.Session(t, m, "s")
	decoy := udp(t) // the address in the SDP
	peer := udp(t)  // where packets really come from (NAT)
	stranger := udp(t)
	offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n", decoy.LocalAddr().(*net.UDPAddr).Port)
	if _, err := s.Answer(offer); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	// Before any packet arrives we send to the SDP address.
	decoy.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 1500)
	if _, _, err := decoy.ReadFromUDPAddrPort(buf); err != nil {
		t.Fatalf("nothing sent to the SDP address: %v", err)
	}
	dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.LocalPort()))
	seq := uint16(100)
	send := func(c *net.UDPConn, pt uint8, payload []byte) {
		seq++
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 5}, Payload: payload}).Marshal()
		if _, err := c.WriteToUDPAddrPort(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	silence := make([]byte, 160)
	send(peer, 0, silence) // latches
	eventually(t, "the latch", func() bool { return s.Stats().PacketsReceived == 1 })
	// Now we send to the peer.
	peer.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, _, err := peer.ReadFromUDPAddrPort(buf); err != nil {
		t.Fatalf("nothing sent to the latched source: %v", err)
	}
	send(stranger, 0, silence)                            // wrong source
	send(peer, 18, silence)                               // wrong payload type
	send(peer, 101, []byte{1, 2})                         // short event
	send(peer, 0, nil)                                    // empty audio
	peer.WriteToUDPAddrPort([]byte("hello world!!"), dst) // not RTP
	peer.WriteToUDPAddrPort([]byte{0x80, 0}, dst)         // too short
	send(peer, 0, silence)                                // fine
	eventually(t, "the drops", func() bool {
		st := s.Stats()
		return st.Dropped == 6 && st.PacketsReceived == 2
	})
	st := s.Stats()
	if st.BytesReceived != 2*172 || st.PacketsSent == 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestInbandDTMF(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	a := mediatest.Session(t, m, "a")
	b := mediatest.Session(t, m, "b")
	// No telephone-event on either side: digits go as tones and come back
	// through the Goertzel detector.
	noTE := func(port int) []byte {
		return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 8\r\n", port)
	}
	if _, err := a.Answer(noTE(b.LocalPort())); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Answer(noTE(a.LocalPort())); err != nil {
		t.Fatal(err)
	}
	a.Start()
	b.Start()
	go a.SendDigits(t.Context(), "4*7#")
	got, err := b.Gather(t.Context(), call.GatherOptions{FinishOnKey: "#", Timeout: 3 * time.Second})
	if err != nil || got != "4*7" {
		t.Errorf("Gather = %q, %v; want 4*7", got, err)
	}
}

// TestNoLeaks opens and closes 200 negotiated, running sessions and checks
// that goroutines and file descriptors come back to where they were once
// the socket pool lets the sockets go.
func TestNoLeaks(t *testing.T) {
	m := mediatest.Manager(t)
	peer := udp(t)
	offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n", peer.LocalAddr().(*net.UDPAddr).Port)
	go func() { // drain
		buf := make([]byte, 1500)
		for {
			if _, _, err := peer.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	settle := func() (int, int) {
		var g, f int
		waitfor.Within(2*time.Second, func() (struct{}, bool) {
			runtime.GC()
			g, f = runtime.NumGoroutine(), openFDs(t)
			return struct{}{}, g <= baseG && f <= baseF
		})
		return g, f
	}
	baseG, baseF = runtime.NumGoroutine(), openFDs(t)
	var sessions []*media.Session
	for i := range 200 {
		s, err := m.NewSession(t.Context(), "acct", fmt.Sprint("leak-", i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Answer(offer); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	// Every session does something that starts work.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	for _, s := range sessions[:20] {
		go s.Play(ctx, call.PlayOptions{URL: "builtin:beep"})
		s.InjectDigit('1')
	}
	<-ctx.Done() // the plays ran until their context ended
	cancel()
	// Sessions are read by the manager's I/O loops, not a goroutine each
	// (the 20 plays' goroutines may still be returning), and hold their
	// two sockets.
	if g := runtime.NumGoroutine(); g > baseG+20+runtime.GOMAXPROCS(0)+media.PacerSlots {
		t.Errorf("%d goroutines with 200 sessions open, want ≤ %d: a goroutine per session?", g, baseG+20+runtime.GOMAXPROCS(0)+media.PacerSlots)
	}
	if f := openFDs(t); f < baseF+400 {
		t.Errorf("%d fds with 200 sessions open, want ≥ %d (2 a session)", f, baseF+400)
	}
	for _, s := range sessions {
		s.Close()
	}
	// The sockets wait in the pool for the next calls (sockpool.go), and
	// are closed when it lets them go.
	if n := media.PooledPairs(m); n != 200 {
		t.Errorf("%d socket pairs in the pool after 200 sessions closed, want 200", n)
	}
	media.DrainPool(m)
	g, f := settle()
	if g > baseG || f > baseF {
		t.Errorf("after 200 sessions: %d goroutines (was %d), %d fds (was %d)", g, baseG, f, baseF)
	}
}

var baseG, baseF int

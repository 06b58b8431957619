package media_test

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/mediatest"
)

// udpOn listens on a loopback address of its own (127.0.0.2 plays a
// stranger on the network; Linux routes all of 127/8 to lo).
func udpOn(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Skipf("cannot bind %s: %v", ip, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type rtpSender struct {
	t   *testing.T
	dst netip.AddrPort
	seq uint16
}

func (r *rtpSender) send(c *net.UDPConn, n int) {
	r.t.Helper()
	for range n {
		r.seq++
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: r.seq, Timestamp: uint32(r.seq) * 160, SSRC: 7}, Payload: make([]byte, 160)}).Marshal()
		if _, err := c.WriteToUDPAddrPort(b, r.dst); err != nil {
			r.t.Fatal(err)
		}
	}
}

// received reports whether c got any datagram within d (it drains what came).
func received(c *net.UDPConn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 1500)
	got := false
	for {
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			return got
		}
		got = true
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
	}
}

func answered(t *testing.T, s *media.Session, sdpPort int) {
	t.Helper()
	offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n", sdpPort)
	if _, err := s.Answer(offer); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
}

// TestStrangerCannotHijack sprays RTP and RTCP at a live session from an
// address the call never named, before and after the caller's first packet:
// nothing latches to it, nothing is sent to it, and the caller's audio is
// still heard.
func TestStrangerCannotHijack(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	s := mediatest.Session(t, m, "hijack")
	caller := udpOn(t, "127.0.0.1")
	stranger := udpOn(t, "127.0.0.2")
	answered(t, s, caller.LocalAddr().(*net.UDPAddr).Port)
	tx := &rtpSender{t: t, dst: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.LocalPort()))}
	rtcpDst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(tx.dst.Addr(), tx.dst.Port()+1))

	tx.send(stranger, 5) // before the caller: must not latch
	stranger.WriteToUDP([]byte{0x81, 0xc9, 0, 1, 0, 0, 0, 1}, rtcpDst)
	eventually(t, "the stranger's packets dropped", func() bool { return s.Stats().DroppedSource == 6 })
	if st := s.Stats(); st.PacketsReceived != 0 {
		t.Fatalf("a stranger's packet was taken: %+v", st)
	}
	tx.send(caller, 1)
	eventually(t, "the caller latched", func() bool { return s.Stats().PacketsReceived == 1 })
	tx.send(stranger, 20) // after the latch: must not take over
	tx.send(caller, 1)
	eventually(t, "the caller still heard", func() bool { return s.Stats().PacketsReceived == 2 })
	eventually(t, "the stranger's second burst dropped", func() bool { return s.Stats().DroppedSource == 26 })
	if !received(caller, time.Second) {
		t.Error("the caller gets no audio")
	}
	if received(stranger, 300*time.Millisecond) {
		t.Error("the stranger received the call's audio")
	}
}

// TestSignalledSourceAndRelatch: a phone behind NAT whose SDP names another
// address is heard once the signalling's source is allowed; a new port of
// an allowed address takes over only after a sustained stream.
func TestSignalledSourceAndRelatch(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	s := mediatest.Session(t, m, "nat")
	sdpAddr := udpOn(t, "127.0.0.1")
	natted := udpOn(t, "127.0.0.3")
	moved := udpOn(t, "127.0.0.3")
	answered(t, s, sdpAddr.LocalAddr().(*net.UDPAddr).Port)
	tx := &rtpSender{t: t, dst: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.LocalPort()))}

	tx.send(natted, 1)
	eventually(t, "the unsignalled source dropped", func() bool { return s.Stats().DroppedSource == 1 })
	s.AllowSource(netip.MustParseAddr("127.0.0.3"))
	tx.send(natted, 1)
	eventually(t, "the signalled source latched", func() bool { return s.Stats().PacketsReceived == 1 })

	tx.send(moved, 3) // a few packets from a new port: not yet
	tx.send(natted, 1)
	eventually(t, "the latched port kept", func() bool { st := s.Stats(); return st.PacketsReceived == 2 && st.Dropped == 4 })
	received(moved, 100*time.Millisecond)
	tx.send(moved, 10) // a sustained stream: it moves
	eventually(t, "the stream moved", func() bool { return s.Stats().PacketsReceived == 3 })
	if !received(moved, time.Second) {
		t.Error("audio not sent to the new port")
	}
}

package media

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/media/codec"
)

// BenchmarkRelay measures one relayed packet of a bridge: what leg A's
// reader does with a datagram from its phone (checks, latching, receive
// statistics, jitter buffer, PCMU⇄PCMA by table into leg B's relay queue)
// and leg B's pacer tick that sends it (header, and in the "udp" cases the
// sendto to B's phone). The read itself (recvfrom and the goroutine
// wake-up) is not in it. Run with -benchmem: it allocates nothing but
// the tick's RTCP report every rtcpEvery ticks.
func BenchmarkRelay(b *testing.B) {
	for _, bc := range []struct {
		name   string
		udp    bool
		ca, cb codec.Codec
		noTE   bool // phone A offers no telephone-event: digits in band
	}{
		{"wire/PCMU-PCMA", false, codec.PCMU, codec.PCMA, false},
		{"wire/PCMA-PCMA", false, codec.PCMA, codec.PCMA, false},
		{"wire/PCMU-PCMA/inband-digits", false, codec.PCMU, codec.PCMA, true},
		{"udp/PCMU-PCMA", true, codec.PCMU, codec.PCMA, false},
		{"udp/PCMA-PCMA", true, codec.PCMA, codec.PCMA, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, err := NewManager(Config{DataDir: b.TempDir(), BindIP: "127.0.0.1", PortMin: 20000, PortMax: 29999}, nil)
			if err != nil {
				b.Fatal(err)
			}
			phoneA, phoneB := benchSink(b), benchSink(b)
			legA := benchLeg(b, m, "a", phoneA, bc.ca, !bc.noTE)
			legB := benchLeg(b, m, "b", phoneB, bc.cb, true)
			if !bc.udp {
				legB.w = nopWriter{}
			}
			legB.pacer.remove(legB) // the benchmark ticks leg B itself
			ctx, cancel := context.WithCancel(b.Context())
			done := make(chan error, 1)
			go func() { done <- legA.Bridge(ctx, legB) }()
			defer func() { cancel(); <-done }()
			for legA.link.Load() == nil || legB.link.Load() == nil {
				runtime.Gosched()
			}
			src := phoneA.LocalAddr().(*net.UDPAddr).AddrPort()
			pkt := make([]byte, rtpHeaderLen+codec.FrameSamples)
			putRTP(pkt, rtpHeader{pt: uint8(bc.ca), ssrc: 0x1234})
			for i := range pkt[rtpHeaderLen:] {
				pkt[rtpHeaderLen+i] = byte(i)
			}
			now := time.Now()
			seq, ts := uint16(1), uint32(160)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				seq++
				ts += frameTS
				now = now.Add(ptime)
				binary.BigEndian.PutUint16(pkt[2:], seq)
				binary.BigEndian.PutUint32(pkt[4:], ts)
				legA.handlePacket(pkt, src, now)
				legB.tick(now)
			}
			b.StopTimer()
			if got := legB.packetsSent.Load(); bc.udp && got < uint64(b.N)/2 {
				b.Fatalf("leg B sent %d packets for %d relayed", got, b.N)
			}
		})
	}
}

// benchSink is a phone that hears and drops.
func benchSink(b *testing.B) *net.UDPConn {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	return c
}

// benchLeg is a started session answering phone's offer of c only (and
// telephone-event when te).
func benchLeg(b *testing.B, m *Manager, id string, phone *net.UDPConn, c codec.Codec, te bool) *Session {
	s, err := m.NewSession(b.Context(), "acct", id)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	port := phone.LocalAddr().(*net.UDPAddr).Port
	offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %d 101\r\na=rtpmap:101 telephone-event/8000\r\n", port, c)
	if !te {
		offer = fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %d\r\n", port, c)
	}
	if _, err := s.Answer(offer); err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	return s
}

package media

import (
	"net"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// sockPair is two IPv4 (or dual-stack) sockets on loopback, closed at the
// end of the test.
func sockPair(t testing.TB, ip string, v6 bool) (a, b *udpSock) {
	t.Helper()
	open := func() *udpSock {
		u, err := listenUDP(netip.MustParseAddr(ip), 0, v6)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { u.close() })
		return u
	}
	return open(), open()
}

// TestUDPSockNoAlloc holds the send and receive paths to no allocation
// per packet: a cached destination, and a source decoded from a
// caller-owned sockaddr.
func TestUDPSockNoAlloc(t *testing.T) {
	for _, tc := range []struct {
		name, ip string
		v6       bool
	}{{"ipv4", "127.0.0.1", false}, {"dual-stack", "127.0.0.1", true}, {"ipv6", "::1", false}} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := sockPair(t, tc.ip, tc.v6)
			to := b.LocalAddr()
			from := a.LocalAddr()
			pkt := make([]byte, 172)
			buf := make([]byte, 2048)
			var rsa unix.RawSockaddrAny
			allocs := testing.AllocsPerRun(200, func() {
				if _, err := a.WriteToUDPAddrPort(pkt, to); err != nil {
					t.Fatal(err)
				}
				for {
					n, src, e := recvFrom(b.fd, buf, &rsa)
					if e == unix.EAGAIN || e == unix.EINTR {
						continue // loopback delivers synchronously; rare
					}
					if e != 0 || n != len(pkt) || src != from {
						t.Fatalf("recvFrom = %d, %v, %v; want %d from %v", n, src, e, len(pkt), from)
					}
					break
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per packet sent and received, want 0", allocs)
			}
		})
	}
}

// TestUDPSockClosed: a write after close fails cleanly (never reaching a
// descriptor number the kernel gave to another file), and an IPv4 socket
// refuses an IPv6 destination.
func TestUDPSockClosed(t *testing.T) {
	a, b := sockPair(t, "127.0.0.1", false)
	if _, err := a.WriteToUDPAddrPort([]byte{1}, netip.MustParseAddrPort("[::1]:9")); err != errFamily {
		t.Errorf("IPv6 destination from an IPv4 socket: %v, want errFamily", err)
	}
	a.close()
	if _, err := a.WriteToUDPAddrPort([]byte{1}, b.LocalAddr()); err == nil {
		t.Error("write after close succeeded")
	}
	if err := a.close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

// BenchmarkUDPSock is one RTP packet sent and received on loopback: the
// raw sendto from a cached sockaddr and the raw recvfrom.
func BenchmarkUDPSock(b *testing.B) {
	for _, tc := range []struct {
		name string
		v6   bool
	}{{"ipv4", false}, {"dual-stack", true}} {
		b.Run(tc.name, func(b *testing.B) {
			x, y := sockPair(b, "127.0.0.1", tc.v6)
			to := y.LocalAddr()
			pkt := make([]byte, 172)
			buf := make([]byte, 2048)
			var rsa unix.RawSockaddrAny
			b.ReportAllocs()
			for b.Loop() {
				x.WriteToUDPAddrPort(pkt, to)
				recvFrom(y.fd, buf, &rsa)
			}
		})
	}
	// What the sockets were before: Go's net.UDPConn, dual-stack.
	b.Run("net.UDPConn", func(b *testing.B) {
		x, err := net.ListenUDP("udp", &net.UDPAddr{})
		if err != nil {
			b.Fatal(err)
		}
		defer x.Close()
		y, err := net.ListenUDP("udp", &net.UDPAddr{})
		if err != nil {
			b.Fatal(err)
		}
		defer y.Close()
		to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(y.LocalAddr().(*net.UDPAddr).Port))
		pkt := make([]byte, 172)
		buf := make([]byte, 2048)
		b.ReportAllocs()
		for b.Loop() {
			x.WriteToUDPAddrPort(pkt, to)
			y.ReadFromUDPAddrPort(buf)
		}
	})
	// A connect()ed socket written with write: no address per packet.
	b.Run("connected", func(b *testing.B) {
		x, y := sockPair(b, "127.0.0.1", false)
		to := y.LocalAddr()
		if err := unix.Connect(x.fd, &unix.SockaddrInet4{Addr: to.Addr().As4(), Port: int(to.Port())}); err != nil {
			b.Fatal(err)
		}
		pkt := make([]byte, 172)
		buf := make([]byte, 2048)
		var rsa unix.RawSockaddrAny
		b.ReportAllocs()
		for b.Loop() {
			unix.Write(x.fd, pkt)
			recvFrom(y.fd, buf, &rsa)
		}
	})
	// The send alone (the receiver drained in bulk, off the clock).
	b.Run("send-only/ipv4", func(b *testing.B) { benchSend(b, false, false) })
	b.Run("send-only/dual-stack", func(b *testing.B) { benchSend(b, true, false) })
	b.Run("send-only/connected", func(b *testing.B) { benchSend(b, false, true) })
}

func benchSend(b *testing.B, v6, connected bool) {
	x, y := sockPair(b, "127.0.0.1", v6)
	to := y.LocalAddr()
	if connected {
		if err := unix.Connect(x.fd, &unix.SockaddrInet4{Addr: to.Addr().As4(), Port: int(to.Port())}); err != nil {
			b.Fatal(err)
		}
	}
	pkt := make([]byte, 172)
	buf := make([]byte, 2048)
	var rsa unix.RawSockaddrAny
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if connected {
			unix.Write(x.fd, pkt)
		} else {
			x.WriteToUDPAddrPort(pkt, to)
		}
		if i++; i%64 == 0 {
			b.StopTimer()
			for {
				if _, _, e := recvFrom(y.fd, buf, &rsa); e != 0 {
					break
				}
			}
			b.StartTimer()
		}
	}
}

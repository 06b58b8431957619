package media

import (
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
}

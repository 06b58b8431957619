package sip

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestSourceAddrAsNet checks that a datagram's source reads as
// net.UDPConn.ReadFrom's would (IPv4, IPv6 with a zone, IPv4-mapped from a
// dual-stack socket), that a source is made once, that a socket's WriteTo
// takes it, and that the table stays bounded.
func TestSourceAddrAsNet(t *testing.T) {
	var tab sourceTable
	for _, s := range []string{"127.0.0.1:5060", "[::1]:5070", "[fe80::1%lo]:5080", "[::ffff:10.1.2.3]:5090"} {
		ap := netip.MustParseAddrPort(s)
		a := tab.get(ap)
		want := net.UDPAddrFromAddrPort(ap)
		if a.String() != want.String() || a.Network() != "udp" || !a.IP.Equal(want.IP) || len(a.IP) != len(want.IP) || a.Zone != want.Zone {
			t.Errorf("%s: got %q %v %q, want %q %v %q", s, a.String(), a.IP, a.Zone, want.String(), want.IP, want.Zone)
		}
		if tab.get(ap) != a {
			t.Errorf("%s: made twice", s)
		}
		if u, ok := udpAddr(a).(*net.UDPAddr); !ok || u.String() != want.String() {
			t.Errorf("%s: udpAddr gave %v", s, udpAddr(a))
		}
	}
	for i := range maxSources + 10 {
		tab.get(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 5060))
	}
	if n := len(tab.m); n > maxSources {
		t.Errorf("%d sources kept, want at most %d", n, maxSources)
	}

	// Over a real socket: the counted conn's source answers as net's.
	a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var stats messageStats
	c := newCountedPacketConn(a, &stats)
	if _, err := b.WriteTo([]byte("OPTIONS sip:x SIP/2.0\r\n\r\n"), a.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, from, err := c.ReadFrom(buf)
	if err != nil || n == 0 {
		t.Fatalf("read %d, %v", n, err)
	}
	if from.String() != b.LocalAddr().String() {
		t.Errorf("source %s, want %s", from, b.LocalAddr())
	}
	if _, err := c.WriteTo([]byte("SIP/2.0 200 OK\r\n\r\n"), from); err != nil {
		t.Fatalf("write to the source: %v", err)
	}
	b.SetReadDeadline(time.Now().Add(30 * time.Second)) // a bound on a lost datagram, not a wait
	if _, err := b.Read(buf); err != nil {
		t.Fatal(err)
	}
	if stats.requests[dirIn][4].Load() != 1 || stats.responses[dirOut][100].Load() != 1 {
		t.Error("datagrams not counted")
	}
}

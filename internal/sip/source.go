package sip

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// sourceAddr is a datagram's source as the UDP listener hands it to
// sipgo: the address with its text made once. sipgo asks for the text of
// every datagram's source (its connection pool and the message's Source
// are keyed by it), and net.UDPAddr makes it anew each time, with the
// address itself: five allocations a datagram, three datagrams a call.
type sourceAddr struct {
	net.UDPAddr
	ap   netip.AddrPort
	text string
}

// String is net.UDPAddr's text, made once.
func (a *sourceAddr) String() string { return a.text }

// udpAddr is addr as a *net.UDPAddr when it is one or a sourceAddr (what
// a UDP socket's WriteTo takes), else addr; no allocation.
func udpAddr(addr net.Addr) net.Addr {
	if a, ok := addr.(*sourceAddr); ok {
		return &a.UDPAddr
	}
	return addr
}

// maxSources bounds the sources kept: past it the table starts again
// (sources spoofed by the thousand cost a table each 4,096, never memory).
const maxSources = 4096

// sourceTable keeps a sourceAddr per datagram source. Its values are
// never changed once made, so they are shared by every reader.
type sourceTable struct {
	last atomic.Pointer[sourceAddr] // the source of the datagram before: most often this one's
	mu   sync.Mutex
	m    map[netip.AddrPort]*sourceAddr
}

// get is the sourceAddr of ap.
func (t *sourceTable) get(ap netip.AddrPort) *sourceAddr {
	if a := t.last.Load(); a != nil && a.ap == ap {
		return a
	}
	t.mu.Lock()
	a := t.m[ap]
	if a == nil {
		if t.m == nil || len(t.m) >= maxSources {
			t.m = make(map[netip.AddrPort]*sourceAddr)
		}
		// As net.UDPConn.ReadFrom makes it: a 4-byte IP from an IPv4
		// socket, 16 bytes and the zone from an IPv6 one.
		a = &sourceAddr{UDPAddr: *net.UDPAddrFromAddrPort(ap), ap: ap}
		a.text = a.UDPAddr.String()
		t.m[ap] = a
	}
	t.mu.Unlock()
	t.last.Store(a)
	return a
}

package sip

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
)

// countedMethods are the request methods counted by name; any other is
// "other", so a peer cannot grow the operator's series.
var countedMethods = [...]string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO",
	"UPDATE", "PRACK", "REFER", "NOTIFY", "SUBSCRIBE", "MESSAGE", "PUBLISH", "other"}

// Directions of a counted message.
const (
	dirIn = iota
	dirOut
)

var dirNames = [2]string{"in", "out"}

// messageStats counts SIP messages as they cross the sockets: requests by
// method, responses by status code, each way. One atomic add per message
// and a look at its first line; nothing is parsed twice.
type messageStats struct {
	requests  [2][len(countedMethods)]atomic.Uint64
	responses [2][600]atomic.Uint64 // codes 100-699
}

// count looks at one message's start line.
func (m *messageStats) count(dir int, b []byte) {
	if code, ok := bytes.CutPrefix(b, []byte("SIP/2.0 ")); ok {
		if len(code) >= 3 {
			if n, err := strconv.Atoi(string(code[:3])); err == nil && n >= 100 && n <= 699 {
				m.responses[dir][n-100].Add(1)
			}
		}
		return
	}
	method, _, found := bytes.Cut(b[:min(len(b), 16)], []byte(" "))
	if !found || len(method) == 0 {
		return // keep-alive CRLFs, garbage
	}
	i := len(countedMethods) - 1
	for j, name := range countedMethods[:i] {
		if string(method) == name {
			i = j
			break
		}
	}
	m.requests[dir][i].Add(1)
}

// MessageCount is one counter of MessageCounts.
type MessageCount struct {
	// Name is a request method ("INVITE", "other") or a status code ("200").
	Name string
	// Direction is "in" (received) or "out" (sent).
	Direction string
	N         uint64
}

// MessageCounts returns the SIP requests (by method) and responses (by
// status code) received and sent since start, the non-zero ones: what an
// operator graphs (/metrics). UDP is counted both ways; on TCP and TLS the
// messages sent on accepted connections (streams are not split into
// messages here).
func (s *Server) MessageCounts() (requests, responses []MessageCount) {
	for dir := range dirNames {
		for i, name := range countedMethods {
			if n := s.stats.requests[dir][i].Load(); n > 0 {
				requests = append(requests, MessageCount{Name: name, Direction: dirNames[dir], N: n})
			}
		}
		for i := range s.stats.responses[dir] {
			if n := s.stats.responses[dir][i].Load(); n > 0 {
				responses = append(responses, MessageCount{Name: strconv.Itoa(i + 100), Direction: dirNames[dir], N: n})
			}
		}
	}
	return requests, responses
}

// countedPacketConn counts the datagrams of the UDP listener: one SIP
// message each. On an addrPortReader it gives each datagram's source as a
// sourceAddr of sources (one per source, made once).
type countedPacketConn struct {
	net.PacketConn
	stats   *messageStats
	sources *sourceTable // nil: the sources are PacketConn's
}

// addrPortReader reads a datagram with its source as a netip.AddrPort,
// which costs no allocation: *net.UDPConn, and the stamped socket that
// wraps it when the queue's wait is measured.
type addrPortReader interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
}

func newCountedPacketConn(pc net.PacketConn, stats *messageStats) countedPacketConn {
	c := countedPacketConn{PacketConn: pc, stats: stats}
	if _, ok := pc.(addrPortReader); ok {
		c.sources = &sourceTable{}
	}
	return c
}

func (c countedPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if c.sources == nil {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if n > 0 {
			c.stats.count(dirIn, b[:n])
		}
		return n, addr, err
	}
	n, ap, err := c.PacketConn.(addrPortReader).ReadFromUDPAddrPort(b)
	if n > 0 {
		c.stats.count(dirIn, b[:n])
	}
	if err != nil && !ap.IsValid() {
		return n, nil, err // as net.UDPConn.ReadFrom: no address with the error
	}
	return n, c.sources.get(ap), err
}

func (c countedPacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(b, udpAddr(addr))
	if err == nil {
		c.stats.count(dirOut, b)
	}
	return n, err
}

// countedListener counts what is written on accepted stream connections
// (sipgo writes one message per Write).
type countedListener struct {
	net.Listener
	stats *messageStats
}

func (l countedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countedConn{c, l.stats}, nil
}

type countedConn struct {
	net.Conn
	stats *messageStats
}

func (c countedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err == nil {
		c.stats.count(dirOut, b)
	}
	return n, err
}

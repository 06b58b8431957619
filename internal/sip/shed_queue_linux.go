package sip

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// stampedConn reads the SIP UDP socket with the kernel's arrival stamp of
// each datagram and counts its wait in the socket. One goroutine reads a
// socket (sipgo's read loop); the lock only keeps the control-message
// buffer safe should another ever read.
type stampedConn struct {
	*net.UDPConn
	wait *queueWait
	mu   sync.Mutex
	oob  []byte
}

// stampSocket turns the kernel's receive stamps on for pc (the kernel
// starts stamping arriving packets a moment later, a deferred static key:
// until then a datagram is stamped as it is read, and its wait reads as
// none, which only delays the queue's say at start) and returns the
// PacketConn that reads them into wait, or pc itself, and an error, when
// it is no UDP socket or the kernel refuses (the queue's wait is then not
// measured and the scheduler's latency judges alone).
func stampSocket(pc net.PacketConn, wait *queueWait) (net.PacketConn, error) {
	c, ok := pc.(*net.UDPConn)
	if !ok {
		return pc, fmt.Errorf("sip udp receive stamps: %T is no UDP socket", pc)
	}
	raw, err := c.SyscallConn()
	if err != nil {
		return pc, fmt.Errorf("sip udp receive stamps: %w", err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return pc, fmt.Errorf("sip udp receive stamps: %w", err)
	}
	if serr != nil {
		return pc, fmt.Errorf("sip udp receive stamps: SO_TIMESTAMPNS: %w", serr)
	}
	return &stampedConn{UDPConn: c, wait: wait, oob: make([]byte, unix.CmsgSpace(16))}, nil
}

// ReadFromUDPAddrPort reads a datagram as UDPConn.ReadFromUDPAddrPort
// does (its source costs no allocation), and counts how long it waited in
// the socket. It hides the embedded UDPConn's, which would not count.
func (c *stampedConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	c.mu.Lock()
	n, oobn, _, ap, err := c.ReadMsgUDPAddrPort(b, c.oob)
	if err == nil {
		if at, ok := arrival(c.oob[:oobn]); ok {
			c.wait.add(max(0, time.Since(at)))
		}
	}
	c.mu.Unlock()
	return n, ap, err
}

// ReadFrom reads a datagram as UDPConn.ReadFrom does, and counts how long
// it waited in the socket.
func (c *stampedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, ap, err := c.ReadFromUDPAddrPort(b)
	if !ap.IsValid() {
		return n, nil, err // not a typed nil in the interface
	}
	return n, net.UDPAddrFromAddrPort(ap), err
}

// arrival is the SO_TIMESTAMPNS stamp in a datagram's control messages,
// read in place (unix.ParseSocketControlMessage allocates).
func arrival(oob []byte) (time.Time, bool) {
	hdr := unix.CmsgLen(0)
	if unix.SizeofCmsghdr != 16 || hdr != 16 {
		return time.Time{}, false // a 32-bit layout: not measured
	}
	for len(oob) >= hdr {
		l := int(binary.NativeEndian.Uint64(oob[0:8]))
		level := int32(binary.NativeEndian.Uint32(oob[8:12]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:16]))
		if l < hdr || l > len(oob) {
			return time.Time{}, false
		}
		if level == syscall.SOL_SOCKET && typ == unix.SCM_TIMESTAMPNS && l >= hdr+16 {
			sec := int64(binary.NativeEndian.Uint64(oob[hdr : hdr+8]))
			nsec := int64(binary.NativeEndian.Uint64(oob[hdr+8 : hdr+16]))
			return time.Unix(sec, nsec), true
		}
		oob = oob[min(len(oob), unix.CmsgSpace(l-hdr)):]
	}
	return time.Time{}, false
}

package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// errFamily is a send to an IPv6 address from an IPv4 socket.
var errFamily = errors.New("media: destination address family differs from the socket's")

// udpSock is an RTP or RTCP socket that Go's poller never sees: it is
// non-blocking, read by the session's I/O loop (ioloop.go) and written
// with a raw sendto from a cached sockaddr, so a packet costs one syscall
// and no allocation either way. It is IPv4 (AF_INET) when the media
// addresses are IPv4, so that an IPv4 send does not take the kernel's
// v4-mapped path; dual-stack IPv6 otherwise.
type udpSock struct {
	// mu guards fd against close: a writer (the pacer, the far leg's
	// relay) holds it shared for the sendto, close takes it alone, so a
	// packet never goes to a number the kernel has handed to another file.
	mu   sync.RWMutex
	fd   int // -1 once closed
	v6   bool
	port int
	dst  atomic.Pointer[sockDst] // the last destination, encoded
}

// sockDst is a destination and its sockaddr, immutable once published.
type sockDst struct {
	addr netip.AddrPort
	sa4  unix.RawSockaddrInet4
	sa6  unix.RawSockaddrInet6
}

// listenUDP opens a non-blocking UDP socket bound to ip:port. An IPv4 ip
// gets an IPv4 socket unless v6 asks for a dual-stack one (bound to the
// unspecified IPv6 address when ip is 0.0.0.0).
func listenUDP(ip netip.Addr, port int, v6 bool) (*udpSock, error) {
	ip = ip.Unmap()
	family := unix.AF_INET
	if v6 || ip.Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("media: socket: %w", err)
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("media: dual-stack socket: %w", err)
		}
		sa6 := &unix.SockaddrInet6{Port: port}
		if !ip.IsUnspecified() {
			sa6.Addr = ip.As16() // an IPv4 address as ::ffff:a.b.c.d
		}
		sa = sa6
	} else {
		sa = &unix.SockaddrInet4{Port: port, Addr: ip.As4()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("media: bind %s: %w", netip.AddrPortFrom(ip, uint16(port)), err)
	}
	return &udpSock{fd: fd, v6: family == unix.AF_INET6, port: port}, nil
}

// close closes the socket once no writer is in a sendto; later writes get
// net.ErrClosed. The session's I/O loop must have let go of it first.
func (u *udpSock) close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.fd < 0 {
		return nil
	}
	err := unix.Close(u.fd)
	u.fd = -1
	return err
}

// LocalAddr is the address the socket is bound to.
func (u *udpSock) LocalAddr() netip.AddrPort {
	u.mu.RLock()
	defer u.mu.RUnlock()
	if u.fd < 0 {
		return netip.AddrPort{}
	}
	sa, err := unix.Getsockname(u.fd)
	if err != nil {
		return netip.AddrPort{}
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// destination returns the encoded sockaddr for addr, from the cache when
// it is the last one used (a call sends to one address for its life).
func (u *udpSock) destination(addr netip.AddrPort) (*sockDst, error) {
	if d := u.dst.Load(); d != nil && d.addr == addr {
		return d, nil
	}
	d := &sockDst{addr: addr}
	ip := addr.Addr()
	switch {
	case u.v6:
		d.sa6.Family = unix.AF_INET6
		d.sa6.Addr = ip.As16() // an IPv4 address as ::ffff:a.b.c.d
		putPort(&d.sa6.Port, addr.Port())
	case ip.Unmap().Is4():
		d.sa4.Family = unix.AF_INET
		d.sa4.Addr = ip.Unmap().As4()
		putPort(&d.sa4.Port, addr.Port())
	default:
		return nil, errFamily
	}
	u.dst.Store(d)
	return d, nil
}

// putPort stores a port in network byte order into a sockaddr's port.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

// The socket calls are raw (no entersyscall/exitsyscall): on a non-blocking
// socket they never wait, and the scheduler's bookkeeping around each
// one cost more than a tenth of the call.

// WriteToUDPAddrPort sends one datagram to addr (the packetWriter seam).
// A full send buffer drops the packet (EAGAIN is returned): RTP is never
// worth waiting for.
func (u *udpSock) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	d, err := u.destination(addr)
	if err != nil {
		return 0, err
	}
	u.mu.RLock()
	n, err := u.sendLocked(b, d)
	u.mu.RUnlock()
	return n, err
}

// sendLocked sends b to d with sendto; the caller holds u.mu shared and
// has seen the socket open.
func (u *udpSock) sendLocked(b []byte, d *sockDst) (int, error) {
	if u.fd < 0 {
		return 0, net.ErrClosed
	}
	return u.sendto(b, d)
}

// sendto sends b to d; the caller holds u.mu shared with the socket open.
func (u *udpSock) sendto(b []byte, d *sockDst) (int, error) {
	var sa unsafe.Pointer
	var salen uintptr
	if u.v6 {
		sa, salen = unsafe.Pointer(&d.sa6), unix.SizeofSockaddrInet6
	} else {
		sa, salen = unsafe.Pointer(&d.sa4), unix.SizeofSockaddrInet4
	}
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(u.fd), uintptr(p), uintptr(len(b)), 0, uintptr(sa), salen)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// recvFrom reads one datagram into b without allocating: the source
// lands in rsa, which the caller owns. It returns EAGAIN when the socket
// is empty. The caller guarantees fd is open (the I/O loop's lock).
func recvFrom(fd int, b []byte, rsa *unix.RawSockaddrAny) (int, netip.AddrPort, syscall.Errno) {
	salen := uint32(unix.SizeofSockaddrAny)
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(&salen)))
	if e != 0 {
		return 0, netip.AddrPort{}, e
	}
	return int(n), sockaddrAddrPort(rsa), 0
}

// sockaddrAddrPort reads a received datagram's source (IPv4-mapped
// addresses unmapped); the zero AddrPort for another family.
func sockaddrAddrPort(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), getPort(&sa.Port))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), getPort(&sa.Port))
	}
	return netip.AddrPort{}
}

func getPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}

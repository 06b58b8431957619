// Package netlimit bounds the connections a listener accepts, in total and
// per source address, so that a flood of idle or slow connections from one
// host (or many) runs into a clean refusal long before the process runs out
// of file descriptors and every other client — a login, a health check, a
// phone's call — fails with it.
package netlimit

import (
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Limits bound a listener; a zero field means no limit of that kind.
type Limits struct {
	// Total is how many accepted connections may be open at once.
	Total int
	// PerSource is how many may be open at once from one IP address.
	PerSource int
}

// Refuser answers a connection over a limit before it is closed (an HTTP
// 503, a SIP 503); it must not block for long: it runs on the accept path
// under a short write deadline.
type Refuser func(c net.Conn, reason string)

// Listener is a net.Listener that accepts only within its Limits: a
// connection over them is answered by the Refuser, closed, and counted.
type Listener struct {
	net.Listener
	limits Limits
	refuse Refuser

	mu       sync.Mutex
	total    int
	bySource map[netip.Addr]int

	refused atomic.Uint64
}

// Wrap bounds ln by limits; refuse (may be nil) answers refused connections.
func Wrap(ln net.Listener, limits Limits, refuse Refuser) *Listener {
	return &Listener{Listener: ln, limits: limits, refuse: refuse, bySource: map[netip.Addr]int{}}
}

// refuseDeadline bounds the answer to a refused connection, so a client
// that does not read cannot hold the accept loop.
const refuseDeadline = 100 * time.Millisecond

// Accept returns the next connection within the limits.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := sourceOf(c)
		if reason := l.admit(src); reason != "" {
			l.refused.Add(1)
			if l.refuse != nil {
				c.SetWriteDeadline(time.Now().Add(refuseDeadline))
				l.refuse(c, reason)
			}
			c.Close()
			continue
		}
		return &conn{Conn: c, l: l, src: src}, nil
	}
}

// admit counts a new connection from src, or says which limit it is over.
func (l *Listener) admit(src netip.Addr) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limits.Total > 0 && l.total >= l.limits.Total {
		return "too many connections"
	}
	if l.limits.PerSource > 0 && l.bySource[src] >= l.limits.PerSource {
		return "too many connections from one address"
	}
	l.total++
	l.bySource[src]++
	return ""
}

func (l *Listener) release(src netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if n := l.bySource[src] - 1; n > 0 {
		l.bySource[src] = n
	} else {
		delete(l.bySource, src)
	}
}

// Open is how many accepted connections are open now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Refused is how many connections were refused since the start.
func (l *Listener) Refused() uint64 { return l.refused.Load() }

func sourceOf(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// conn gives its place back once, when closed.
type conn struct {
	net.Conn
	l    *Listener
	src  netip.Addr
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.src) })
	return err
}

// Unwrap returns the accepted connection, for code that needs its type
// (a *net.TCPConn for keep-alive settings).
func (c *conn) Unwrap() net.Conn { return c.Conn }

// HTTP503 is a Refuser for HTTP listeners: a complete 503 answer with
// Retry-After, so clients and load balancers back off instead of retrying
// at once.
func HTTP503(c net.Conn, reason string) {
	_, _ = c.Write([]byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Retry-After: 1\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(reason)+1) + "\r\n\r\n" + reason + "\n"))
}

var _ net.Listener = (*Listener)(nil)

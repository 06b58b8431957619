package sip

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/netlimit"
)

// Defaults of the limits on SIP connections (TCP and TLS).
const (
	defaultTCPMaxConns          = 4096
	defaultTCPMaxConnsPerSource = 128
	defaultTCPIdleTimeout       = 10 * time.Minute
	defaultTCPMessageTimeout    = 10 * time.Second
	// maxTCPPending bounds what the framer holds of an incomplete message;
	// a longer one is left to sipgo, which refuses it.
	maxTCPPending = 1 << 20
)

// errUnparsable closes a connection that sent a message that does not
// parse, once it was answered 400.
var errUnparsable = errors.New("sip: unparsable message over a stream")

// streamListener bounds the SIP connections a listener accepts (in total
// and per source, netlimit) and wraps each one in a streamConn, which
// times reads out: a connection that sends nothing, or dribbles half a
// message, is closed rather than held for ever.
type streamListener struct {
	net.Listener
	s      *Server
	framed bool // plain TCP: the guard frames its messages (not TLS)
}

func (s *Server) wrapStream(ln net.Listener, framed bool) net.Listener {
	limited := netlimit.Wrap(ln, netlimit.Limits{Total: s.cfg.TCPMaxConns, PerSource: s.cfg.TCPMaxConnsPerSource},
		func(c net.Conn, reason string) {
			s.strangerLog("sip connection refused", "source", c.RemoteAddr().String(), "reason", reason)
		})
	return &streamListener{Listener: limited, s: s, framed: framed}
}

// Accept returns the next connection within the limits, registered so the
// guard can answer an unparsable message on it.
func (l *streamListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	sc := &streamConn{Conn: c, s: l.s, key: c.RemoteAddr().String(), framed: l.framed}
	if l.framed {
		l.s.streams.Store(sc.key, sc)
	}
	return sc, nil
}

// streamConn is an accepted SIP connection. sipgo reads it from one
// goroutine, which also runs the read filter (guard): pending and
// messages are that goroutine's alone.
type streamConn struct {
	net.Conn
	s         *Server
	key       string
	framed    bool
	pending   []byte // the start of a message not yet complete
	messages  int    // complete messages seen
	closeOnce sync.Once
}

// Read sets the deadline of the next read: short while no message came
// yet or one is half received, the idle timeout between messages.
func (c *streamConn) Read(p []byte) (int, error) {
	d := c.s.cfg.TCPIdleTimeout
	if c.framed && (c.messages == 0 || len(c.pending) > 0) {
		d = min(d, c.s.cfg.TCPMessageTimeout)
	} else if !c.framed && c.messages == 0 {
		d = min(d, c.s.cfg.TCPMessageTimeout)
		c.messages = 1 // TLS: the handshake and first read are the first message
	}
	if err := c.Conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

// Close forgets the connection and closes it.
func (c *streamConn) Close() error {
	c.closeOnce.Do(func() { c.s.streams.CompareAndDelete(c.key, c) })
	return c.Conn.Close()
}

// guardStream frames what a TCP connection sends, as sipgo's stream
// parser will, and parses each complete message first: one that does not
// parse is answered 400 (RFC 3261 §18.3, RFC 4475) and the connection is
// closed, where sipgo would close it without a word. It returns what sipgo
// is to read: the data less the CRLFs between messages (RFC 3261 §7.5
// keep-alives, RFC 5626 §3.5.1 pings, answered here with a pong), which
// sipgo's stream parser only copes with when they come alone.
func (s *Server) guardStream(raddr string, data []byte) ([]byte, error) {
	v, ok := s.streams.Load(raddr)
	if !ok {
		return data, nil // a connection we dialled
	}
	c := v.(*streamConn)
	old := len(c.pending)
	if old == 0 && len(data) <= 4 && len(bytes.Trim(data, "\r\n")) == 0 {
		return data, nil // a keep-alive alone: sipgo answers it
	}
	c.pending = append(c.pending, data...)
	var cut []int // [from, to) ranges of data left out
	pos := 0      // where c.pending starts, counted from the first byte held before data
	for {
		trimmed := bytes.TrimLeft(c.pending, "\r\n")
		if n := len(c.pending) - len(trimmed); n > 0 {
			from, to := max(pos, old)-old, pos+n-old
			if to > from {
				cut = append(cut, from, to)
				if bytes.Contains(data[from:to], []byte("\r\n\r\n")) {
					c.pong()
				}
			}
			pos += n
			c.pending = trimmed
		}
		end := bytes.Index(c.pending, []byte("\r\n\r\n"))
		if end < 0 {
			if len(c.pending) > maxTCPPending {
				c.pending = nil
			}
			return without(data, cut), nil
		}
		n, ok := contentLength(c.pending[:end])
		total := end + 4 + n
		if !ok || n > maxTCPPending {
			total = end + 4 // no usable length: the head alone is judged
		} else if len(c.pending) < total {
			return without(data, cut), nil
		}
		msg := c.pending[:total]
		_, err := s.parser.ParseSIP(msg)
		if err == nil && !ok {
			err = errors.New("no usable Content-Length")
		}
		if err != nil {
			s.strangerLog("sip message unparsable", "source", raddr, "transport", "tcp", "err", err)
			if res := badRequest(msg); res != nil {
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				if _, werr := c.Conn.Write(res); werr != nil {
					s.log.Debug("stateless 400 not sent", "raddr", raddr, "err", werr)
				}
			}
			c.pending = nil
			return nil, errUnparsable
		}
		c.messages++
		pos += total
		c.pending = c.pending[total:]
		if len(c.pending) == 0 {
			c.pending = nil
			return without(data, cut), nil
		}
	}
}

// pong answers a CRLF ping (RFC 5626 §3.5.1).
func (c *streamConn) pong() {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := c.Conn.Write([]byte("\r\n")); err != nil {
		c.s.log.Debug("keep-alive pong not sent", "raddr", c.key, "err", err)
	}
}

// without is data less the [from, to) ranges in cut (in order); data
// itself when there are none.
func without(data []byte, cut []int) []byte {
	if len(cut) == 0 {
		return data
	}
	out := make([]byte, 0, len(data))
	at := 0
	for i := 0; i < len(cut); i += 2 {
		out = append(out, data[at:cut[i]]...)
		at = cut[i+1]
	}
	return append(out, data[at:]...)
}

// contentLength reads the Content-Length (or "l") of a message head; ok
// is false when it is missing or not a number (a stream cannot frame
// without it).
func contentLength(head []byte) (int, bool) {
	for _, line := range strings.Split(string(head), "\r\n") {
		name, value, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length", "l":
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil || n < 0 {
				return 0, false
			}
			return n, true
		}
	}
	return 0, false
}

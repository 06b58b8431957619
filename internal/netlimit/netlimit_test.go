package netlimit_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/netlimit"
	"github.com/switchboard/switchboard/internal/waitfor"
)

func listen(t *testing.T, limits netlimit.Limits) *netlimit.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := netlimit.Wrap(ln, limits, netlimit.HTTP503)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l
}

// dialFrom connects to l from a given loopback address.
func dialFrom(t *testing.T, l net.Listener, ip string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial from %s: %v", ip, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// get sends one request on c and returns the status line.
func get(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return "write: " + err.Error()
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "read: " + err.Error()
	}
	return strings.TrimSpace(line)
}

func TestPerSourceLimitLeavesOthersServed(t *testing.T) {
	l := listen(t, netlimit.Limits{Total: 10, PerSource: 3})
	for range 3 { // one host holds its share, idle
		dialFrom(t, l, "127.0.0.2")
	}
	waitfor.True(t, 5*time.Second, "3 connections accepted", func() bool { return l.Open() == 3 })
	if got := get(t, dialFrom(t, l, "127.0.0.2")); !strings.Contains(got, "503") {
		t.Errorf("a 4th connection from the same host got %q, want 503", got)
	}
	if got := get(t, dialFrom(t, l, "127.0.0.3")); !strings.Contains(got, "200") {
		t.Errorf("another host got %q, want 200", got)
	}
	if l.Refused() != 1 {
		t.Errorf("refused %d, want 1", l.Refused())
	}
}

func TestTotalLimitAndRelease(t *testing.T) {
	l := listen(t, netlimit.Limits{Total: 2})
	a := dialFrom(t, l, "127.0.0.4")
	dialFrom(t, l, "127.0.0.5")
	waitfor.True(t, 5*time.Second, "2 connections accepted", func() bool { return l.Open() == 2 })
	if got := get(t, dialFrom(t, l, "127.0.0.6")); !strings.Contains(got, "503") || !strings.Contains(got, "Service Unavailable") {
		t.Errorf("over the total: %q, want 503", got)
	}
	a.Close()
	waitfor.True(t, 5*time.Second, "the closed connection's place given back", func() bool { return l.Open() == 1 })
	if got := get(t, dialFrom(t, l, "127.0.0.6")); !strings.Contains(got, "200") {
		t.Errorf("after a close: %q, want 200", got)
	}
}

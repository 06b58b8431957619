package server_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/netlimit"
	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
)

// TestHTTPConnectionFloodRefusedCleanly holds idle connections from one
// host up to its share: the next one from that host gets 503 at once, while
// another host's health check and login still work.
func TestHTTPConnectionFloodRefusedCleanly(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, func(c *server.Config) { c.HTTPLimits = netlimit.Limits{Total: 50, PerSource: 5} })
	addr := strings.TrimPrefix(s.URL, "http://")
	dial := func(ip string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial from %s: %v", ip, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	status := func(c net.Conn) string {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err.Error()
		}
		return strings.TrimSpace(line)
	}
	held := make([]net.Conn, 5)
	for i := range held {
		held[i] = dial("127.0.0.2")
	}
	// The fifth held connection is surely accepted once it answers.
	if got := status(held[4]); !strings.Contains(got, "200") {
		t.Fatalf("a connection within the share got %q", got)
	}
	if got := status(dial("127.0.0.2")); !strings.Contains(got, "503") {
		t.Errorf("over the per-source share: %q, want 503", got)
	}
	if got := status(dial("127.0.0.3")); !strings.Contains(got, "200") {
		t.Errorf("another host's health check: %q, want 200", got)
	}
}

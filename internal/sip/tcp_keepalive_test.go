package sip_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/sip"
)

// TestCRLFKeepAliveOverTCP: CRLF keep-alives on a phone's TCP connection
// (RFC 5626 §3.5.1) — a ping alone, pings before and between requests in
// one write — are answered with a pong and leave the connection working:
// every request on it is answered.
func TestCRLFKeepAliveOverTCP(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	c, err := net.Dial("tcp", ts.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	options := func(n int) string {
		return fmt.Sprintf("OPTIONS sip:%[1]s SIP/2.0\r\nVia: SIP/2.0/TCP %[2]s;branch=z9hG4bK-crlf-%[3]d\r\n"+
			"From: <sip:phone@%[2]s>;tag=c%[3]d\r\nTo: <sip:%[1]s>\r\nCall-ID: crlf-%[3]d\r\nCSeq: %[3]d OPTIONS\r\n"+
			"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", ts.Addr(), local, n)
	}
	var got strings.Builder
	// await reads until every want is in what came back (5 s at most).
	await := func(what string, want ...string) {
		t.Helper()
		buf := make([]byte, 4096)
		for {
			done := true
			for _, w := range want {
				done = done && strings.Contains(got.String(), w)
			}
			if done {
				return
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("%s: %v after %q", what, err, got.String())
			}
			got.Write(buf[:n])
		}
	}
	for i, step := range []struct {
		name, write string
		want        []string
	}{
		{"a ping alone gets a pong", "\r\n\r\n", []string{"\r\n"}},
		{"a request", options(1), []string{"Call-ID: crlf-1"}},
		{"two requests with a ping between", options(2) + "\r\n\r\n" + options(3), []string{"Call-ID: crlf-2", "Call-ID: crlf-3"}},
		{"a ping before a request", "\r\n\r\n" + options(4), []string{"Call-ID: crlf-4"}},
		{"a CRLF alone, then a request", "\r\n", nil},
		{"the request after it", options(5), []string{"Call-ID: crlf-5"}},
	} {
		got.Reset()
		if _, err := c.Write([]byte(step.write)); err != nil {
			t.Fatalf("step %d (%s): %v", i, step.name, err)
		}
		await(step.name, step.want...)
		if strings.Contains(got.String(), "SIP/2.0 4") || strings.Contains(got.String(), "SIP/2.0 5") {
			t.Errorf("%s: %q", step.name, got.String())
		}
	}
}

// TestCRLFKeepAliveOverUDP: a CRLF keep-alive datagram is taken without an
// answer, and the next request from the phone is answered.
func TestCRLFKeepAliveOverUDP(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	c, err := net.Dial("udp", ts.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, ping := range []string{"\r\n\r\n", "\r\n"} {
		if _, err := c.Write([]byte(ping)); err != nil {
			t.Fatal(err)
		}
	}
	local := c.LocalAddr().String()
	req := fmt.Sprintf("OPTIONS sip:%[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-crlf-udp\r\n"+
		"From: <sip:phone@%[2]s>;tag=u1\r\nTo: <sip:%[1]s>\r\nCall-ID: crlf-udp\r\nCSeq: 1 OPTIONS\r\n"+
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", ts.Addr(), local)
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer after the keep-alives: %v", err)
	}
	if got := string(buf[:n]); !strings.HasPrefix(got, "SIP/2.0 200 ") || !strings.Contains(got, "crlf-udp") {
		t.Errorf("first datagram back: %q, want the OPTIONS' 200 (no answer to a keep-alive)", got)
	}
}

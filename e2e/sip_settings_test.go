package e2e

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestSIPSettingsFromEnvironment starts serve with the SIP settings in
// SWITCHBOARD_* variables (a comma-separated trust list among them) and
// talks to it with raw UDP: OPTIONS is answered, an INVITE from the
// trusted 127.0.0.1 to a number nobody serves gets 404.
func TestSIPSettingsFromEnvironment(t *testing.T) {
	port := sipFreePort(t)
	env := []string{
		fmt.Sprintf("SWITCHBOARD_SIP_ADDR=127.0.0.1:%d", port),
		"SWITCHBOARD_TRUST=10.0.0.0/8,127.0.0.1",
		"SWITCHBOARD_RTP_PORTS=" + rtpPorts(t),
		"SWITCHBOARD_PUBLIC_IP=127.0.0.1",
	}
	serve(t, env, "--http-addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--admin-key", "env-sip-key-0123456789")
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	server := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	send := func(method, user, body string) string {
		id := fmt.Sprintf("%s-%d", strings.ToLower(method), time.Now().UnixNano())
		msg := method + " sip:" + user + "@" + server.String() + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + c.LocalAddr().String() + ";branch=z9hG4bK" + id + "\r\n" +
			"From: <sip:env@127.0.0.1>;tag=" + id + "\r\nTo: <sip:" + user + "@" + server.String() + ">\r\n" +
			"Call-ID: " + id + "\r\nCSeq: 1 " + method + "\r\nContact: <sip:env@" + c.LocalAddr().String() + ">\r\n" +
			"Max-Forwards: 70\r\n"
		if body != "" {
			msg += "Content-Type: application/sdp\r\n"
		}
		msg += fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
		if _, err := c.WriteTo([]byte(msg), server); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		for {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				t.Fatalf("%s: no final answer: %v", method, err)
			}
			line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
			if !strings.HasPrefix(line, "SIP/2.0 1") {
				return line
			}
		}
	}
	if got := send("OPTIONS", "ping", ""); got != "SIP/2.0 200 OK" {
		t.Errorf("OPTIONS: %q", got)
	}
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	if got := send("INVITE", "4040", sdp); got != "SIP/2.0 404 Not Found" {
		t.Errorf("INVITE to an unknown number: %q", got)
	}
}

// TestBadSIPSettingsRefused: serve refuses a bad trust entry or RTP range
// with a message naming it.
func TestBadSIPSettingsRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--trust", "10.0.0.300"}, "trust"},
		{[]string{"--rtp-ports", "20000-10000"}, "--rtp-ports"},
		{[]string{"--sip-addr", "127.0.0.1:99999"}, "sip addr"},
	} {
		args := append([]string{"serve", "--http-addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, tc.args...)
		_, stderr, err := run(t, nil, "", args...)
		if err == nil || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: err %v, stderr %q, want a failure naming %q", tc.args, err, stderr, tc.want)
		}
	}
}

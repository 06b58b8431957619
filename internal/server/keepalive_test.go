package server_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// registerAt registers device user (password user+"-password") from conn
// with its Contact at contact, answering the digest challenge.
func registerAt(t *testing.T, s *servertest.Server, conn net.PacketConn, user, contact string) {
	t.Helper()
	send := func(cseq int, authz string) string {
		msg := fmt.Sprintf("REGISTER sip:%[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-ka-%[3]s-%[4]d\r\n"+
			"From: <sip:%[3]s@%[1]s>;tag=k%[4]d\r\nTo: <sip:%[3]s@%[1]s>\r\nCall-ID: ka-%[3]s\r\nCSeq: %[4]d REGISTER\r\n"+
			"Contact: <sip:%[3]s@%[5]s>\r\nExpires: 600\r\nMax-Forwards: 70\r\n", s.SIPAddr(), conn.LocalAddr(), user, cseq, contact)
		if authz != "" {
			msg += "Authorization: " + authz + "\r\n"
		}
		dst, _ := net.ResolveUDPAddr("udp", s.SIPAddr())
		if _, err := conn.WriteTo([]byte(msg+"Content-Length: 0\r\n\r\n"), dst); err != nil {
			t.Fatal(err)
		}
		return string(readSIP(t, conn, "REGISTER answer"))
	}
	status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/devices", s.Token, map[string]any{"data": map[string]any{
		"name": user, "sip": map[string]any{"username": user, "password": user + "-password"}}})
	if status != http.StatusCreated {
		t.Fatalf("create device: %d %v", status, env)
	}
	var chal string
	for _, l := range strings.Split(send(1, ""), "\r\n") {
		if v, ok := strings.CutPrefix(l, "WWW-Authenticate: "); ok {
			chal = v
		}
	}
	c, err := digest.ParseChallenge(chal)
	if err != nil {
		t.Fatalf("challenge %q: %v", chal, err)
	}
	cred, _ := digest.Digest(c, digest.Options{Method: "REGISTER", URI: "sip:" + s.SIPAddr(), Username: user, Password: user + "-password", Count: 1})
	if res := send(2, cred.String()); !strings.HasPrefix(res, "SIP/2.0 200 ") {
		t.Fatalf("register %s: %q", user, res)
	}
}

// readSIP reads one datagram (5 s at most).
func readSIP(t *testing.T, conn net.PacketConn, what string) []byte {
	t.Helper()
	buf := make([]byte, 8192)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := conn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no %s: %v", what, err)
	}
	return buf[:n]
}

// answer200 answers a request read from conn with 200 OK, statelessly.
func answer200(t *testing.T, conn net.PacketConn, to net.Addr, req []byte) {
	t.Helper()
	head, _, _ := strings.Cut(string(req), "\r\n\r\n")
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	for _, l := range strings.Split(head, "\r\n")[1:] {
		name, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "from", "call-id", "cseq":
			b.WriteString(l + "\r\n")
		case "to":
			b.WriteString(l + ";tag=ka\r\n")
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	if _, err := conn.WriteTo([]byte(b.String()), to); err != nil {
		t.Fatal(err)
	}
}

// TestKeepAliveBehindNAT: a phone whose Contact names another address
// than the one it registered from gets OPTIONS at that source address
// every interval; while it answers it stays registered, and once it stops
// answering its binding is dropped. A phone on the LAN (Contact = source)
// gets none.
func TestKeepAliveBehindNAT(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, withSIP(), func(c *server.Config) {
		c.Registrar.KeepAlive, c.Registrar.KeepAliveTimeout = 300*time.Millisecond, 200*time.Millisecond
	})
	natted, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer natted.Close()
	lan, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lan.Close()
	registerAt(t, s, lan, "lee", lan.LocalAddr().String())
	registerAt(t, s, natted, "kim", "192.0.2.10:5062")
	regs := func() string {
		_, env := s.Do("GET", "/v2/accounts/"+s.AccountID+"/registrations", s.Token, nil)
		var users []string
		for _, r := range env["data"].([]any) {
			users = append(users, fmt.Sprint(r.(map[string]any)["username"]))
		}
		return strings.Join(users, ",")
	}
	if got := regs(); !strings.Contains(got, "kim") || !strings.Contains(got, "lee") {
		t.Fatalf("registered: %q", got)
	}
	for i := range 4 {
		buf := make([]byte, 8192)
		natted.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, from, err := natted.ReadFrom(buf)
		if err != nil {
			t.Fatalf("keep-alive %d: %v", i+1, err)
		}
		req := buf[:n]
		if !strings.HasPrefix(string(req), "OPTIONS sip:kim@192.0.2.10:5062 SIP/2.0\r\n") {
			t.Fatalf("keep-alive %d: %q", i+1, req)
		}
		if from.String() != s.SIPAddr() {
			t.Errorf("keep-alive from %s, not the SIP port %s (the NAT's mapping is for that one)", from, s.SIPAddr())
		}
		answer200(t, natted, from, req)
	}
	if got := regs(); !strings.Contains(got, "kim") {
		t.Fatalf("kim dropped while answering: %q", got)
	}
	// Kim's phone is gone: three unanswered probes drop the binding.
	waitfor.True(t, 10*time.Second, "kim's binding dropped", func() bool { return !strings.Contains(regs(), "kim") })
	if got := regs(); got != "lee" {
		t.Errorf("registered after the drop: %q, want lee only", got)
	}
	lan.SetReadDeadline(time.Now().Add(time.Millisecond))
	if n, _, err := lan.ReadFrom(make([]byte, 2048)); err == nil {
		t.Errorf("the phone on the LAN got a keep-alive: %d bytes", n)
	}
}

package server_test

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/switchboard/switchboard/internal/servertest"
)

// sendRegister sends one REGISTER over UDP and returns the status line
// and the challenge.
func sendRegister(t *testing.T, conn net.PacketConn, server, user string, cseq int, authz string) (string, string) {
	t.Helper()
	local := conn.LocalAddr().String()
	msg := fmt.Sprintf("REGISTER sip:%[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-%[3]s-%[4]d\r\n"+
		"From: <sip:%[3]s@%[1]s>;tag=f%[4]d\r\nTo: <sip:%[3]s@%[1]s>\r\nCall-ID: keep-%[3]s\r\nCSeq: %[4]d REGISTER\r\n"+
		"Contact: <sip:%[3]s@%[2]s>\r\nExpires: 600\r\nMax-Forwards: 70\r\n", server, local, user, cseq)
	if authz != "" {
		msg += "Authorization: " + authz + "\r\n"
	}
	dst, _ := net.ResolveUDPAddr("udp", server)
	if _, err := conn.WriteTo([]byte(msg+"Content-Length: 0\r\n\r\n"), dst); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := conn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	var status, chal string
	for i, l := range strings.Split(string(buf[:n]), "\r\n") {
		if i == 0 {
			status = l
		}
		if name, v, ok := strings.Cut(l, ":"); ok && name == "WWW-Authenticate" {
			chal = strings.TrimSpace(v)
		}
	}
	return status, chal
}

// TestRegistrationsSurviveRestart: a binding made before a restart is
// still listed (and dialable) after it.
func TestRegistrationsSurviveRestart(t *testing.T) {
	s := servertest.New(t, withSIP())
	status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/devices", s.Token, map[string]any{"data": map[string]any{
		"name": "erin", "sip": map[string]any{"username": "erin", "password": "erin-password"}}})
	if status != http.StatusCreated {
		t.Fatalf("create device: %d %v", status, env)
	}
	id := servertest.Lookup(env, "data.id").(string)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, chal := sendRegister(t, conn, s.SIPAddr(), "erin", 1, "")
	c, err := digest.ParseChallenge(chal)
	if err != nil {
		t.Fatalf("challenge %q: %v", chal, err)
	}
	cred, _ := digest.Digest(c, digest.Options{Method: "REGISTER", URI: "sip:" + s.SIPAddr(), Username: "erin", Password: "erin-password", Count: 1})
	if st, _ := sendRegister(t, conn, s.SIPAddr(), "erin", 2, cred.String()); !strings.Contains(st, " 200 ") {
		t.Fatalf("register: %q", st)
	}
	s.Restart()
	s.Token = s.SignIn(servertest.AdminKey)
	status, env = s.Do("GET", "/v2/accounts/"+s.AccountID+"/devices/"+id+"/registrations", s.Token, nil)
	regs, _ := env["data"].([]any)
	if status != http.StatusOK || len(regs) != 1 {
		t.Fatalf("after restart: %d %v", status, env)
	}
	if got := servertest.Lookup(env, "data.0.contact"); got != "sip:erin@"+conn.LocalAddr().String() {
		t.Errorf("contact after restart: %v", got)
	}
	// Kazoo's names for the same facts, which Kazoo's clients read.
	addr := conn.LocalAddr().(*net.UDPAddr)
	for path, want := range map[string]any{
		"data.0.authorizing_id": id, "data.0.authorizing_type": "device", "data.0.from_user": "erin",
		"data.0.original_contact": "sip:erin@" + conn.LocalAddr().String(),
		"data.0.source_ip":        addr.IP.String(), "data.0.source_port": strconv.Itoa(addr.Port),
		"data.0.contact_ip": addr.IP.String(), "data.0.contact_port": strconv.Itoa(addr.Port),
	} {
		if got := servertest.Lookup(env, path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	if ts, _ := servertest.Lookup(env, "data.0.event_timestamp").(float64); ts < 63_000_000_000 {
		t.Errorf("event_timestamp %v is not in Gregorian seconds", ts)
	}
}

package e2e

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// register sends one REGISTER over UDP from conn (authorization may be
// empty) and returns the status line and the WWW-Authenticate value.
func register(t *testing.T, conn net.PacketConn, server, user string, cseq int, authorization string) (status, challenge string) {
	t.Helper()
	return registerContact(t, conn, server, user, conn.LocalAddr().String(), cseq, authorization)
}

// registerContact is register with the Contact at another address.
func registerContact(t *testing.T, conn net.PacketConn, server, user, contact string, cseq int, authorization string) (status, challenge string) {
	t.Helper()
	return registerExpires(t, conn, server, user, "<sip:"+user+"@"+contact+">", "300", cseq, authorization)
}

// registerExpires is register with a raw Contact value and Expires.
func registerExpires(t *testing.T, conn net.PacketConn, server, user, contact, expires string, cseq int, authorization string) (status, challenge string) {
	t.Helper()
	local := conn.LocalAddr().String()
	msg := fmt.Sprintf("REGISTER sip:%[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-reg%[4]d-%[3]s\r\n"+
		"From: <sip:%[3]s@%[1]s>;tag=r1\r\nTo: <sip:%[3]s@%[1]s>\r\nCall-ID: reg-%[3]s@test\r\nCSeq: %[4]d REGISTER\r\n"+
		"Contact: %[5]s\r\nExpires: %[6]s\r\nMax-Forwards: 70\r\n", server, local, user, cseq, contact, expires)
	if authorization != "" {
		msg += "Authorization: " + authorization + "\r\n"
	}
	msg += "Content-Length: 0\r\n\r\n"
	dst, _ := net.ResolveUDPAddr("udp", server)
	if _, err := conn.WriteTo([]byte(msg), dst); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := conn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no answer to REGISTER %d: %v", cseq, err)
	}
	lines := strings.Split(string(buf[:n]), "\r\n")
	for _, l := range lines {
		if name, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "WWW-Authenticate") {
			challenge = strings.TrimSpace(v)
		}
	}
	return lines[0], challenge
}

// TestRegisterWrongPasswordThrottled: no credentials get a 401 challenge,
// the right password 200, a wrong one 403, and a flood of wrong ones gets
// the source refused without a challenge.
func TestRegisterWrongPasswordThrottled(t *testing.T) {
	s := serveSIP(t)
	base := s.URL + "/v2/accounts/" + s.Account
	if st, env := api(t, "PUT", base+"/devices", s.Token, map[string]any{"data": map[string]any{
		"name": "carol desk", "sip": map[string]any{"username": "carol", "password": "right-password"},
	}}); st != 201 {
		t.Fatalf("create device: %d %v", st, env)
	}
	conn := localUDP(t)
	answer := func(chal, password string) string {
		c, err := digest.ParseChallenge(chal)
		if err != nil {
			t.Fatalf("challenge %q: %v", chal, err)
		}
		cred, err := digest.Digest(c, digest.Options{Method: "REGISTER", URI: "sip:" + s.SIP, Username: "carol", Password: password, Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		return cred.String()
	}
	status, chal := register(t, conn, s.SIP, "carol", 1, "")
	if !strings.Contains(status, " 401 ") || !strings.Contains(chal, `realm="`+s.Account+`"`) || !strings.Contains(chal, "qop") {
		t.Fatalf("no credentials: %q %q", status, chal)
	}
	if status, _ = register(t, conn, s.SIP, "carol", 2, answer(chal, "right-password")); !strings.Contains(status, " 200 ") {
		t.Fatalf("right password: %q", status)
	}
	if status, _ = register(t, conn, s.SIP, "carol", 3, answer(chal, "wrong")); !strings.Contains(status, " 403 ") {
		t.Fatalf("wrong password: %q", status)
	}
	for i := range 12 {
		register(t, conn, s.SIP, "carol", 4+i, answer(chal, fmt.Sprintf("guess%d", i)))
	}
	status, chal = register(t, conn, s.SIP, "carol", 20, "")
	if !strings.Contains(status, " 403 ") || chal != "" {
		t.Errorf("after a flood of wrong passwords: %q %q, want 403 without a challenge", status, chal)
	}
}

// registerDevice creates a device and registers it (digest auth, from
// conn) with its Contact at contact; it returns the device id.
func registerDevice(t *testing.T, s *sipServer, conn net.PacketConn, user, contact string) string {
	t.Helper()
	base := s.URL + "/v2/accounts/" + s.Account
	st, env := api(t, "PUT", base+"/devices", s.Token, map[string]any{"data": map[string]any{
		"name": user, "sip": map[string]any{"username": user, "password": user + "-pw-secret"},
	}})
	if st != 201 {
		t.Fatalf("create device %s: %d %v", user, st, env)
	}
	id := env["data"].(map[string]any)["id"].(string)
	_, chal := registerContact(t, conn, s.SIP, user, contact, 1, "")
	c, err := digest.ParseChallenge(chal)
	if err != nil {
		t.Fatalf("challenge %q: %v", chal, err)
	}
	cred, err := digest.Digest(c, digest.Options{Method: "REGISTER", URI: "sip:" + s.SIP, Username: user, Password: user + "-pw-secret", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := registerContact(t, conn, s.SIP, user, contact, 2, cred.String()); !strings.Contains(status, " 200 ") {
		t.Fatalf("register %s: %s", user, status)
	}
	return id
}

// TestRingGroupFirstAnswerWins: a ring group of three registered sipp
// phones; the first to answer is bridged to the caller, the two others
// get CANCEL.
func TestRingGroupFirstAnswerWins(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	conn := localUDP(t)
	ports := []int{sipFreePort(t), sipFreePort(t), sipFreePort(t)}
	var endpoints []map[string]any
	for i, p := range ports {
		id := registerDevice(t, s, conn, fmt.Sprintf("member%d", i+1), fmt.Sprintf("127.0.0.1:%d", p))
		endpoints = append(endpoints, map[string]any{"id": id, "endpoint_type": "device"})
	}
	winner := sippCmd(t, "uas_answer_late.xml", "-p", fmt.Sprint(ports[0]))()
	losers := []*sippRun{
		sippCmd(t, "uas_ring_cancel.xml", "-p", fmt.Sprint(ports[1]))(),
		sippCmd(t, "uas_ring_cancel.xml", "-p", fmt.Sprint(ports[2]))(),
	}
	for _, p := range ports { // every member listens before the group rings
		awaitUDPBound(t, p)
	}
	s.flow(t, "3100", map[string]any{"module": "ring_group", "data": map[string]any{
		"strategy": "simultaneous", "timeout": 20, "endpoints": endpoints,
	}})
	if err := runSipp(t, s, "uac_record.xml", "3100", "rg-"); err != nil {
		t.Fatal(err)
	}
	if err := winner.Wait(); err != nil {
		t.Fatalf("winner: %v", err)
	}
	for i, l := range losers {
		if err := l.Wait(); err != nil {
			t.Fatalf("loser %d: %v", i+2, err)
		}
	}
	tr := s.traceOf(t, "rg-")
	if d := traceLines(tr, "dial"); len(d) != 1 || d[0]["status"] != "completed" {
		t.Errorf("trace %s", sipDump(tr))
	}
}

// TestRingGroupAnswerOverCancel: a member whose 200 crosses our CANCEL
// (it answered in the instant the other member won) is ACKed and released
// with a BYE (RFC 3261 section 9.1), not left resending its answer with
// the line open; the winner's call goes on as usual. baresip, tried by
// hand, kept such a call open 32 s until its timer gave up.
func TestRingGroupAnswerOverCancel(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	conn := localUDP(t)
	ports := []int{sipFreePort(t), sipFreePort(t)}
	var endpoints []map[string]any
	for i, p := range ports {
		id := registerDevice(t, s, conn, fmt.Sprintf("crossed%d", i+1), fmt.Sprintf("127.0.0.1:%d", p))
		endpoints = append(endpoints, map[string]any{"id": id, "endpoint_type": "device"})
	}
	winner := sippCmd(t, "uas_answer_late.xml", "-p", fmt.Sprint(ports[0]))()
	crossed := sippCmd(t, "uas_answer_over_cancel.xml", "-p", fmt.Sprint(ports[1]))()
	for _, p := range ports {
		awaitUDPBound(t, p)
	}
	s.flow(t, "3101", map[string]any{"module": "ring_group", "data": map[string]any{
		"strategy": "simultaneous", "timeout": 20, "endpoints": endpoints,
	}})
	if err := runSipp(t, s, "uac_record.xml", "3101", "rgx-"); err != nil {
		t.Fatal(err)
	}
	if err := winner.Wait(); err != nil {
		t.Fatalf("winner: %v", err)
	}
	if err := crossed.Wait(); err != nil {
		t.Fatalf("the member whose answer crossed the CANCEL got no ACK and BYE: %v", err)
	}
	tr := s.traceOf(t, "rgx-")
	if d := traceLines(tr, "dial"); len(d) != 1 || d[0]["status"] != "completed" {
		t.Errorf("trace %s", sipDump(tr))
	}
}

// TestRegisterBindings: too short an interval gets 423 with Min-Expires;
// a device holds several contacts; Expires 0 removes one, "*" all; the
// API shows what is bound.
func TestRegisterBindings(t *testing.T) {
	s := serveSIP(t)
	conn := localUDP(t)
	id := registerDevice(t, s, conn, "dave", "127.0.0.1:5999")
	url := s.URL + "/v2/accounts/" + s.Account + "/devices/" + id + "/registrations"
	count := func() int {
		_, env := api(t, "GET", url, s.Token, nil)
		regs, _ := env["data"].([]any)
		return len(regs)
	}
	auth := func(cseq int, contact, expires string) string {
		_, chal := registerExpires(t, conn, s.SIP, "dave", contact, expires, cseq, "")
		c, err := digest.ParseChallenge(chal)
		if err != nil {
			t.Fatalf("challenge %q: %v", chal, err)
		}
		cred, _ := digest.Digest(c, digest.Options{Method: "REGISTER", URI: "sip:" + s.SIP, Username: "dave", Password: "dave-pw-secret", Count: 1})
		status, _ := registerExpires(t, conn, s.SIP, "dave", contact, expires, cseq+1, cred.String())
		return status
	}
	if st := auth(10, "<sip:dave@127.0.0.1:5998>", "10"); !strings.Contains(st, " 423 ") {
		t.Errorf("Expires 10: %q, want 423", st)
	}
	if st := auth(20, "<sip:dave@127.0.0.1:5998>", "120"); !strings.Contains(st, " 200 ") || count() != 2 {
		t.Errorf("second contact: %q, %d bound", st, count())
	}
	if st := auth(30, "<sip:dave@127.0.0.1:5998>", "0"); !strings.Contains(st, " 200 ") || count() != 1 {
		t.Errorf("Expires 0: %q, %d bound", st, count())
	}
	if st := auth(40, "*", "0"); !strings.Contains(st, " 200 ") || count() != 0 {
		t.Errorf("*: %q, %d bound", st, count())
	}
}

// awaitUDPBound waits until a peer (sipp) has bound 127.0.0.1:port, so
// that the first INVITE to it is not refused by ICMP.
func awaitUDPBound(t *testing.T, port int) {
	t.Helper()
	// Read the kernel's socket tables rather than try to bind the port:
	// a probe that binds it, at the moment the peer binds, makes the peer
	// fail to start (sipp then exits and the port stays free).
	want := fmt.Sprintf(":%04X", port)
	waitfor.True(t, 10*time.Second, fmt.Sprintf("a peer listening on %d", port), func() bool {
		for _, table := range []string{"/proc/net/udp", "/proc/net/udp6"} {
			b, err := os.ReadFile(table)
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(b), "\n")[1:] {
				if f := strings.Fields(line); len(f) > 1 && strings.HasSuffix(f[1], want) {
					return true
				}
			}
		}
		return false
	})
}

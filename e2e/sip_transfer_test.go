package e2e

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// heardTone waits until p's recording of its last call (the files are
// named by time) holds d of audio and returns the power of hz in it.
func heardTone(t *testing.T, p *phone, d time.Duration, hz float64) float64 {
	t.Helper()
	var file string
	waitfor.True(t, 20*time.Second, fmt.Sprintf("%v recorded", d), func() bool {
		files, _ := filepath.Glob(filepath.Join(p.Rec, "dump-*-dec.wav"))
		if len(files) == 0 {
			return false
		}
		file = files[len(files)-1] // Glob sorts
		return len(readFile(t, file)) > 44+int(d/time.Second)*16000
	})
	return tonePower(readFile(t, file), hz)
}

// hearEachOther checks that a and b talk: a's recording of its last call
// holds b's tone, well above the tone of not (the party a must no longer
// hear, or a itself), and b's recording holds a's tone. Each recording is
// awaited until it holds d of audio.
func hearEachOther(t *testing.T, a, b, not *phone, d time.Duration) {
	t.Helper()
	pa, pn := heardTone(t, a, d, b.Tone), heardTone(t, a, d, not.Tone)
	pb := heardTone(t, b, d, a.Tone)
	t.Logf("%s hears %s's tone at %.2e (%s's %.2e); %s hears %s's at %.2e", a.Name, b.Name, pa, not.Name, pn, b.Name, a.Name, pb)
	if pa < 1e-4 || pa < 100*pn {
		t.Errorf("%s does not hear %s's %v Hz tone (%.2e; %s's %.2e)", a.Name, b.Name, b.Tone, pa, not.Name, pn)
	}
	if pb < 1e-4 {
		t.Errorf("%s does not hear %s's %v Hz tone (%.2e)", b.Name, a.Name, a.Tone, pb)
	}
}

// threePhones registers alice (2200), bob (2201) and carol (2202) as
// baresip phones, bob's and carol's extensions ringing them through a
// user flow: the cast of the transfer tests.
func threePhones(t *testing.T) (s *sipServer, alice, bob, carol *phone) {
	s = serveSIP(t)
	alice = newPhone(t, s, "alice", "2200", 700)
	bob = newPhone(t, s, "bob", "2201", 1100)
	carol = newPhone(t, s, "carol", "2202", 1500)
	s.flow(t, "2201", map[string]any{"module": "user", "data": map[string]any{"id": bob.UserID, "timeout": 20}})
	s.flow(t, "2202", map[string]any{"module": "user", "data": map[string]any{"id": carol.UserID, "timeout": 20}})
	return s, alice, bob, carol
}

// TestReferBlindTransferBaresip: alice calls bob's extension; bob
// transfers her with baresip's transfer command (SIP REFER). A number
// nobody answers fails the transfer (bob's baresip reads the failed
// NOTIFY, then hangs up by itself: the call staying up is proven by
// TestReferBlindTransfer in internal/sip). On the next call carol's
// extension rings carol, alice and carol talk (each hears the other's
// tone), bob's leg is ended, and alice's hangup ends carol's.
func TestReferBlindTransferBaresip(t *testing.T) {
	s, alice, bob, carol := threePhones(t)

	na, nb, nc := alice.count(), bob.count(), carol.count()
	alice.command(t, "dial", "2201")
	na = alice.await(t, "CALL_ESTABLISHED", na, 15*time.Second)
	nb = bob.await(t, "CALL_ESTABLISHED", nb, 15*time.Second)
	bob.command(t, "transfer", "9999")
	nb = bob.await(t, "TRANSFER_FAILED", nb, 15*time.Second)
	na = alice.await(t, "CALL_CLOSED", na, 10*time.Second) // bob's BYE (it sends no event of its own)

	alice.command(t, "dial", "2201")
	na = alice.await(t, "CALL_ESTABLISHED", na, 15*time.Second)
	nb = bob.await(t, "CALL_ESTABLISHED", nb, 15*time.Second)
	bob.command(t, "transfer", "2202")
	nc = carol.await(t, "CALL_ESTABLISHED", nc, 15*time.Second)
	bob.await(t, "CALL_CLOSED", nb, 10*time.Second) // bob's leg is released
	hearEachOther(t, carol, alice, bob, 3*time.Second)
	alice.command(t, "hangup", "")
	alice.await(t, "CALL_CLOSED", na, 10*time.Second)
	carol.await(t, "CALL_CLOSED", nc, 10*time.Second)

	// Each call's trace has its transfer: to 9999 failed (404), to 2202
	// completed.
	statuses := map[string]bool{}
	for _, tr := range s.traces(t, 2) {
		if d := traceLines(tr, "dial"); len(d) != 1 || d[0]["status"] != "completed" {
			t.Errorf("trace of a call to bob: %s", sipDump(tr))
		}
		x := traceLines(tr, "transfer")
		if len(x) != 1 || x[0]["kind"] != "blind" || x[0]["by"] != "callee" {
			t.Errorf("transfer lines: %s", sipDump(tr))
			continue
		}
		target, _ := x[0]["target"].(string)
		statuses[fmt.Sprintf("%s %v %s", x[0]["status"], x[0]["sip_code"], strings.SplitN(strings.TrimPrefix(target, "sip:"), "@", 2)[0])] = true
	}
	if !statuses["failed 404 9999"] || !statuses["completed 200 2202"] {
		t.Errorf("transfer outcomes %v", statuses)
	}
}

// traces waits until n calls ended and returns their traces.
func (s *sipServer) traces(t *testing.T, n int) [][]map[string]any {
	t.Helper()
	base := s.URL + "/v2/accounts/" + s.Account
	return waitfor.Value(t, 20*time.Second, fmt.Sprintf("%d ended calls", n), func() ([][]map[string]any, bool) {
		_, env := api(t, "GET", base+"/calls", s.Token, nil)
		calls, _ := env["data"].([]any)
		var out [][]map[string]any
		for _, c := range calls {
			c := c.(map[string]any)
			if c["ended"] == nil {
				continue
			}
			_, env = api(t, "GET", base+"/calls/"+c["call_id"].(string)+"/trace", s.Token, nil)
			var tr []map[string]any
			for _, l := range env["data"].([]any) {
				tr = append(tr, l.(map[string]any))
			}
			out = append(out, tr)
		}
		return out, len(out) == n
	})
}

// TestSippHoldPassedThrough: a sipp caller bridged to a sipp callee puts
// the call on hold and takes it off; the callee gets Switchboard's
// re-INVITEs with a=sendonly, then a=sendrecv (the scenarios check the
// bodies), and the caller's own re-INVITEs are answered recvonly, then
// sendrecv.
func TestSippHoldPassedThrough(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	farPort := sipFreePort(t)
	far := sippCmd(t, "uas_hold.xml", "-p", fmt.Sprint(farPort))()
	awaitUDPBound(t, farPort)
	c := newCustomer(t, map[string]string{
		"/voice": fmt.Sprintf(`<Response><Dial timeout="10"><Sip>sip:far@127.0.0.1:%d</Sip></Dial></Response>`, farPort),
	})
	s.flow(t, "3300", pivot(c.URL+"/voice"))
	if err := runSipp(t, s, "uac_hold.xml", "3300", "hold-"); err != nil {
		t.Fatal(err)
	}
	if err := far.Wait(); err != nil {
		t.Fatalf("far end: %v", err)
	}
	tr := s.traceOf(t, "hold-")
	if d := traceLines(tr, "dial"); len(d) != 1 || d[0]["status"] != "completed" {
		t.Errorf("trace %s", sipDump(tr))
	}
}

// TestSippTwiMLRefer: <Refer><Sip> sends REFER to a sipp caller, which
// accepts it and reports the transfer done by NOTIFY; the action gets
// Twilio's Refer parameters and its <Hangup/> ends the call.
func TestSippTwiMLRefer(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	c := newCustomer(t, map[string]string{
		"/voice":    `<Response><Refer action="/referred"><Sip>sip:alice@192.0.2.10?X-Case=42</Sip></Refer></Response>`,
		"/referred": `<Response><Hangup/></Response>`,
	})
	s.flow(t, "3400", pivot(c.URL+"/voice"))
	if err := runSipp(t, s, "uac_refer.xml", "3400", "refer-"); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	for _, r := range c.requests() {
		if r["path"] == "/referred" {
			got = r
		}
	}
	if got == nil || got["ReferCallStatus"] != "in-progress" || got["ReferSipResponseCode"] != "202" || got["NotifySipResponseCode"] != "200" {
		t.Errorf("refer action got %v", got)
	}
	tr := s.traceOf(t, "refer-")
	if r := traceLines(tr, "refer"); len(r) != 1 || r[0]["target"] != "sip:alice@192.0.2.10?X-Case=42" {
		t.Errorf("trace %s", sipDump(tr))
	}
}

// rawUA is a SIP phone on one UDP socket, written message by message as
// on the wire: the transferor of an attended transfer (no SIP tool here
// holds two calls and refers one to the other).
type rawUA struct {
	t    *testing.T
	conn net.PacketConn
	srv  *net.UDPAddr
}

// sipMsg is a received message: its first line and headers by lower-case
// name (first value).
type sipMsg struct {
	first string
	hdr   map[string]string
	raw   string
}

func (m sipMsg) status() int {
	var code int
	fmt.Sscanf(m.first, "SIP/2.0 %d", &code)
	return code
}

// tag is the tag parameter of header h.
func (m sipMsg) tag(h string) string {
	_, v, _ := strings.Cut(m.hdr[h], ";tag=")
	v, _, _ = strings.Cut(v, ";")
	return v
}

// contactURI is the URI of the Contact header.
func (m sipMsg) contactURI() string {
	v := m.hdr["contact"]
	if i := strings.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		v, _, _ = strings.Cut(v, ">")
	}
	return v
}

// newRawUA is a raw phone on a fresh socket of 127.0.0.1 talking to s.
func newRawUA(t *testing.T, s *sipServer) *rawUA {
	t.Helper()
	srv, err := net.ResolveUDPAddr("udp", s.SIP)
	if err != nil {
		t.Fatal(err)
	}
	return &rawUA{t: t, conn: localUDP(t), srv: srv}
}

// localUDP is a UDP socket on a free port of 127.0.0.1, closed when the
// test ends.
func localUDP(t *testing.T) net.PacketConn {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// mediaSink is the port of a socket of the test's own that nobody reads,
// where a raw phone's SDP points what it is sent.
func mediaSink(t *testing.T) int {
	t.Helper()
	return localUDP(t).LocalAddr().(*net.UDPAddr).Port
}

// parseSIP splits a received message into its first line and headers.
func parseSIP(raw string) sipMsg {
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	m := sipMsg{first: lines[0], hdr: map[string]string{}, raw: raw}
	for _, l := range lines[1:] {
		if k, v, ok := strings.Cut(l, ":"); ok {
			k = strings.ToLower(strings.TrimSpace(k))
			if _, seen := m.hdr[k]; !seen {
				m.hdr[k] = strings.TrimSpace(v)
			}
		}
	}
	return m
}

func (u *rawUA) send(msg string) {
	u.t.Helper()
	if _, err := u.conn.WriteTo([]byte(msg), u.srv); err != nil {
		u.t.Fatal(err)
	}
}

// next reads the next message; requests the test does not wait for
// (in-dialog NOTIFY, BYE) are answered 200 and handed on too.
func (u *rawUA) next(within time.Duration) sipMsg {
	u.t.Helper()
	u.conn.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 8192)
	n, _, err := u.conn.ReadFrom(buf)
	if err != nil {
		u.t.Fatalf("raw phone: nothing received: %v", err)
	}
	return parseSIP(string(buf[:n]))
}

// answer sends a response to request m.
func (u *rawUA) answer(m sipMsg, code int, reason, extra, body string) {
	u.t.Helper()
	var vias []string
	head, _, _ := strings.Cut(m.raw, "\r\n\r\n")
	for _, l := range strings.Split(head, "\r\n") {
		if k, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "via") {
			vias = append(vias, l)
		}
	}
	msg := fmt.Sprintf("SIP/2.0 %d %s\r\n%s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n%s",
		code, reason, strings.Join(vias, "\r\n"), m.hdr["from"], m.hdr["to"], m.hdr["call-id"], m.hdr["cseq"], extra)
	if body != "" {
		msg += "Content-Type: application/sdp\r\n"
	}
	msg += fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
	u.send(msg)
}

// rawSDP is the raw phone's offer and answer (its media goes to a socket
// nobody reads: see mediaSink).
func rawSDP(port int) string {
	return fmt.Sprintf("v=0\r\no=raw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n", port)
}

// TestAttendedTransferReplaces: a sipp caller reaches B (a raw phone);
// B calls C (a sipp callee) itself, then refers the caller with Replaces
// naming that call. The caller and C end up bridged (C's speech reaches
// the caller's leg until C hangs up, which ends the caller's call), B
// gets BYE on both of its calls, and a Replaces naming a call that is
// not B's gets 403.
func TestAttendedTransferReplaces(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	b := newRawUA(t, s)
	local := b.conn.LocalAddr().String()
	cPort := sipFreePort(t)
	c := sippCmd(t, "uas_refer_target.xml", "-p", fmt.Sprint(cPort))()
	awaitUDPBound(t, cPort)
	customer := newCustomer(t, map[string]string{
		"/b": fmt.Sprintf(`<Response><Dial timeout="10"><Sip>sip:b@%s</Sip></Dial></Response>`, local),
		// B hears the 200 of its consultation call once C answered.
		"/c": fmt.Sprintf(`<Response><Dial timeout="10" answerOnBridge="true"><Sip>sip:c@127.0.0.1:%d</Sip></Dial></Response>`, cPort),
	})
	s.flow(t, "2301", pivot(customer.URL+"/b"))
	s.flow(t, "2302", pivot(customer.URL+"/c"))

	// 1. The caller calls B; B answers.
	caller := sippCmd(t, "uac_record.xml", s.SIP, "-s", "2301", "-cid_str", "att-%u-%p@%s", "-p", fmt.Sprint(sipFreePort(t)))()
	inv := b.next(15 * time.Second)
	if !strings.HasPrefix(inv.first, "INVITE ") {
		t.Fatalf("B got %q", inv.first)
	}
	inv.hdr["to"] += ";tag=b-one"
	b.answer(inv, 200, "OK", "Contact: <sip:b@"+local+">\r\n", rawSDP(mediaSink(t)))
	for m := b.next(5 * time.Second); !strings.HasPrefix(m.first, "ACK "); m = b.next(5 * time.Second) {
	}

	// 2. B calls C through Switchboard (its consultation call).
	consult, sink := "consult-b-one@127.0.0.1", mediaSink(t)
	b.send(fmt.Sprintf("INVITE sip:2302@%[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-c1\r\n"+
		"From: <sip:b@%[2]s>;tag=b-two\r\nTo: <sip:2302@%[1]s>\r\nCall-ID: %[3]s\r\nCSeq: 1 INVITE\r\n"+
		"Contact: <sip:b@%[2]s>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: %[4]d\r\n\r\n%[5]s",
		s.SIP, local, consult, len(rawSDP(sink)), rawSDP(sink)))
	var ok2 sipMsg
	for ok2 = b.next(15 * time.Second); ok2.status() < 200; ok2 = b.next(15 * time.Second) {
	}
	if ok2.status() != 200 {
		t.Fatalf("consultation call: %s", ok2.first)
	}
	ours2 := ok2.tag("to")
	b.send(fmt.Sprintf("ACK %[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-c1ack\r\n"+
		"From: <sip:b@%[2]s>;tag=b-two\r\nTo: %[3]s\r\nCall-ID: %[4]s\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		ok2.contactURI(), local, ok2.hdr["to"], consult))

	refer := func(cseq int, replaces string) sipMsg {
		b.send(fmt.Sprintf("REFER %[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-r%[3]d\r\n"+
			"From: %[4]s\r\nTo: %[5]s\r\nCall-ID: %[6]s\r\nCSeq: %[3]d REFER\r\nContact: <sip:b@%[2]s>\r\n"+
			"Refer-To: <sip:c@%[7]s?Replaces=%[8]s>\r\nReferred-By: <sip:b@%[2]s>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
			inv.contactURI(), local, cseq, inv.hdr["to"], inv.hdr["from"], inv.hdr["call-id"], s.SIP, url.QueryEscape(replaces)))
		for {
			m := b.next(10 * time.Second)
			if m.status() >= 200 && strings.HasSuffix(m.hdr["cseq"], "REFER") {
				return m
			}
		}
	}
	// 3. A Replaces naming the caller's own call (not B's to replace): 403.
	if r := refer(1, inv.hdr["call-id"]+";to-tag="+inv.tag("from")+";from-tag=stranger"); r.status() != 403 {
		t.Errorf("REFER replacing a call B is not in: %s", r.first)
	}
	// 4. The attended transfer.
	if r := refer(2, consult+";to-tag="+ours2+";from-tag=b-two"); r.status() != 202 {
		t.Fatalf("attended REFER: %s", r.first)
	}
	var frags []string
	byes := map[string]bool{}
	for len(byes) < 2 || len(frags) == 0 || !strings.Contains(frags[len(frags)-1], " 200 ") {
		m := b.next(15 * time.Second)
		switch {
		case strings.HasPrefix(m.first, "NOTIFY "):
			_, body, _ := strings.Cut(m.raw, "\r\n\r\n")
			frags = append(frags, strings.TrimSpace(body))
			b.answer(m, 200, "OK", "", "")
		case strings.HasPrefix(m.first, "BYE "):
			byes[m.hdr["call-id"]] = true
			b.answer(m, 200, "OK", "", "")
		}
	}
	if !byes[consult] || !byes[inv.hdr["call-id"]] {
		t.Errorf("B's legs released: %v", byes)
	}
	if len(frags) != 2 || frags[0] != "SIP/2.0 100 Trying" {
		t.Errorf("NOTIFYs %q", frags)
	}
	// C talks 3 s, hangs up; that ends the caller's call.
	if err := c.Wait(); err != nil {
		t.Fatalf("C: %v", err)
	}
	if err := caller.Wait(); err != nil {
		t.Fatalf("caller: %v", err)
	}
	tr := s.traceOf(t, "att-")
	if d := traceLines(tr, "dial"); len(d) != 1 || d[0]["status"] != "completed" || d[0]["duration"].(float64) < 3 {
		t.Errorf("the caller's trace: %s", sipDump(tr))
	}
	// The transfer line is in the trace of the call whose dialog carried
	// the REFER (the caller's, B being its callee), not in that of the
	// call its Replaces named (B's consultation call).
	if x := traceLines(tr, "transfer"); len(x) != 1 || x[0]["kind"] != "attended" || x[0]["by"] != "callee" ||
		x[0]["status"] != "completed" || x[0]["sip_code"] != 200.0 {
		t.Errorf("the caller's transfer lines: %v", x)
	}
	if x := traceLines(s.traceOf(t, "consult-b-one"), "transfer"); len(x) != 0 {
		t.Errorf("B's consultation call has transfer lines: %v", x)
	}
}

// TestReferBlindTransferByCallerBaresip: alice calls bob's extension and
// transfers bob to carol's (the caller's REFER): carol rings and answers,
// alice's call ends, bob and carol hear each other until bob hangs up.
func TestReferBlindTransferByCallerBaresip(t *testing.T) {
	s, alice, bob, carol := threePhones(t)

	na, nb, nc := alice.count(), bob.count(), carol.count()
	alice.command(t, "dial", "2201")
	na = alice.await(t, "CALL_ESTABLISHED", na, 15*time.Second)
	nb = bob.await(t, "CALL_ESTABLISHED", nb, 15*time.Second)
	alice.command(t, "transfer", "2202")
	nc = carol.await(t, "CALL_ESTABLISHED", nc, 15*time.Second)
	alice.await(t, "CALL_CLOSED", na, 10*time.Second)
	hearEachOther(t, carol, bob, alice, 3*time.Second)
	bob.command(t, "hangup", "")
	bob.await(t, "CALL_CLOSED", nb, 10*time.Second)
	carol.await(t, "CALL_CLOSED", nc, 10*time.Second)
	// One call, alice's, whose caller sent the REFER: its trace has the
	// transfer, by the caller.
	tr := s.traces(t, 1)[0]
	if x := traceLines(tr, "transfer"); len(x) != 1 || x[0]["kind"] != "blind" || x[0]["by"] != "caller" ||
		x[0]["status"] != "completed" || x[0]["sip_code"] != 200.0 {
		t.Errorf("transfer lines: %s", sipDump(tr))
	}
}

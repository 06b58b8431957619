package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// answerRaw has b answer an INVITE it awaits with its to-tag and waits
// for the ACK; it returns the INVITE (its To carrying the tag).
func answerRaw(t *testing.T, b *rawUA, tag string, rtpPort int) sipMsg {
	t.Helper()
	inv := b.next(15 * time.Second)
	for strings.HasPrefix(inv.first, "SIP/2.0") { // a late response of an earlier exchange
		inv = b.next(15 * time.Second)
	}
	if !strings.HasPrefix(inv.first, "INVITE ") {
		t.Fatalf("the raw phone got %q", inv.first)
	}
	inv.hdr["to"] += ";tag=" + tag
	b.answer(inv, 200, "OK", "Contact: <sip:t@"+b.conn.LocalAddr().String()+">\r\n", rawSDP(rtpPort))
	for m := b.next(5 * time.Second); !strings.HasPrefix(m.first, "ACK "); m = b.next(5 * time.Second) {
	}
	return inv
}

// TestAttendedTransferAnsweredBoth: alice and carol (baresip phones)
// each call T (a raw phone) through a flow; T answers both, then refers
// alice's call with a Replaces naming carol's (RFC 3891, T being the
// called party of both). Alice and carol are joined: each hears the
// other's tone; both of T's legs get BYE; alice's hangup ends carol's
// call, and both calls' Dials end completed.
func TestAttendedTransferAnsweredBoth(t *testing.T) {
	s := serveSIP(t)
	alice := newPhone(t, s, "alice", "2200", 700)
	carol := newPhone(t, s, "carol", "2202", 1500)
	b := newRawUA(t, s)
	local := b.conn.LocalAddr().String()
	customer := newCustomer(t, map[string]string{
		"/t": fmt.Sprintf(`<Response><Dial timeout="10"><Sip>sip:t@%s</Sip></Dial></Response>`, local),
	})
	s.flow(t, "2310", pivot(customer.URL+"/t"))

	na, nc := alice.count(), carol.count()
	alice.command(t, "dial", "2310")
	inv1 := answerRaw(t, b, "t-one", mediaSink(t))
	na = alice.await(t, "CALL_ESTABLISHED", na, 15*time.Second)
	carol.command(t, "dial", "2310")
	inv2 := answerRaw(t, b, "t-two", mediaSink(t))
	nc = carol.await(t, "CALL_ESTABLISHED", nc, 15*time.Second)

	replaces := inv2.hdr["call-id"] + ";to-tag=t-two;from-tag=" + inv2.tag("from")
	b.send(fmt.Sprintf("REFER %[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-ab1\r\n"+
		"From: %[3]s\r\nTo: %[4]s\r\nCall-ID: %[5]s\r\nCSeq: 1 REFER\r\nContact: <sip:t@%[2]s>\r\n"+
		"Refer-To: <sip:carol@%[6]s?Replaces=%[7]s>\r\nReferred-By: <sip:t@%[2]s>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		inv1.contactURI(), local, inv1.hdr["to"], inv1.hdr["from"], inv1.hdr["call-id"], s.SIP, url.QueryEscape(replaces)))
	var frags []string
	byes := map[string]bool{}
	accepted := false
	for len(byes) < 2 || len(frags) == 0 || !strings.Contains(frags[len(frags)-1], " 200 ") {
		m := b.next(15 * time.Second)
		switch {
		case m.status() != 0 && strings.HasSuffix(m.hdr["cseq"], "REFER"):
			if m.status() >= 300 {
				t.Fatalf("attended REFER: %s", m.first)
			}
			accepted = accepted || m.status() == 202
		case strings.HasPrefix(m.first, "NOTIFY "):
			_, body, _ := strings.Cut(m.raw, "\r\n\r\n")
			frags = append(frags, strings.TrimSpace(body))
			b.answer(m, 200, "OK", "", "")
		case strings.HasPrefix(m.first, "BYE "):
			byes[m.hdr["call-id"]] = true
			b.answer(m, 200, "OK", "", "")
		}
	}
	if !accepted || !byes[inv1.hdr["call-id"]] || !byes[inv2.hdr["call-id"]] {
		t.Errorf("REFER accepted %v; T's legs released: %v", accepted, byes)
	}
	if len(frags) != 2 || frags[0] != "SIP/2.0 100 Trying" {
		t.Errorf("NOTIFYs %q", frags)
	}
	hearEachOther(t, alice, carol, alice, 6*time.Second)
	alice.command(t, "hangup", "")
	alice.await(t, "CALL_CLOSED", na, 10*time.Second)
	carol.await(t, "CALL_CLOSED", nc, 10*time.Second)
	transfers := 0
	for _, tr := range s.traces(t, 2) {
		if d := traceLines(tr, "dial"); len(d) != 1 || d[0]["status"] != "completed" {
			t.Errorf("a caller's trace: %s", sipDump(tr))
		}
		// The transfer is in the trace of the call the REFER came in.
		for _, x := range traceLines(tr, "transfer") {
			transfers++
			if x["kind"] != "attended" || x["by"] != "callee" || x["status"] != "completed" || x["sip_code"] != 200.0 {
				t.Errorf("transfer line %v", x)
			}
		}
	}
	if transfers != 1 {
		t.Errorf("%d transfer lines, want 1", transfers)
	}
}

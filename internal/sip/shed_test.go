package sip_test

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/sip"
)

// TestAdmissionApproachesCapacity drives the adaptive cap with a machine
// that carries 1,500 new calls a second and is offered 2,250: while the
// rate taken in a window is over what it carries it is "over", under
// 1,400 "clear". The cap must settle near the capacity (not swing down to
// a fraction of it, as shedding everything while over did), and go once
// the offered load falls back.
func TestAdmissionApproachesCapacity(t *testing.T) {
	const capacity, offered = 1500.0, 2250.0
	a := sip.NewAdmission(0)
	now := time.Unix(1_000_000, 0)
	window := 100 * time.Millisecond
	var takenPerWindow []float64
	run := func(d time.Duration, perSecond float64) {
		step := time.Duration(float64(time.Second) / perSecond)
		for end := now.Add(d); now.Before(end); {
			taken := 0
			for next := now.Add(window); now.Before(next); now = now.Add(step) {
				if a.Admit(now) == "" {
					taken++
				}
			}
			rate := float64(taken) / window.Seconds()
			takenPerWindow = append(takenPerWindow, rate)
			a.Adjust(rate > capacity, rate < capacity-100, window, now)
		}
	}
	run(20*time.Second, offered)
	var sum float64
	last := takenPerWindow[len(takenPerWindow)-100:] // the last 10 s
	for _, r := range last {
		sum += r
	}
	mean := sum / float64(len(last))
	t.Logf("offered %.0f/s to a capacity of %.0f/s: taken %.0f/s over the last 10 s, cap %.0f", offered, capacity, mean, a.Cap())
	if mean < 0.85*capacity || mean > 1.05*capacity {
		t.Errorf("taken %.0f calls/s, want near the capacity %.0f", mean, capacity)
	}
	run(10*time.Second, 500)
	if c := a.Cap(); c != 0 {
		t.Errorf("cap %.0f once the load fell to 500/s, want none", c)
	}
	if why := a.Admit(now); why != "" {
		t.Errorf("a call at 500/s shed: %s", why)
	}
}

// TestAdmissionRate: --max-calls-per-second takes a second's burst and
// then the rate, whatever the adaptive cap says.
func TestAdmissionRate(t *testing.T) {
	a := sip.NewAdmission(100)
	now := time.Unix(1_000_000, 0)
	taken := 0
	for i := range 1000 { // 1,000 calls in one second
		if a.Admit(now.Add(time.Duration(i)*time.Millisecond)) == "" {
			taken++
		}
	}
	if taken < 190 || taken > 201 { // the burst of 100, then 100 over the second
		t.Errorf("took %d of 1,000 calls in a second at 100/s", taken)
	}
	if why := a.Admit(now.Add(time.Second)); why != sip.ShedRate {
		t.Errorf("over the rate: %q, want %q", why, sip.ShedRate)
	}
}

// TestStatelessResponse: the 503 built from a raw INVITE parses, answers
// its transaction (Via, From, To with a tag of ours, Call-ID, CSeq), and
// says Retry-After; the raw To-tag check agrees with the parser on every
// RFC 4475 request.
func TestStatelessResponse(t *testing.T) {
	invite := []byte("INVITE sip:1000@10.0.0.1 SIP/2.0\r\n" +
		"v: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-1\r\nVia: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK-2\r\n" +
		"f: \"A\" <sip:a@10.0.0.2>;tag=x\r\nTo: <sip:1000@10.0.0.1>\r\ni: abc@def\r\nCSeq:  7 INVITE\r\n" +
		"Contact: <sip:a@10.0.0.2>\r\nContent-Length: 0\r\n\r\n")
	raw := sip.StatelessResponse(invite, "503 Service Unavailable", "Retry-After: 5", "switchboard")
	msg, err := sipmsg.ParseMessage(raw)
	if err != nil {
		t.Fatalf("503 does not parse: %v\n%s", err, raw)
	}
	res, ok := msg.(*sipmsg.Response)
	if !ok || res.StatusCode != 503 {
		t.Fatalf("not a 503: %s", raw)
	}
	if vias := res.GetHeaders("Via"); len(vias) != 2 || func() string { b, _ := res.Via().Params.Get("branch"); return b }() != "z9hG4bK-1" {
		t.Errorf("Vias %v", vias)
	}
	if tag, _ := res.To().Params.Get("tag"); tag == "" {
		t.Error("To without our tag")
	}
	if res.CallID().Value() != "abc@def" || res.CSeq().SeqNo != 7 || res.From().DisplayName != "A" {
		t.Errorf("headers: %s", raw)
	}
	if h := res.GetHeader("Retry-After"); h == nil || h.Value() != "5" {
		t.Error("no Retry-After")
	}
	if sip.StatelessResponse([]byte("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n"), "503 X", "", "") != nil {
		t.Error("a response to a request without From, To, Call-ID, CSeq")
	}

	files, _ := filepath.Glob(filepath.Join(sip.TortureDir(t), "*.dat"))
	n := 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		m, err := sipmsg.ParseMessage(data)
		if err != nil {
			continue
		}
		req, ok := m.(*sipmsg.Request)
		if !ok || req.To() == nil {
			continue
		}
		n++
		_, tagged := req.To().Params.Get("tag")
		// wsinv's `tag =" 1918181833n"` is a tag sipgo does not read: the
		// raw check sees it (the call is then judged in onInvite).
		if got := sip.RawToTag(data); got != tagged && filepath.Base(f) != "wsinv.dat" {
			t.Errorf("%s: raw To tag %v, parsed %v (To: %s)", filepath.Base(f), got, tagged, req.To().Value())
		}
		if id := sip.RawHeader(data, "call-id", "i"); req.CallID() != nil && len(req.GetHeaders("Call-ID")) == 1 &&
			!bytes.Equal(id, []byte(req.CallID().Value())) && !strings.ContainsAny(string(id), "\r\n") {
			t.Errorf("%s: raw Call-ID %q, parsed %q", filepath.Base(f), id, req.CallID().Value())
		}
	}
	if n < 20 {
		t.Errorf("only %d requests checked", n)
	}
}

// TestShedAsRead: over --max-calls-per-second, a new INVITE over UDP gets
// a stateless 503 with Retry-After and a To tag, again when retransmitted
// (no transaction keeps it; the call is counted once), and the ACK of
// that 503 goes nowhere; a
// retransmission of an INVITE taken is answered by its transaction, never
// shed.
func TestShedAsRead(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{MaxCallsPerSecond: 0.2}) // a burst of one, then one in 5 s
	u := newUDPPeer(t)
	addr, _ := net.ResolveUDPAddr("udp", ts.Addr())
	invite := func(id string) []byte {
		return []byte("INVITE sip:sip-486@" + ts.Addr() + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + u.conns[0].LocalAddr().String() + ";branch=z9hG4bK" + id + "\r\n" +
			"From: <sip:a@127.0.0.1>;tag=f" + id + "\r\nTo: <sip:sip-486@" + ts.Addr() + ">\r\n" +
			"Call-ID: " + id + "\r\nCSeq: 1 INVITE\r\nContact: <sip:a@" + u.conns[0].LocalAddr().String() + ">\r\n" +
			"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
	}
	answer := func(msg []byte, id string) (int, []byte) {
		u.drain()
		if _, err := u.conns[0].WriteTo(msg, addr); err != nil {
			t.Fatal(err)
		}
		deadline := time.After(5 * time.Second)
		for {
			select {
			case b := <-u.got:
				if code := statusOf(b); code >= 200 && callIDOf(b) == id {
					return code, b
				}
			case <-deadline:
				return 0, nil
			}
		}
	}
	if code, _ := answer(invite("taken"), "taken"); code != 486 {
		t.Fatalf("first call: %d, want 486 from its flow", code)
	}
	if code, _ := answer(invite("taken"), "taken"); code != 486 {
		t.Errorf("its retransmission: %d, want the 486 again, not shed", code)
	}
	for range 2 { // the INVITE and its retransmission
		code, res := answer(invite("shed"), "shed")
		if code != 503 {
			t.Fatalf("a call over the rate: %d, want 503", code)
		}
		if !bytes.Contains(res, []byte("\r\nRetry-After: 5\r\n")) || !sip.RawToTag(res) {
			t.Errorf("503 without Retry-After or To tag:\n%s", res)
		}
	}
	ack := bytes.Replace(invite("shed"), []byte("INVITE sip:"), []byte("ACK sip:"), 1)
	ack = bytes.Replace(ack, []byte("CSeq: 1 INVITE"), []byte("CSeq: 1 ACK"), 1)
	if _, err := u.conns[0].WriteTo(ack, addr); err != nil {
		t.Fatal(err)
	}
	u.options(t, ts.Addr())
	if got := ts.ShedCounts(); got[sip.ShedRate] != 1 {
		t.Errorf("shed by reason %v, want 1 for rate: a call counted once, however often its INVITE came", got)
	}
}

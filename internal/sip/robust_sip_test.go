package sip_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// rawInvite is an INVITE from peer to number, with the header lines given
// in place of the defaults (a name mapped to "" leaves the header out).
func rawInvite(peer, server, number, id string, set map[string]string, extra ...string) []byte {
	hdr := map[string]string{
		"Via":          "SIP/2.0/UDP " + peer + ";branch=z9hG4bK" + id,
		"From":         "<sip:caller@127.0.0.1>;tag=f" + id,
		"To":           "<sip:" + number + "@" + server + ">",
		"Max-Forwards": "70",
	}
	for k, v := range set {
		hdr[k] = v
	}
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE sip:%s@%s SIP/2.0\r\n", number, server)
	for _, k := range []string{"Via", "From", "To", "Max-Forwards"} {
		if hdr[k] != "" {
			b.WriteString(k + ": " + hdr[k] + "\r\n")
		}
	}
	for _, line := range extra {
		b.WriteString(line + "\r\n")
	}
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@%s>\r\nContent-Length: 0\r\n\r\n", id, peer)
	return []byte(b.String())
}

// TestMalformedHeadersGet400: requests the parser takes but RFC 3261
// refuses get 400, over UDP and TCP, and never reach the call flow.
func TestMalformedHeadersGet400(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	u := newUDPPeer(t)
	peer := u.conns[0].LocalAddr().String()
	for i, tc := range []struct {
		name string
		set  map[string]string
	}{
		{"via without branch", map[string]string{"Via": "SIP/2.0/UDP " + peer}},
		{"via with an empty branch", map[string]string{"Via": "SIP/2.0/UDP " + peer + ";branch="}},
		{"via branch not a token", map[string]string{"Via": "SIP/2.0/UDP " + peer + ";branch=z9hG4bK<@>"}},
		{"via unknown transport", map[string]string{"Via": "SIP/2.0/FOO " + peer + ";branch=z9hG4bKfoo"}},
		{"via garbage", map[string]string{"Via": "garbage"}},
		{"from without tag", map[string]string{"From": "<sip:caller@127.0.0.1>"}},
		{"max-forwards 256", map[string]string{"Max-Forwards": "256"}},
		{"max-forwards -1", map[string]string{"Max-Forwards": "-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("bad%d", i)
			if got := u.send(t, ts.Addr(), rawInvite(peer, ts.Addr(), "answer-wait", id, tc.set), 5*time.Second); got != 400 {
				t.Errorf("udp: answered %d, want 400", got)
			}
			c, err := net.Dial("tcp", ts.Addr())
			if err != nil {
				t.Fatal(err)
			}
			set := map[string]string{"Via": strings.ReplaceAll(strings.ReplaceAll(tc.set["Via"], "UDP", "TCP"), "z9hG4bK", "z9hG4bKtcp")}
			for k, v := range tc.set {
				if k != "Via" {
					set[k] = v
				}
			}
			if set["Via"] == "" {
				set["Via"] = "SIP/2.0/TCP " + c.LocalAddr().String() + ";branch=z9hG4bKt" + id
			}
			c.Close()
			if got := sendTCP(t, ts.Addr(), rawInvite(peer, ts.Addr(), "answer-wait", "t"+id, set)); got != 400 {
				t.Errorf("tcp: answered %d, want 400", got)
			}
		})
	}
	select {
	case id := <-ts.running:
		t.Errorf("call %s reached the call flow", id)
	default:
	}
}

// TestLargeUDPResponseIsSent: a response over 1,300 bytes still goes out
// over UDP (RFC 3261 §18.2.2): here a 404 echoing eight long Via headers
// of proxies on the way.
func TestLargeUDPResponseIsSent(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	u := newUDPPeer(t)
	peer := u.conns[0].LocalAddr().String()
	var rr []string
	for i := range 8 {
		rr = append(rr, fmt.Sprintf("Via: SIP/2.0/UDP proxy%d.%s.example.net;branch=z9hG4bKproxy%d", i, strings.Repeat("x", 150), i))
	}
	msg := rawInvite(peer, ts.Addr(), "unknown", "big1", nil, rr...)
	u.drain()
	addr, _ := net.ResolveUDPAddr("udp", ts.Addr())
	if _, err := u.conns[0].WriteTo(msg, addr); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case b := <-u.got:
			if code := statusOf(b); code >= 200 {
				if code != 404 || len(b) <= 1300 {
					t.Fatalf("answered %d in %d bytes, want a 404 over 1,300 bytes", code, len(b))
				}
				return
			}
		case <-deadline:
			t.Fatal("no final response: a UDP response over 1,300 bytes was not sent")
		}
	}
}

// TestMediaTimeoutEndsCall: an answered caller that sends no RTP nor RTCP
// (ACK, then gone) is hung up with BYE after the media timeout, and the
// call's cause says media_timeout.
func TestMediaTimeoutEndsCall(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{MediaTimeout: 500 * time.Millisecond})
	ts.media.mu.Lock()
	ts.media.silent = true
	ts.media.mu.Unlock()
	p := newPhone(t, "udp")
	start := time.Now()
	d := p.answered(testCtx(t, 5*time.Second), ts.Addr(), "answer-wait")
	if bye := p.awaitBye("silent caller"); bye.CallID().Value() != d.InviteRequest.CallID().Value() {
		t.Fatal("BYE for another call")
	}
	if took := time.Since(start); took < 500*time.Millisecond {
		t.Errorf("hung up after %v, before the timeout", took)
	}
	r := ts.next(t)
	if ec, ok := errors.AsType[*call.EndCause](r.cause); !ok || ec.Cause != "media_timeout" {
		t.Errorf("cause %v, want media_timeout", r.cause)
	}
	ts.idle(t)
}

// TestSessionRefreshedByUs: when the caller supports session timers but
// asks us to refresh, we send the refresh (UPDATE, which it allows)
// before half the interval, and the call lives on.
func TestSessionRefreshedByUs(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{MinSE: time.Second})
	p := newPhone(t, "udp")
	updates := make(chan *sipmsg.Request, 10)
	p.srv.OnUpdate(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		updates <- req
		res := sipmsg.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sipmsg.NewHeader("Session-Expires", "2;refresher=uas"))
		tx.Respond(res)
	})
	ctx := testCtx(t, 10*time.Second)
	d := p.answered(ctx, ts.Addr(), "answer-wait",
		sipmsg.NewHeader("Session-Expires", "2;refresher=uas"), sipmsg.NewHeader("Supported", "timer"),
		sipmsg.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, UPDATE"))
	if se := d.InviteResponse.GetHeader("Session-Expires"); se == nil || se.Value() != "2;refresher=uas" {
		t.Fatalf("Session-Expires in 200: %v", se)
	}
	for i := range 2 {
		select {
		case u := <-updates:
			if se := u.GetHeader("Session-Expires"); se == nil {
				t.Errorf("refresh %d without Session-Expires", i)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("no refresh %d from us within 3 s", i)
		}
	}
	select {
	case <-p.byes:
		t.Fatal("BYE although the session was refreshed")
	default:
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if r := ts.next(t); !r.hungUp() {
		t.Errorf("cause %v", r.cause)
	}
}

// TestLoadShedding: calls over --max-calls get 503 with Retry-After, and
// so do calls over --max-calls-per-second; the refusals are reported.
func TestLoadShedding(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var refused []sip.Refusal
	record := func(s *sip.Server) {
		s.OnRefuse(func(r sip.Refusal) {
			mu.Lock()
			refused = append(refused, r)
			mu.Unlock()
		})
	}
	ctx := testCtx(t, 10*time.Second)
	p := newPhone(t, "udp")

	ts := newServer(t, sip.Config{MaxCalls: 1}, record)
	first := p.answered(ctx, ts.Addr(), "answer-wait")
	d, code, _ := p.call(ctx, ts.Addr(), "answer-wait")
	if code != 503 {
		t.Fatalf("second call over --max-calls 1: %d, want 503", code)
	}
	if ra := d.InviteResponse.GetHeader("Retry-After"); ra == nil {
		t.Error("503 without Retry-After")
	}
	if n := ts.ShedCounts()[sip.ShedMaxCalls]; n != 1 {
		t.Errorf("calls shed for --max-calls: %d, want 1", n)
	}
	if err := first.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	ts.next(t)
	ts.idle(t)
	if _, code, _ := p.call(ctx, ts.Addr(), "sip-486"); code != 486 {
		t.Errorf("a call once the first ended: %d, want 486", code)
	}

	// One call every 5 s: the second in a row is refused.
	rs := newServer(t, sip.Config{MaxCallsPerSecond: 0.2}, record)
	if _, code, _ := p.call(ctx, rs.Addr(), "sip-486"); code != 486 {
		t.Errorf("first call: %d, want 486", code)
	}
	if _, code, _ := p.call(ctx, rs.Addr(), "sip-486"); code != 503 {
		t.Errorf("second call within 5 s: %d, want 503", code)
	}
	if got := rs.ShedCounts(); got[sip.ShedRate] != 1 || got[sip.ShedMaxCalls] != 0 {
		t.Errorf("calls shed by reason: %v, want 1 for rate", got)
	}
	waitfor.True(t, 5*time.Second, "two refusals reported", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(refused) == 2
	})
	mu.Lock()
	defer mu.Unlock()
	for _, r := range refused {
		if r.Code != 503 || r.AccountID != "acct" || r.Reason != "Overloaded" {
			t.Errorf("refusal %+v", r)
		}
	}
}

// TestStrangerAnsweredOnce: an INVITE from an untrusted source gets one
// stateless 403 and no retransmission of it, or nothing with
// StrangersDrop; either way the call is reported refused.
func TestStrangerAnsweredOnce(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{sip.StrangersReject, sip.StrangersDrop} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			reported := make(chan sip.Refusal, 10)
			ts := newServer(t, sip.Config{Strangers: mode}, func(s *sip.Server) {
				s.OnRefuse(func(r sip.Refusal) { reported <- r })
			})
			ts.trunks.mu.Lock()
			ts.trunks.refuse = true
			ts.trunks.mu.Unlock()
			u := newUDPPeer(t)
			peer := u.conns[0].LocalAddr().String()
			addr, _ := net.ResolveUDPAddr("udp", ts.Addr())
			if _, err := u.conns[0].WriteTo(rawInvite(peer, ts.Addr(), "answer-wait", "stranger1", nil), addr); err != nil {
				t.Fatal(err)
			}
			select {
			case r := <-reported:
				if r.Code != 403 || r.Reason != "untrusted source" {
					t.Errorf("reported %+v", r)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("refusal not reported")
			}
			// Timer G would resend a transaction's 403 after 500 ms: count
			// what comes within 1.2 s.
			n := 0
			deadline := time.After(1200 * time.Millisecond)
		count:
			for {
				select {
				case b := <-u.got:
					if statusOf(b) == 403 {
						n++
					}
				case <-deadline:
					break count
				}
			}
			want := 1
			if mode == sip.StrangersDrop {
				want = 0
			}
			if n != want {
				t.Errorf("%d 403s, want %d", n, want)
			}
		})
	}
}

// TestTCPConnectionLimits: a source gets at most TCPMaxConnsPerSource
// connections, and a connection that sends no message is closed after
// TCPMessageTimeout rather than held.
func TestTCPConnectionLimits(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{TCPMaxConnsPerSource: 2, TCPMessageTimeout: 300 * time.Millisecond})
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", ts.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	closedWithin := func(c net.Conn, d time.Duration) bool {
		c.SetReadDeadline(time.Now().Add(d))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	if !closedWithin(conns[2], 2*time.Second) {
		t.Error("a third connection from one source was kept")
	}
	start := time.Now()
	if !closedWithin(conns[0], 5*time.Second) {
		t.Fatal("a silent connection was held 5 s")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("silent connection closed after %v", took)
	}
	if !closedWithin(conns[1], 5*time.Second) {
		t.Fatal("the second silent connection was held 5 s")
	}
	// With the silent ones gone, a connection that sends a message is
	// served.
	c, err := net.Dial("tcp", ts.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(rawInvite("127.0.0.1:9", ts.Addr(), "sip-486", "tcpok",
		map[string]string{"Via": "SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKtcpok"}))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("INVITE over TCP: no final answer: %v", err)
		}
		if code := statusOf([]byte(line)); code >= 200 {
			if code != 486 {
				t.Errorf("INVITE over TCP: %d, want 486", code)
			}
			return
		}
	}
}

// TestBigRequestGoesOverTCP: an outbound INVITE over 1,300 bytes to a
// URI naming no transport goes over TCP (RFC 3261 §18.1.1); to a peer
// that has no TCP it goes over UDP after all.
func TestBigRequestGoesOverTCP(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	for _, network := range []string{"tcp", "udp"} {
		b := newPhone(t, network)
		events, _ := callee(b, 0, 486, 0)
		_, port := splitAddr(b.addr)
		newPhone(t, "udp").call(testCtx(t, 10*time.Second), ts.Addr(), fmt.Sprintf("dialbig-%d", port))
		select {
		case ev := <-events:
			if got := ev.req.Transport(); !strings.EqualFold(got, network) {
				t.Errorf("callee over %s: INVITE came over %s", network, got)
			}
			if n := len(ev.req.String()); n <= 1300 {
				t.Errorf("INVITE of %d bytes, want over 1,300", n)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("callee over %s: no INVITE", network)
		}
		if r := ts.next(t); r.dial.Status != "busy" {
			t.Errorf("callee over %s: dial %+v %v", network, r.dial, r.err)
		}
	}
}

// TestSessionRefreshedByReinvite: a caller that does not allow UPDATE is
// refreshed with a re-INVITE carrying our SDP, whose 2xx we ACK.
func TestSessionRefreshedByReinvite(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{MinSE: time.Second})
	p := newPhone(t, "udp")
	reinvites := make(chan *sipmsg.Request, 10)
	acks := make(chan *sipmsg.Request, 10)
	p.hooks.Store(&hooks{
		invite: func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
			reinvites <- req
			res := sipmsg.NewResponseFromRequest(req, 200, "OK", []byte(offer))
			res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
			res.AppendHeader(&p.contact)
			tx.Respond(res)
		},
		ack: func(req *sipmsg.Request, tx sipmsg.ServerTransaction) { acks <- req },
	})
	ctx := testCtx(t, 10*time.Second)
	d := p.answered(ctx, ts.Addr(), "answer-wait",
		sipmsg.NewHeader("Session-Expires", "2;refresher=uas"), sipmsg.NewHeader("Supported", "timer"),
		sipmsg.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL"))
	select {
	case r := <-reinvites:
		if len(r.Body()) == 0 || r.GetHeader("Session-Expires") == nil {
			t.Errorf("refresh re-INVITE without SDP or Session-Expires:\n%s", r)
		}
		select {
		case a := <-acks:
			if a.CSeq().SeqNo != r.CSeq().SeqNo {
				t.Errorf("ACK CSeq %d for re-INVITE CSeq %d", a.CSeq().SeqNo, r.CSeq().SeqNo)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("the 2xx of the refresh was not ACKed")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no refresh re-INVITE within 3 s")
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if r := ts.next(t); !r.hungUp() {
		t.Errorf("cause %v", r.cause)
	}
}

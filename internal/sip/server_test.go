package sip_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/sip"
)

func options(t *testing.T, p *phone, server string) *sipmsg.Response {
	t.Helper()
	u := sipmsg.Uri{Scheme: "sip", Host: "127.0.0.1"}
	_, port, _ := strings.Cut(server, ":")
	u.Port = atoi(port)
	req := sipmsg.NewRequest(sipmsg.OPTIONS, u)
	if p.network == "tcp" {
		req.SetTransport("TCP")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		t.Fatalf("OPTIONS: %v", err)
	}
	return res
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestOptionsOverUDPAndTCP(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			res := options(t, newPhone(t, network), ts.Addr())
			if res.StatusCode != 200 {
				t.Fatalf("OPTIONS: %d", res.StatusCode)
			}
			for _, h := range []string{"Allow", "Accept"} {
				if res.GetHeader(h) == nil {
					t.Errorf("no %s header: %s", h, res)
				}
			}
			if a := res.GetHeader("Allow").Value(); !strings.Contains(a, "INVITE") || !strings.Contains(a, "UPDATE") {
				t.Errorf("Allow: %s", a)
			}
		})
	}
}

func TestFinalResponses(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	p := newPhone(t, "udp")
	for _, tc := range []struct {
		number string
		want   int
	}{
		{"unknown", 404},
		{"busy", 486},
		{"rejected", 603},
		{"sip-480", 480},
		{"sip-503", 503},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		_, code, err := p.call(ctx, ts.Addr(), tc.number)
		cancel()
		if err != nil || code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.number, code, err, tc.want)
		}
		r := ts.next(t)
		if r.err != nil {
			t.Errorf("%s: handler: %v", tc.number, r.err)
		}
	}
}

func TestUntrustedSourceGets403(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	ts.trunks.refuse = true
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, code, err := newPhone(t, "udp").call(ctx, ts.Addr(), "answer-wait")
	if err != nil || code != 403 {
		t.Fatalf("got %d %v, want 403", code, err)
	}
	if n := ts.Calls(); n != 0 {
		t.Errorf("%d calls in progress", n)
	}
}

func TestCallerHangsUp(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	for _, network := range []string{"udp", "tcp"} {
		p := newPhone(t, network)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		d, code, err := p.call(ctx, ts.Addr(), "answer-wait", sipmsg.NewHeader("X-Ticket", "42"))
		if err != nil || code != 200 {
			t.Fatalf("%s: call: %d %v", network, code, err)
		}
		if err := d.Bye(ctx); err != nil {
			t.Fatalf("%s: bye: %v", network, err)
		}
		cancel()
		r := ts.next(t)
		if !errors.Is(r.cause, call.ErrHangup) {
			t.Errorf("%s: cause %v, want ErrHangup", network, r.cause)
		}
		if r.info.ID != d.InviteRequest.CallID().Value() || r.info.AccountID != "acct" || r.info.Request != "answer-wait" {
			t.Errorf("%s: info %+v", network, r.info)
		}
		if r.info.SIPHeaders["X-Ticket"] != "42" {
			t.Errorf("%s: X- headers %v", network, r.info.SIPHeaders)
		}
	}
	waitFor(t, func() bool { return ts.Calls() == 0 && ts.media.open() == 0 })
}

func TestServerHangsUpWithBye(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	for _, network := range []string{"udp", "tcp"} {
		p := newPhone(t, network)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		d, code, err := p.call(ctx, ts.Addr(), "answer-hangup")
		cancel()
		if err != nil || code != 200 {
			t.Fatalf("%s: call: %d %v", network, code, err)
		}
		select {
		case bye := <-p.byes:
			if bye.CallID().Value() != d.InviteRequest.CallID().Value() {
				t.Errorf("%s: BYE for another call", network)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no BYE", network)
		}
		if r := ts.next(t); r.err != nil {
			t.Errorf("%s: handler: %v", network, r.err)
		}
	}
}

func TestCancelBeforeAnswer(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	p := newPhone(t, "udp")
	ctx, cancel := context.WithCancel(t.Context())
	d, err := p.invite(ctx, ts.Addr(), "ring", offer)
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	err = d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitAnswer: %v", err)
	}
	if d.InviteResponse == nil || d.InviteResponse.StatusCode != 487 {
		t.Errorf("final response %v, want 487", d.InviteResponse)
	}
	r := ts.next(t)
	if !errors.Is(r.cause, call.ErrHangup) {
		t.Errorf("cause %v, want ErrHangup", r.cause)
	}
	waitFor(t, func() bool { return ts.Calls() == 0 && ts.media.open() == 0 })
}

func TestMalformedSDPGets488(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	p := newPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	d, err := p.invite(ctx, ts.Addr(), "answer-wait", "this is not SDP")
	if err != nil {
		t.Fatal(err)
	}
	err = d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	de, ok := errors.AsType[*sipgo.ErrDialogResponse](err)
	if !ok || de.Res.StatusCode != 488 {
		t.Fatalf("got %v, want 488", err)
	}
	waitFor(t, func() bool { return ts.Calls() == 0 && ts.media.open() == 0 })
}

func TestEarlyMediaThen200(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	p := newPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	d, err := p.invite(ctx, ts.Addr(), "early", offer)
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	var earlySDP bool
	err = d.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sipmsg.Response) error {
		codes = append(codes, r.StatusCode)
		if r.StatusCode == 183 && strings.HasPrefix(string(r.Body()), "v=0") {
			earlySDP = true
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	d.Ack(ctx)
	if !earlySDP || codes[len(codes)-1] != 200 {
		t.Errorf("responses %v, 183 with SDP %v", codes, earlySDP)
	}
	d.Bye(ctx)
	ts.next(t)
}

func TestInfoDigits(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	p := newPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	d, code, err := p.call(ctx, ts.Addr(), "gather")
	if err != nil || code != 200 {
		t.Fatalf("call: %d %v", code, err)
	}
	for _, sig := range []string{"1", "2", "11"} { // 11 is #
		req := sipmsg.NewRequest(sipmsg.INFO, d.InviteResponse.Contact().Address)
		req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/dtmf-relay"))
		req.SetBody([]byte("Signal=" + sig + "\r\nDuration=160\r\n"))
		res, err := d.Do(ctx, req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("INFO %s: %v %v", sig, res, err)
		}
	}
	r := ts.next(t)
	if r.digits != "12" || r.err != nil {
		t.Errorf("digits %q, err %v; want 12", r.digits, r.err)
	}
}

func TestReinviteHoldAndPending(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	p := newPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	d, code, err := p.call(ctx, ts.Addr(), "answer-wait")
	if err != nil || code != 200 {
		t.Fatalf("call: %d %v", code, err)
	}
	hold := strings.Replace(offer, "t=0 0\r\n", "t=0 0\r\na=sendonly\r\n", 1)
	reinvite := func(body string) (*sipmsg.Response, sipmsg.ClientTransaction) {
		req := sipmsg.NewRequest(sipmsg.INVITE, d.InviteResponse.Contact().Address)
		req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		req.SetBody([]byte(body))
		tx, err := d.TransactionRequest(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for {
			select {
			case res := <-tx.Responses():
				if res.IsProvisional() {
					continue
				}
				return res, tx
			case <-tx.Done():
				t.Fatalf("re-INVITE: %v", tx.Err())
			}
		}
	}
	res, tx := reinvite(hold)
	if res.StatusCode != 200 || !strings.HasPrefix(string(res.Body()), "v=0") {
		t.Fatalf("hold re-INVITE: %d %q", res.StatusCode, res.Body())
	}
	// Unacknowledged, a second re-INVITE must wait: 491.
	res2, tx2 := reinvite(offer)
	tx2.Terminate()
	if res2.StatusCode != 491 {
		t.Errorf("overlapping re-INVITE: %d, want 491", res2.StatusCode)
	}
	ack := sipmsg.NewRequest(sipmsg.ACK, d.InviteResponse.Contact().Address)
	ack.AppendHeader(sipmsg.HeaderClone(res.From()))
	ack.AppendHeader(sipmsg.HeaderClone(res.To()))
	ack.AppendHeader(sipmsg.HeaderClone(res.CallID()))
	ack.AppendHeader(&sipmsg.CSeqHeader{SeqNo: res.CSeq().SeqNo, MethodName: sipmsg.ACK})
	if err := p.cli.WriteRequest(ack); err != nil {
		t.Fatal(err)
	}
	tx.Terminate()
	time.Sleep(100 * time.Millisecond) // the ACK is handled on its own goroutine
	// A bad offer is refused and changes nothing.
	bad, tx3 := reinvite("garbage")
	tx3.Terminate()
	if bad.StatusCode != 488 {
		t.Errorf("bad re-INVITE: %d, want 488", bad.StatusCode)
	}
	time.Sleep(100 * time.Millisecond)
	var sess *fakeSession
	ts.media.mu.Lock()
	sess = ts.media.sessions[0]
	ts.media.mu.Unlock()
	sess.mu.Lock()
	n := len(sess.updates)
	sess.mu.Unlock()
	if n != 1 {
		t.Errorf("%d media updates, want 1 (the hold)", n)
	}
	d.Bye(ctx)
	if r := ts.next(t); !errors.Is(r.cause, call.ErrHangup) {
		t.Errorf("cause %v", r.cause)
	}
}

func TestSessionTimer(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{MinSE: time.Second})
	p := newPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()

	// Too short: 422 with our Min-SE.
	d, err := p.invite(ctx, ts.Addr(), "answer-wait", offer, sipmsg.NewHeader("Session-Expires", "0"), sipmsg.NewHeader("Supported", "timer"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err == nil {
		t.Fatal("Session-Expires 0 accepted")
	}
	if d.InviteResponse.StatusCode != 400 {
		t.Errorf("Session-Expires 0: %d, want 400", d.InviteResponse.StatusCode)
	}

	// Refreshed by UPDATE: the call lives on.
	start := time.Now()
	d, code, err := p.call(ctx, ts.Addr(), "answer-wait", sipmsg.NewHeader("Session-Expires", "2;refresher=uac"), sipmsg.NewHeader("Supported", "timer"))
	if err != nil || code != 200 {
		t.Fatalf("call: %d %v", code, err)
	}
	if se := d.InviteResponse.GetHeader("Session-Expires"); se == nil || se.Value() != "2;refresher=uac" {
		t.Errorf("Session-Expires in 200: %v", se)
	}
	if rq := d.InviteResponse.GetHeader("Require"); rq == nil || rq.Value() != "timer" {
		t.Errorf("Require in 200: %v", rq)
	}
	for time.Since(start) < 3*time.Second {
		time.Sleep(500 * time.Millisecond)
		req := sipmsg.NewRequest(sipmsg.UPDATE, d.InviteResponse.Contact().Address)
		req.AppendHeader(sipmsg.NewHeader("Session-Expires", "2;refresher=uac"))
		req.AppendHeader(sipmsg.NewHeader("Supported", "timer"))
		res, err := d.Do(ctx, req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("UPDATE: %v %v", res, err)
		}
	}
	select {
	case <-p.byes:
		t.Fatal("BYE although refreshed")
	default:
	}
	// Then no refresh: BYE before the 2 s run out.
	select {
	case <-p.byes:
	case <-time.After(3 * time.Second):
		t.Fatal("no BYE after the session expired")
	}
	r := ts.next(t)
	if errors.Is(r.cause, call.ErrHangup) || r.cause == nil {
		t.Errorf("cause %v, want the session expiry", r.cause)
	}
}

func TestSessionIntervalTooSmall(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{MinSE: 120 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	d, err := newPhone(t, "udp").invite(ctx, ts.Addr(), "answer-wait", offer, sipmsg.NewHeader("Session-Expires", "90"))
	if err != nil {
		t.Fatal(err)
	}
	d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	if d.InviteResponse.StatusCode != 422 || d.InviteResponse.GetHeader("Min-SE") == nil || d.InviteResponse.GetHeader("Min-SE").Value() != "120" {
		t.Errorf("got %s", d.InviteResponse.StartLine())
	}
}

func TestUnmatchedInDialogRequests(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	p := newPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for _, m := range []sipmsg.RequestMethod{sipmsg.BYE, sipmsg.INFO, sipmsg.UPDATE} {
		u := sipmsg.Uri{Scheme: "sip", Host: "127.0.0.1", Port: atoi(strings.Split(ts.Addr(), ":")[1])}
		req := sipmsg.NewRequest(m, u)
		to := &sipmsg.ToHeader{Address: u, Params: sipmsg.NewParams()}
		to.Params.Add("tag", "nosuchdialog")
		req.AppendHeader(to)
		res, err := p.cli.Do(ctx, req)
		if err != nil || res.StatusCode != 481 {
			t.Errorf("%s: %v %v, want 481", m, res, err)
		}
	}
	req := sipmsg.NewRequest(sipmsg.REGISTER, sipmsg.Uri{Scheme: "sip", Host: "127.0.0.1", Port: atoi(strings.Split(ts.Addr(), ":")[1])})
	if res, err := p.cli.Do(ctx, req); err != nil || res.StatusCode != 405 || res.GetHeader("Allow") == nil {
		t.Errorf("REGISTER: %v %v, want 405 with Allow", res, err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var _ sync.Locker = (*sync.Mutex)(nil)

func TestCloseEndsCalls(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	p := newPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, code, err := p.call(ctx, ts.Addr(), "answer-wait")
	if err != nil || code != 200 {
		t.Fatalf("call: %d %v", code, err)
	}
	ringing, err := p.invite(ctx, ts.Addr(), "ring", offer)
	if err != nil {
		t.Fatal(err)
	}
	final := make(chan int, 1)
	go func() {
		ringing.WaitAnswer(ctx, sipgo.AnswerOptions{})
		final <- ringing.InviteResponse.StatusCode
	}()
	waitFor(t, func() bool { return ts.Calls() == 2 })
	if err := ts.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.byes:
	case <-time.After(5 * time.Second):
		t.Error("the answered call got no BYE")
	}
	if got := <-final; got != 503 {
		t.Errorf("the ringing call got %d, want 503", got)
	}
	if ts.Calls() != 0 || ts.media.open() != 0 {
		t.Errorf("%d calls, %d media sessions left", ts.Calls(), ts.media.open())
	}
}

// TestByeBeforeAck: a caller may hang up before its ACK arrives (or is
// sent at all); the call ends as a normal hangup and the 200 stops.
func TestByeBeforeAck(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	p := newPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	d, err := p.invite(ctx, ts.Addr(), "answer-wait", offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	bye := sipmsg.NewRequest(sipmsg.BYE, d.InviteResponse.Contact().Address)
	res, err := d.Do(ctx, bye)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("BYE: %v %v", res, err)
	}
	r := ts.next(t)
	if !errors.Is(r.cause, call.ErrHangup) || r.err != nil {
		t.Errorf("cause %v, err %v", r.cause, r.err)
	}
	waitFor(t, func() bool { return ts.Calls() == 0 && ts.media.open() == 0 })
}

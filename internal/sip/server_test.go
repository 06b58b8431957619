package sip_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/waitfor"
)

func options(t *testing.T, p *phone, server string) *sipmsg.Response {
	t.Helper()
	req := sipmsg.NewRequest(sipmsg.OPTIONS, p.uri(server, ""))
	if p.network == "tcp" {
		req.SetTransport("TCP")
	}
	res, err := p.cli.Do(testCtx(t, 5*time.Second), req)
	if err != nil {
		t.Fatalf("OPTIONS: %v", err)
	}
	return res
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
		_, code, err := p.call(testCtx(t, 5*time.Second), ts.Addr(), tc.number)
		if err != nil || code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.number, code, err, tc.want)
		}
		if r := ts.next(t); r.err != nil {
			t.Errorf("%s: handler: %v", tc.number, r.err)
		}
	}
}

func TestUntrustedSourceGets403(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	ts.trunks.mu.Lock()
	ts.trunks.refuse = true
	ts.trunks.mu.Unlock()
	_, code, err := newPhone(t, "udp").call(testCtx(t, 5*time.Second), ts.Addr(), "answer-wait")
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
		ctx := testCtx(t, 5*time.Second)
		d := newPhone(t, network).answered(ctx, ts.Addr(), "answer-wait", sipmsg.NewHeader("X-Ticket", "42"))
		if err := d.Bye(ctx); err != nil {
			t.Fatalf("%s: bye: %v", network, err)
		}
		r := ts.next(t)
		if !r.hungUp() {
			t.Errorf("%s: cause %v, want ErrHangup", network, r.cause)
		}
		if r.info.SIPCallID != d.InviteRequest.CallID().Value() || !strings.HasPrefix(r.info.ID, "CA") || len(r.info.ID) != 34 || r.info.AccountID != "acct" || r.info.Request != "answer-wait" {
			t.Errorf("%s: info %+v", network, r.info)
		}
		if r.info.SIPHeaders["X-Ticket"] != "42" {
			t.Errorf("%s: X- headers %v", network, r.info.SIPHeaders)
		}
	}
	ts.idle(t)
}

func TestServerHangsUpWithBye(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	for _, network := range []string{"udp", "tcp"} {
		p := newPhone(t, network)
		d := p.answered(testCtx(t, 5*time.Second), ts.Addr(), "answer-hangup")
		if bye := p.awaitBye(network); bye.CallID().Value() != d.InviteRequest.CallID().Value() {
			t.Errorf("%s: BYE for another call", network)
		}
		if r := ts.next(t); r.err != nil {
			t.Errorf("%s: handler: %v", network, r.err)
		}
	}
}

func TestCancelBeforeAnswer(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	d := newPhone(t, "udp").mustInvite(ctx, ts.Addr(), "ring", offer)
	go func() {
		<-ts.running // the handler runs: the CANCEL reaches the call
		cancel()
	}()
	err := d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitAnswer: %v", err)
	}
	if d.InviteResponse == nil || d.InviteResponse.StatusCode != 487 {
		t.Errorf("final response %v, want 487", d.InviteResponse)
	}
	if r := ts.next(t); !r.hungUp() {
		t.Errorf("cause %v, want ErrHangup", r.cause)
	}
	ts.idle(t)
}

func TestMalformedSDPGets488(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	ctx := testCtx(t, 5*time.Second)
	d := newPhone(t, "udp").mustInvite(ctx, ts.Addr(), "answer-wait", "this is not SDP")
	err := d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	de, ok := errors.AsType[*sipgo.ErrDialogResponse](err)
	if !ok || de.Res.StatusCode != 488 {
		t.Fatalf("got %v, want 488", err)
	}
	if w := de.Res.GetHeader("Warning"); w == nil || w.Value() != `399 switchboard "malformed SDP"` {
		t.Errorf("Warning: %v", w)
	}
	ts.idle(t)
}

func TestEarlyMediaThen200(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	ctx := testCtx(t, 5*time.Second)
	d := newPhone(t, "udp").mustInvite(ctx, ts.Addr(), "early", offer)
	var codes []int
	var earlySDP bool
	err := d.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sipmsg.Response) error {
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
	ctx := testCtx(t, 10*time.Second)
	d := newPhone(t, "udp").answered(ctx, ts.Addr(), "gather")
	for _, sig := range []string{"1", "2", "11"} { // 11 is #
		body := "Signal=" + sig + "\r\nDuration=160\r\n"
		if _, res := inDialog(ctx, t, d, d.InviteResponse.Contact().Address, sipmsg.INFO, body, "application/dtmf-relay"); res.StatusCode != 200 {
			t.Fatalf("INFO %s: %v", sig, res)
		}
	}
	r := ts.next(t)
	if r.digits != "12" || r.err != nil {
		t.Errorf("digits %q, err %v; want 12", r.digits, r.err)
	}
}

func TestSessionTimer(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{MinSE: time.Second})
	p := newPhone(t, "udp")
	ctx := testCtx(t, 15*time.Second)

	// Session-Expires 0 is no interval: 400.
	d := p.mustInvite(ctx, ts.Addr(), "answer-wait", offer, sipmsg.NewHeader("Session-Expires", "0"), sipmsg.NewHeader("Supported", "timer"))
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err == nil {
		t.Fatal("Session-Expires 0 accepted")
	}
	if d.InviteResponse.StatusCode != 400 {
		t.Errorf("Session-Expires 0: %d, want 400", d.InviteResponse.StatusCode)
	}

	// Refreshed by UPDATE: the call lives on.
	start := time.Now()
	d = p.answered(ctx, ts.Addr(), "answer-wait", sipmsg.NewHeader("Session-Expires", "2;refresher=uac"), sipmsg.NewHeader("Supported", "timer"))
	if se := d.InviteResponse.GetHeader("Session-Expires"); se == nil || se.Value() != "2;refresher=uac" {
		t.Errorf("Session-Expires in 200: %v", se)
	}
	if rq := d.InviteResponse.GetHeader("Require"); rq == nil || rq.Value() != "timer" {
		t.Errorf("Require in 200: %v", rq)
	}
	refresh := time.NewTicker(500 * time.Millisecond) // the refresher's pace
	defer refresh.Stop()
	for time.Since(start) < 3*time.Second {
		<-refresh.C
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
	if r := ts.next(t); r.hungUp() || r.cause == nil {
		t.Errorf("cause %v, want the session expiry", r.cause)
	}
}

func TestSessionIntervalTooSmall(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{MinSE: 120 * time.Second})
	ctx := testCtx(t, 5*time.Second)
	d := newPhone(t, "udp").mustInvite(ctx, ts.Addr(), "answer-wait", offer, sipmsg.NewHeader("Session-Expires", "90"))
	d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	if d.InviteResponse.StatusCode != 422 || d.InviteResponse.GetHeader("Min-SE") == nil || d.InviteResponse.GetHeader("Min-SE").Value() != "120" {
		t.Errorf("got %s", d.InviteResponse.StartLine())
	}
}

func TestUnmatchedInDialogRequests(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	p := newPhone(t, "udp")
	ctx := testCtx(t, 5*time.Second)
	for _, m := range []sipmsg.RequestMethod{sipmsg.BYE, sipmsg.INFO, sipmsg.UPDATE, sipmsg.INVITE} {
		u := p.uri(ts.Addr(), "")
		req := sipmsg.NewRequest(m, u)
		to := &sipmsg.ToHeader{Address: u, Params: sipmsg.NewParams()}
		to.Params.Add("tag", "nosuchdialog")
		req.AppendHeader(to)
		req.AppendHeader(&p.contact)
		res, err := p.cli.Do(ctx, req)
		if err != nil || res.StatusCode != 481 {
			t.Errorf("%s: %v %v, want 481", m, res, err)
		}
	}
	req := sipmsg.NewRequest(sipmsg.REGISTER, p.uri(ts.Addr(), ""))
	if res, err := p.cli.Do(ctx, req); err != nil || res.StatusCode != 405 || res.GetHeader("Allow") == nil {
		t.Errorf("REGISTER: %v %v, want 405 with Allow", res, err)
	}
}

func TestCloseEndsCalls(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	p := newPhone(t, "udp")
	ctx := testCtx(t, 10*time.Second)
	p.answered(ctx, ts.Addr(), "answer-wait")
	ringing := p.mustInvite(ctx, ts.Addr(), "ring", offer)
	final := make(chan int, 1)
	go func() {
		ringing.WaitAnswer(ctx, sipgo.AnswerOptions{})
		final <- ringing.InviteResponse.StatusCode
	}()
	waitfor.True(t, 10*time.Second, "two calls in progress", func() bool { return ts.Calls() == 2 })
	if err := ts.Close(ctx); err != nil {
		t.Fatal(err)
	}
	p.awaitBye("the answered call")
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
	ctx := testCtx(t, 5*time.Second)
	d := newPhone(t, "udp").unacked(ctx, ts.Addr(), "answer-wait")
	if _, res := inDialog(ctx, t, d, d.InviteResponse.Contact().Address, sipmsg.BYE, "", ""); res.StatusCode != 200 {
		t.Fatalf("BYE: %v", res)
	}
	if r := ts.next(t); !r.hungUp() || r.err != nil {
		t.Errorf("cause %v, err %v", r.cause, r.err)
	}
	ts.idle(t)
}

// TestFinishedCallLetGo: once a call has ended, nothing keeps its leg in
// memory, though its INVITE transaction lives on for 64·T1 after the 200
// (RFC 6026) to absorb retransmissions: at 2,000 calls a second a
// transaction that held its leg kept 64,000 calls for the collector to
// scan.
func TestFinishedCallLetGo(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	p := newPhone(t, "udp")
	ctx := testCtx(t, 10*time.Second)
	d := p.answered(ctx, ts.Addr(), "answer-wait")
	id := d.InviteRequest.CallID().Value()
	var alive func() bool
	waitfor.True(t, 5*time.Second, "the call in progress", func() bool {
		alive = sip.LegAlive(ts.Server, id)
		return alive()
	})
	if err := d.Bye(ctx); err != nil {
		t.Fatalf("BYE: %v", err)
	}
	if r := ts.next(t); !r.hungUp() {
		t.Fatalf("call ended by %v", r.cause)
	}
	ts.idle(t)
	waitfor.True(t, 10*time.Second, "the ended call's leg collected", func() bool {
		runtime.GC()
		return !alive()
	})
}

package sip_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/egress"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// fakeTransfers routes transfer targets by number.
type fakeTransfers map[string][]call.Target

func (f fakeTransfers) TransferTargets(_ context.Context, _, number string) ([]call.Target, bool) {
	ts, ok := f[number]
	return ts, ok
}

// watchNotifies makes p (whose hooks are set) answer NOTIFYs 200 and
// hand on their sipfrag status lines.
func watchNotifies(p *phone) <-chan string {
	ch := make(chan string, 20)
	h := *p.hooks.Load()
	h.notify = func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		line, _, _ := strings.Cut(string(req.Body()), "\r\n")
		if ev := req.GetHeader("Event"); ev == nil || !strings.HasPrefix(ev.Value(), "refer") {
			line = "bad event: " + line
		}
		ch <- line
		tx.Respond(sipmsg.NewResponseFromRequest(req, 200, "OK", nil))
	}
	p.hooks.Store(&h)
	return ch
}

// wantFrags reads the next sipfrag lines.
func wantFrags(t *testing.T, ch <-chan string, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-ch:
			if got != w {
				t.Fatalf("NOTIFY %q, want %q", got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no NOTIFY %q", w)
		}
	}
}

// awaitEvent waits for the callee's event of method.
func awaitEvent(t *testing.T, ev <-chan calleeEvent, method string) calleeEvent {
	t.Helper()
	for {
		select {
		case e := <-ev:
			if e.method == method {
				return e
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s at the callee", method)
			return calleeEvent{}
		}
	}
}

// noEvent checks that the callee saw nothing more.
func noEvent(t *testing.T, ev <-chan calleeEvent, what string) {
	t.Helper()
	select {
	case e := <-ev:
		t.Errorf("%s: the callee got %s", what, e.method)
	default:
	}
}

// sendRefer sends REFER in d to target with a Refer-To and returns the
// answer.
func sendRefer(ctx context.Context, t *testing.T, d dialogDoer, target sipmsg.Uri, referTo string) *sipmsg.Response {
	t.Helper()
	req := sipmsg.NewRequest(sipmsg.REFER, target)
	if referTo != "" {
		req.AppendHeader(sipmsg.NewHeader("Refer-To", referTo))
	}
	res, err := d.Do(ctx, req)
	if err != nil {
		t.Fatalf("REFER: %v", err)
	}
	return res
}

// call is a bridged call of the tests: a caller phone, its dialog, the
// callee's dialog and the INVITE the callee got (its Contact is ours).
type bridgedCall struct {
	caller *sipgo.DialogClientSession
	callee *sipgo.DialogServerSession
	invite *sipmsg.Request
}

func bridge(ctx context.Context, t *testing.T, ts *testServer, a, b *phone, ev <-chan calleeEvent, sessions <-chan *sipgo.DialogServerSession) bridgedCall {
	t.Helper()
	d := a.answered(ctx, ts.Addr(), dialNumber(b))
	inv := awaitEvent(t, ev, "INVITE").req
	select {
	case s := <-sessions:
		return bridgedCall{caller: d, callee: s, invite: inv}
	case <-time.After(10 * time.Second):
		t.Fatal("the callee did not answer")
	}
	return bridgedCall{}
}

// TestReferBlindTransfer: the called party transfers the caller. An
// unknown target fails the NOTIFY and the call stays; a known one rings,
// answers, the NOTIFY says 200, the transferor gets BYE and the caller
// talks to the target until it hangs up.
func TestReferBlindTransfer(t *testing.T) {
	t.Parallel()
	c := newPhone(t, "udp")
	cev, csess := callee(c, 50*time.Millisecond, 200, 0)
	_, cport := splitAddr(c.addr)
	ts := newServer(t, sip.Config{}, func(s *sip.Server) {
		s.SetTransfers(fakeTransfers{
			"carol": {{Kind: "sip", Value: fmt.Sprintf("sip:carol@127.0.0.1:%d", cport)}},
		})
	})
	b := newPhone(t, "udp")
	bev, bsess := callee(b, 0, 200, 0)
	frags := watchNotifies(b)
	a := newPhone(t, "udp")
	ctx := testCtx(t, 30*time.Second)
	call1 := bridge(ctx, t, ts, a, b, bev, bsess)
	ours := call1.invite.Contact().Address

	if res := sendRefer(ctx, t, call1.callee, ours, "<sip:nobody@"+ts.Addr()+">"); res.StatusCode != 202 {
		t.Fatalf("REFER to nobody: %d", res.StatusCode)
	}
	wantFrags(t, frags, "SIP/2.0 100 Trying", "SIP/2.0 404 Not Found")
	noEvent(t, bev, "after a transfer to nobody")

	if res := sendRefer(ctx, t, call1.callee, ours, "<sip:carol@"+ts.Addr()+";user=phone>"); res.StatusCode != 202 {
		t.Fatalf("REFER to carol: %d", res.StatusCode)
	}
	wantFrags(t, frags, "SIP/2.0 100 Trying", "SIP/2.0 200 OK")
	awaitEvent(t, bev, "BYE") // the transferor is released
	cinv := awaitEvent(t, cev, "INVITE").req
	var cd *sipgo.DialogServerSession
	select {
	case cd = <-csess:
	case <-time.After(5 * time.Second):
		t.Fatal("carol not answered")
	}
	if from := cinv.From().Address.User; from != a.contact.Address.User && from == "" {
		t.Errorf("carol's caller id %q", from)
	}
	select {
	case r := <-ts.results:
		t.Fatalf("the call ended with the transfer: %+v", r)
	default:
	}
	if err := cd.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	a.awaitBye("the caller, after the transfer target hung up")
	r := ts.next(t)
	if r.dial.Status != "completed" || r.dial.CallID != cinv.CallID().Value() {
		t.Errorf("dial %+v, want completed with carol's leg %s", r.dial, cinv.CallID().Value())
	}
	// The call the REFERs came in on was told of both, in order.
	if want := []call.Transfer{
		{Kind: "blind", By: "callee", Target: "sip:nobody@" + ts.Addr(), Status: "failed", SIPCode: 404},
		{Kind: "blind", By: "callee", Target: "sip:carol@" + ts.Addr() + ";user=phone", Status: "completed", SIPCode: 200},
	}; !slices.Equal(r.transfers, want) {
		t.Errorf("transfers %+v, want %+v", r.transfers, want)
	}
	_ = call1.caller
	ts.idle(t)
}

// TestReferBlindTransferEgress: a phone's blind transfer to a sip: URI
// is judged by the account's egress policy as a Dial to it would be: to
// an address the account may not reach (a private one here) the NOTIFY
// says 403 and no INVITE leaves; the call goes on.
func TestReferBlindTransferEgress(t *testing.T) {
	t.Parallel()
	policy := egress.New(egress.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	ts := newServer(t, sip.Config{Egress: policy})
	b := newPhone(t, "udp")
	bev, bsess := callee(b, 0, 200, 0)
	frags := watchNotifies(b)
	a := newPhone(t, "udp")
	ctx := testCtx(t, 30*time.Second)
	call1 := bridge(ctx, t, ts, a, b, bev, bsess)
	ours := call1.invite.Contact().Address
	for _, target := range []string{"<sip:+19005550100@10.1.2.3>", "<sip:+19005550100@127.0.0.2:5060>"} {
		if res := sendRefer(ctx, t, call1.callee, ours, target); res.StatusCode != 202 {
			t.Fatalf("REFER to %s: %d", target, res.StatusCode)
		}
		want := "SIP/2.0 403 Forbidden"
		if strings.Contains(target, "127.0.0.2") {
			want = "SIP/2.0 404 Not Found" // this server's own (loopback): a number it does not have
		}
		wantFrags(t, frags, "SIP/2.0 100 Trying", want)
	}
	noEvent(t, bev, "after the refused transfers")
	if err := call1.callee.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if r := ts.next(t); r.dial.Status != "completed" {
		t.Errorf("dial %+v", r.dial)
	}
	ts.idle(t)
}

// TestReferRefused: REFER outside a dialog, from another address than
// the party's, from the caller's side, without a Refer-To, or with a
// Replaces naming a call the sender is not in, is refused; the call goes
// on.
func TestReferRefused(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	b := newPhone(t, "udp")
	bev, bsess := callee(b, 0, 200, 0)
	a := newPhone(t, "udp")
	ctx := testCtx(t, 30*time.Second)
	call1 := bridge(ctx, t, ts, a, b, bev, bsess)
	ours := call1.invite.Contact().Address

	// No Refer-To: 400.
	if res := sendRefer(ctx, t, call1.callee, ours, ""); res.StatusCode != 400 {
		t.Errorf("REFER without Refer-To: %d, want 400", res.StatusCode)
	}
	// The caller's attended transfer naming the very call it is sent in: 403.
	if res := sendRefer(ctx, t, call1.caller, call1.caller.InviteResponse.Contact().Address,
		"<sip:x@example.com?Replaces="+replacesOf(call1.caller)+">"); res.StatusCode != 403 {
		t.Errorf("attended REFER from the caller replacing its own call: %d, want 403", res.StatusCode)
	}
	// Outside a dialog: 403.
	out := sipmsg.NewRequest(sipmsg.REFER, ours)
	out.AppendHeader(sipmsg.NewHeader("Refer-To", "<sip:x@example.com>"))
	if res, err := b.cli.Do(ctx, out); err != nil || res.StatusCode != 403 {
		t.Errorf("REFER outside a dialog: %v %v, want 403", res, err)
	}
	// The dialog's ids from another address (another party that learnt
	// them): 403.
	btag, _ := call1.callee.InviteResponse.To().Params.Get("tag")
	otag, _ := call1.invite.From().Params.Get("tag")
	if code := rawRefer(t, "127.0.0.2", ts.Addr(), call1.invite.CallID().Value(), btag, otag, "<sip:x@example.com>"); code != 403 {
		t.Errorf("REFER from another address: %d, want 403", code)
	}
	// A Replaces naming another caller's call: 403.
	a2 := newPhone(t, "udp")
	b2 := newPhone(t, "udp")
	b2ev, b2sess := callee(b2, 0, 200, 0)
	call2 := bridge(ctx, t, ts, a2, b2, b2ev, b2sess)
	replaces := replacesOf(call2.caller)
	if res := sendRefer(ctx, t, call1.callee, ours, "<sip:c@example.com?Replaces="+replaces+">"); res.StatusCode != 403 {
		t.Errorf("REFER replacing a stranger's call: %d, want 403", res.StatusCode)
	}
	if w := call1.callee; w == nil {
		t.Fatal("no dialog")
	}
	noEvent(t, bev, "after the refused REFERs")
	// Both calls are still up: the callee ends each.
	for _, s := range []*sipgo.DialogServerSession{call1.callee, call2.callee} {
		if err := s.Bye(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if r := ts.next(t); r.dial.Status != "completed" {
			t.Errorf("dial %+v", r.dial)
		}
	}
	ts.idle(t)
}

// replacesOf is the escaped Replaces value naming a caller's dialog, as
// that caller writes it (to-tag: ours, from-tag: its own).
func replacesOf(d *sipgo.DialogClientSession) string {
	to, _ := d.InviteResponse.To().Params.Get("tag")
	from, _ := d.InviteRequest.From().Params.Get("tag")
	return url.QueryEscape(d.InviteRequest.CallID().Value() + ";to-tag=" + to + ";from-tag=" + from)
}

// rawRefer sends a REFER in the dialog (callID, from the far end's tag to
// ours) from a UDP socket on ip and returns the answer's status.
func rawRefer(t *testing.T, ip, server, callID, farTag, ourTag, referTo string) int {
	t.Helper()
	conn, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Skipf("no %s: %v", ip, err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg := "REFER sip:sb@" + server + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-raw" + sipmsg.GenerateTagN(8) + "\r\n" +
		"From: <sip:far@127.0.0.1>;tag=" + farTag + "\r\n" +
		"To: <sip:sb@" + server + ">;tag=" + ourTag + "\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: 77 REFER\r\nMax-Forwards: 70\r\n" +
		"Contact: <sip:far@" + local + ">\r\nRefer-To: " + referTo + "\r\nContent-Length: 0\r\n\r\n"
	dst, _ := net.ResolveUDPAddr("udp", server)
	if _, err := conn.WriteTo([]byte(msg), dst); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no answer to the REFER: %v", err)
		}
		var code int
		fmt.Sscanf(string(buf[:n]), "SIP/2.0 %d", &code)
		if code >= 200 {
			return code
		}
	}
}

// TestHoldPassedThrough: a hold re-INVITE from one party of a bridge
// reaches the other as a re-INVITE of ours; resuming does too.
func TestHoldPassedThrough(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	b := newPhone(t, "udp")
	bev, bsess := callee(b, 0, 200, 0)
	reinvites := make(chan *sipmsg.Request, 10)
	h := *b.hooks.Load()
	first := h.invite
	h.invite = func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if _, ok := req.To().Params.Get("tag"); !ok {
			first(req, tx)
			return
		}
		reinvites <- req
		res := sipmsg.NewResponseFromRequest(req, 200, "OK", []byte(offer))
		res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(&b.contact)
		tx.Respond(res)
	}
	b.hooks.Store(&h)
	a := newPhone(t, "udp")
	ctx := testCtx(t, 30*time.Second)
	call1 := bridge(ctx, t, ts, a, b, bev, bsess)
	ours := call1.caller.InviteResponse.Contact().Address
	for i, o := range []string{holdOffer, offer} {
		_, res := inDialog(ctx, t, call1.caller, ours, sipmsg.INVITE, o, "application/sdp")
		if res.StatusCode != 200 {
			t.Fatalf("re-INVITE %d: %d", i, res.StatusCode)
		}
		a.ack(ours, res)
		waitfor.True(t, 10*time.Second, "the ACK taken", func() bool {
			return !sip.PendingReinvite(ts.Server, call1.caller.InviteRequest.CallID().Value())
		})
		select {
		case req := <-reinvites:
			if req.CallID().Value() != call1.invite.CallID().Value() || len(req.Body()) == 0 {
				t.Errorf("re-INVITE %d passed on: %s", i, req)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("re-INVITE %d (hold %v) not passed on to the other leg", i, i == 0)
		}
	}
	// A new offer with the same direction is answered, not passed on.
	_, res := inDialog(ctx, t, call1.caller, ours, sipmsg.INVITE, offer, "application/sdp")
	if res.StatusCode != 200 {
		t.Fatalf("refresh: %d", res.StatusCode)
	}
	a.ack(ours, res)
	if err := call1.callee.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	a.awaitBye("the caller")
	select {
	case req := <-reinvites:
		t.Errorf("a re-INVITE without a hold change was passed on: %s", req)
	default:
	}
	ts.next(t)
	ts.idle(t)
}

// TestReferOut: Refer (TwiML's <Refer>) sends REFER to the caller with
// the target and its headers, and reports the REFER's answer and the
// final NOTIFY; a caller that declines is reported failed.
func TestReferOut(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	for _, tc := range []struct {
		name, want string
		accept     bool
		frags      []string
	}{
		{"carol", "in-progress 202 200", true, []string{"SIP/2.0 100 Trying", "SIP/2.0 200 OK"}},
		{"busy", "busy 202 486", true, []string{"SIP/2.0 486 Busy Here"}},
		{"declined", "failed 603 0", false, nil},
	} {
		a := newPhone(t, "udp")
		refers := make(chan *sipmsg.Request, 1)
		a.hooks.Store(&hooks{refer: func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
			code := 202
			if !tc.accept {
				code = 603
			}
			tx.Respond(sipmsg.NewResponseFromRequest(req, code, "x", nil))
			refers <- req
		}})
		ctx := testCtx(t, 20*time.Second)
		d := a.answered(ctx, ts.Addr(), "refer-"+tc.name)
		var req *sipmsg.Request
		select {
		case req = <-refers:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no REFER", tc.name)
		}
		if got := req.GetHeader("Refer-To").Value(); got != "<sip:"+tc.name+"@example.com?X-Why=test>" {
			t.Errorf("%s: Refer-To %q", tc.name, got)
		}
		for i, f := range tc.frags {
			n := sipmsg.NewRequest(sipmsg.NOTIFY, d.InviteResponse.Contact().Address)
			n.AppendHeader(sipmsg.NewHeader("Event", "refer"))
			state := "active"
			if i == len(tc.frags)-1 {
				state = "terminated;reason=noresource"
			}
			n.AppendHeader(sipmsg.NewHeader("Subscription-State", state))
			n.AppendHeader(sipmsg.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
			n.SetBody([]byte(f + "\r\n"))
			if res, err := d.Do(ctx, n); err != nil || res.StatusCode != 200 {
				t.Fatalf("%s: NOTIFY %q: %v %v", tc.name, f, res, err)
			}
		}
		a.awaitBye(tc.name + ": the call after the REFER")
		if r := ts.next(t); r.digits != tc.want || r.err != nil {
			t.Errorf("%s: refer %q %v, want %q", tc.name, r.digits, r.err, tc.want)
		}
	}
	// A NOTIFY nobody waits for: 481.
	a := newPhone(t, "udp")
	ctx := testCtx(t, 10*time.Second)
	d := a.answered(ctx, ts.Addr(), "answer-wait")
	n := sipmsg.NewRequest(sipmsg.NOTIFY, d.InviteResponse.Contact().Address)
	n.AppendHeader(sipmsg.NewHeader("Event", "refer"))
	n.SetBody([]byte("SIP/2.0 200 OK\r\n"))
	if res, err := d.Do(ctx, n); err != nil || res.StatusCode != 481 {
		t.Errorf("stray NOTIFY: %v %v, want 481", res, err)
	}
	d.Bye(ctx)
	ts.next(t)
	ts.idle(t)
}

// TestReferBlindTransferByCaller: the caller transfers the party it
// called: the target rings and answers, the caller's call ends (BYE),
// the callee and the target stay connected until one hangs up.
func TestReferBlindTransferByCaller(t *testing.T) {
	t.Parallel()
	c := newPhone(t, "udp")
	cev, csess := callee(c, 0, 200, 0)
	_, cport := splitAddr(c.addr)
	ts := newServer(t, sip.Config{}, func(s *sip.Server) {
		s.SetTransfers(fakeTransfers{"carol": {{Kind: "sip", Value: fmt.Sprintf("sip:carol@127.0.0.1:%d", cport)}}})
	})
	b := newPhone(t, "udp")
	bev, bsess := callee(b, 0, 200, 0)
	a := newPhone(t, "udp")
	frags := make(chan string, 10)
	a.hooks.Store(&hooks{notify: func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		line, _, _ := strings.Cut(string(req.Body()), "\r\n")
		frags <- line
		tx.Respond(sipmsg.NewResponseFromRequest(req, 200, "OK", nil))
	}})
	ctx := testCtx(t, 30*time.Second)
	call1 := bridge(ctx, t, ts, a, b, bev, bsess)
	if res := sendRefer(ctx, t, call1.caller, call1.caller.InviteResponse.Contact().Address, "<sip:carol@"+ts.Addr()+">"); res.StatusCode != 202 {
		t.Fatalf("REFER by the caller: %d", res.StatusCode)
	}
	wantFrags(t, frags, "SIP/2.0 100 Trying", "SIP/2.0 200 OK")
	a.awaitBye("the transferor (the caller)")
	if r := ts.next(t); r.dial.Status != "completed" {
		t.Errorf("the caller's dial: %+v", r.dial)
	} else if len(r.transfers) != 1 || r.transfers[0].By != "caller" || r.transfers[0].Status != "completed" || r.transfers[0].SIPCode != 200 {
		t.Errorf("the caller's call was told of transfers %+v, want one by the caller, completed", r.transfers)
	}
	awaitEvent(t, cev, "INVITE")
	var cd *sipgo.DialogServerSession
	select {
	case cd = <-csess:
	case <-time.After(5 * time.Second):
		t.Fatal("carol not answered")
	}
	noEvent(t, bev, "the callee, after the transfer")
	if err := cd.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	awaitEvent(t, bev, "BYE") // carol's hangup ends the callee's leg
	ts.idle(t)
}

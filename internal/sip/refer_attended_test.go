package sip_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"github.com/switchboard/switchboard/internal/sip"
)

// replacesOfAnswered is the escaped Replaces value naming a call the
// transferor answered, as it writes it (to-tag: its own, from-tag: ours).
func replacesOfAnswered(d *sipgo.DialogServerSession) string {
	to, _ := d.InviteResponse.To().Params.Get("tag")
	from, _ := d.InviteRequest.From().Params.Get("tag")
	return url.QueryEscape(d.InviteRequest.CallID().Value() + ";to-tag=" + to + ";from-tag=" + from)
}

// TestReferAttendedByCaller: T calls X, then Y, and refers X with a
// Replaces naming its call to Y (RFC 3891, sent as the caller): X and Y
// are joined, both of T's calls end, and Y's hangup ends X's leg.
func TestReferAttendedByCaller(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	x, y, tr := newPhone(t, "udp"), newPhone(t, "udp"), newPhone(t, "udp")
	xev, xsess := callee(x, 0, 200, 0)
	yev, ysess := callee(y, 0, 200, 0)
	tev, _ := callee(tr, 0, 200, 0)
	frags := watchNotifies(tr)
	ctx := testCtx(t, 30*time.Second)
	call1 := bridge(ctx, t, ts, tr, x, xev, xsess)
	call2 := bridge(ctx, t, ts, tr, y, yev, ysess)
	res := sendRefer(ctx, t, call1.caller, call1.caller.InviteResponse.Contact().Address,
		"<sip:y@"+ts.Addr()+"?Replaces="+replacesOf(call2.caller)+">")
	if res.StatusCode != 202 {
		t.Fatalf("attended REFER by the caller: %d", res.StatusCode)
	}
	wantFrags(t, frags, "SIP/2.0 100 Trying", "SIP/2.0 200 OK")
	awaitEvent(t, tev, "BYE") // both of T's calls end
	awaitEvent(t, tev, "BYE")
	for range 2 {
		if r := ts.next(t); r.dial.Status != "completed" {
			t.Errorf("T's call: %+v", r.dial)
		}
	}
	noEvent(t, xev, "X, after the transfer")
	noEvent(t, yev, "Y, after the transfer")
	if err := call2.callee.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	awaitEvent(t, xev, "BYE") // Y's hangup ends X's leg
	ts.idle(t)
}

// TestReferAttendedMixed: X calls T, T calls Y; T refers its call to Y
// (sent as that call's caller) with a Replaces naming X's call, which it
// answered: Y becomes X's callee, T's legs are released, and X's call
// ends with Y's hangup, completed with Y's leg.
func TestReferAttendedMixed(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	x, y, tr := newPhone(t, "udp"), newPhone(t, "udp"), newPhone(t, "udp")
	yev, ysess := callee(y, 0, 200, 0)
	tev, tsess := callee(tr, 0, 200, 0)
	frags := watchNotifies(tr)
	ctx := testCtx(t, 30*time.Second)
	call1 := bridge(ctx, t, ts, x, tr, tev, tsess) // X calls T
	call2 := bridge(ctx, t, ts, tr, y, yev, ysess) // T calls Y
	res := sendRefer(ctx, t, call2.caller, call2.caller.InviteResponse.Contact().Address,
		"<sip:x@"+ts.Addr()+"?Replaces="+replacesOfAnswered(call1.callee)+">")
	if res.StatusCode != 202 {
		t.Fatalf("attended REFER: %d", res.StatusCode)
	}
	wantFrags(t, frags, "SIP/2.0 100 Trying", "SIP/2.0 200 OK")
	awaitEvent(t, tev, "BYE")
	awaitEvent(t, tev, "BYE")
	if r := ts.next(t); r.dial.Status != "completed" || r.info.SIPCallID != call2.caller.InviteRequest.CallID().Value() {
		t.Errorf("T's call to Y: %+v %s", r.dial, r.info.SIPCallID)
	}
	noEvent(t, yev, "Y, after the transfer")
	if err := call2.callee.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	x.awaitBye("X, after Y hung up")
	if r := ts.next(t); r.dial.Status != "completed" || r.dial.CallID != call2.invite.CallID().Value() {
		t.Errorf("X's call: %+v, want completed with Y's leg", r.dial)
	}
	ts.idle(t)
}

// TestReferAttendedAnsweredBoth: X and Y each call T, T answers both and
// refers X with a Replaces naming Y's call: the two callers are joined,
// both of T's legs get BYE, and X's hangup ends both calls as completed
// (Y gets BYE).
func TestReferAttendedAnsweredBoth(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	x, y, tr := newPhone(t, "udp"), newPhone(t, "udp"), newPhone(t, "udp")
	tev, tsess := callee(tr, 0, 200, 0)
	frags := watchNotifies(tr)
	ctx := testCtx(t, 30*time.Second)
	call1 := bridge(ctx, t, ts, x, tr, tev, tsess)
	call2 := bridge(ctx, t, ts, y, tr, tev, tsess)
	res := sendRefer(ctx, t, call1.callee, call1.invite.Contact().Address,
		"<sip:y@"+ts.Addr()+"?Replaces="+replacesOfAnswered(call2.callee)+">")
	if res.StatusCode != 202 {
		t.Fatalf("attended REFER: %d", res.StatusCode)
	}
	wantFrags(t, frags, "SIP/2.0 100 Trying", "SIP/2.0 200 OK")
	awaitEvent(t, tev, "BYE")
	awaitEvent(t, tev, "BYE")
	select {
	case r := <-ts.results:
		t.Fatalf("a call ended with the transfer: %+v", r)
	default:
	}
	if err := call1.caller.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	y.awaitBye("Y, after X hung up")
	for range 2 {
		if r := ts.next(t); r.dial.Status != "completed" {
			t.Errorf("a caller's call: %+v", r.dial)
		}
	}
	ts.idle(t)
}

// TestReferAttendedAnsweredBothByeAtOnce: as TestReferAttendedAnsweredBoth,
// but T hangs up the call it referred as soon as the REFER is accepted
// (phones do): the transfer still joins the two callers.
func TestReferAttendedAnsweredBothByeAtOnce(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	x, y, tr := newPhone(t, "udp"), newPhone(t, "udp"), newPhone(t, "udp")
	tev, tsess := callee(tr, 0, 200, 0)
	watchNotifies(tr)
	ctx := testCtx(t, 30*time.Second)
	call1 := bridge(ctx, t, ts, x, tr, tev, tsess)
	call2 := bridge(ctx, t, ts, y, tr, tev, tsess)
	res := sendRefer(ctx, t, call1.callee, call1.invite.Contact().Address,
		"<sip:y@"+ts.Addr()+"?Replaces="+replacesOfAnswered(call2.callee)+">")
	if res.StatusCode != 202 {
		t.Fatalf("attended REFER: %d", res.StatusCode)
	}
	if err := call1.callee.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	awaitEvent(t, tev, "BYE") // T's other leg is released
	select {
	case r := <-ts.results:
		t.Fatalf("a call ended with the transfer: %+v", r)
	default:
	}
	if err := call1.caller.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	y.awaitBye("Y, after X hung up")
	for range 2 {
		if r := ts.next(t); r.dial.Status != "completed" {
			t.Errorf("a caller's call: %+v", r.dial)
		}
	}
	ts.idle(t)
}

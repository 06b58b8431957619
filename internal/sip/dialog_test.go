package sip_test

import (
	"bytes"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// farEnd is the peer of one of our legs: its phone, its sipgo session of
// the dialog, our Contact, and the dialog's Call-ID.
type farEnd struct {
	p      *phone
	d      dialogDoer
	target sipmsg.Uri
	callID string
}

// checkReinvites is the re-INVITE contract of the dialog core, the same
// on both legs: a hold answered 200 with SDP; while its ACK is awaited a
// second one gets 491; after the ACK a bad offer gets 488 with a short
// Warning and leaves the media as it was.
func checkReinvites(t *testing.T, ts *testServer, f farEnd) {
	t.Helper()
	ctx := testCtx(t, 10*time.Second)
	_, res := inDialog(ctx, t, f.d, f.target, sipmsg.INVITE, holdOffer, "application/sdp")
	if res.StatusCode != 200 || !bytes.HasPrefix(res.Body(), []byte("v=0")) {
		t.Fatalf("hold re-INVITE: %d %q", res.StatusCode, res.Body())
	}
	// Unacknowledged, a second re-INVITE must wait: 491.
	if _, res2 := inDialog(ctx, t, f.d, f.target, sipmsg.INVITE, offer, "application/sdp"); res2.StatusCode != 491 {
		t.Errorf("overlapping re-INVITE: %d, want 491", res2.StatusCode)
	}
	f.p.ack(f.target, res)
	// The ACK is handled on its own goroutine.
	waitfor.True(t, 10*time.Second, "the ACK of the re-INVITE taken", func() bool { return !sip.PendingReinvite(ts.Server, f.callID) })
	// A bad offer is refused and changes nothing.
	_, bad := inDialog(ctx, t, f.d, f.target, sipmsg.INVITE, "garbage", "application/sdp")
	if bad.StatusCode != 488 {
		t.Errorf("bad re-INVITE: %d, want 488", bad.StatusCode)
	}
	if w := bad.GetHeader("Warning"); w == nil || w.Value() != `399 switchboard "malformed SDP"` {
		t.Errorf("Warning of the 488: %v", w)
	}
	if n := len(ts.media.session(sip.MediaID(ts.Server, f.callID)).updatesSeen()); n != 1 {
		t.Errorf("%d media updates, want 1 (the hold)", n)
	}
}

// checkCSeqOrder: a request whose CSeq is not above the last one gets
// 500 (RFC 3261 §12.2.2); in order, an empty INFO is a keep-alive.
func checkCSeqOrder(t *testing.T, f farEnd) {
	t.Helper()
	ctx := testCtx(t, 5*time.Second)
	req, res := inDialog(ctx, t, f.d, f.target, sipmsg.INFO, "", "")
	if res.StatusCode != 200 {
		t.Errorf("INFO in order: %d, want 200", res.StatusCode)
	}
	for _, seq := range []uint32{req.CSeq().SeqNo, req.CSeq().SeqNo - 1} {
		if res := f.p.resend(ctx, req, seq); res.StatusCode != 500 {
			t.Errorf("INFO with CSeq %d after %d: %d, want 500", seq, req.CSeq().SeqNo, res.StatusCode)
		}
	}
	if res := f.p.resend(ctx, req, req.CSeq().SeqNo+5); res.StatusCode != 200 {
		t.Errorf("INFO with a CSeq further on: %d, want 200", res.StatusCode)
	}
}

func TestInboundDialog(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	p := newPhone(t, "udp")
	ctx := testCtx(t, 10*time.Second)
	d := p.answered(ctx, ts.Addr(), "answer-wait")
	f := farEnd{p: p, d: d, target: d.InviteResponse.Contact().Address, callID: d.InviteRequest.CallID().Value()}
	checkReinvites(t, ts, f)
	checkCSeqOrder(t, f)
	d.Bye(ctx)
	if r := ts.next(t); !r.hungUp() {
		t.Errorf("cause %v", r.cause)
	}
}

func TestOutboundDialog(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	b := newPhone(t, "udp")
	ev, sessions := callee(b, 0, 200, 0)
	a := newPhone(t, "udp")
	ctx := testCtx(t, 10*time.Second)
	a.answered(ctx, ts.Addr(), dialNumber(b))
	inv := (<-ev).req
	cs := <-sessions
	f := farEnd{p: b, d: cs, target: inv.Contact().Address, callID: inv.CallID().Value()}
	checkReinvites(t, ts, f)
	checkCSeqOrder(t, f)
	if err := cs.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if r := ts.next(t); r.dial.Status != "completed" || r.dial.Cause != "NORMAL_CLEARING" {
		t.Errorf("dial: %+v %v", r.dial, r.err)
	}
	a.awaitBye("the caller, after the callee hung up")
	ts.idle(t)
}

// TestNoAckEndsCall: a 2xx (to the INVITE or a re-INVITE) never ACKed is
// retransmitted and given up after 64·T1: the call is hung up with BYE.
func TestNoAckEndsCall(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{}, func(s *sip.Server) { sip.SetAckTimers(s, 5*time.Millisecond, 40*time.Millisecond) })
	for _, reinvite := range []bool{false, true} {
		p := newPhone(t, "udp")
		ctx := testCtx(t, 10*time.Second)
		d := p.unacked(ctx, ts.Addr(), "answer-wait")
		what := "INVITE"
		if reinvite {
			what = "re-INVITE"
			d.Ack(ctx)
			if _, res := inDialog(ctx, t, d, d.InviteResponse.Contact().Address, sipmsg.INVITE, holdOffer, "application/sdp"); res.StatusCode != 200 {
				t.Fatalf("re-INVITE: %d", res.StatusCode)
			}
		}
		p.awaitBye("2xx to the " + what + " not ACKed")
		if r := ts.next(t); r.cause == nil || r.cause.Error() != "sip: no ACK for 2xx" {
			t.Errorf("%s: cause %v, want no ACK", what, r.cause)
		}
	}
	ts.idle(t)
}

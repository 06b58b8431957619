package sip_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/sip"
)

// calleeEvent is a request the callee saw (or CANCEL, when its ringing
// was cancelled).
type calleeEvent struct {
	method string
	req    *sipmsg.Request
}

// callee makes p answer INVITEs: ring for ring, then answer (or respond
// code when not 200) and, when hold > 0, hang up after hold. Each answered
// dialog is sent on answered once its ACK came.
func callee(p *phone, ring time.Duration, code int, hold time.Duration) (events chan calleeEvent, answered chan *sipgo.DialogServerSession) {
	events = make(chan calleeEvent, 20)
	answered = make(chan *sipgo.DialogServerSession, 20)
	ds := sipgo.NewDialogServerCache(p.cli, p.contact)
	h := &hooks{}
	h.ack = func(req *sipmsg.Request, tx sipmsg.ServerTransaction) { ds.ReadAck(req, tx) }
	h.bye = func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		events <- calleeEvent{"BYE", req}
		if err := ds.ReadBye(req, tx); err != nil {
			tx.Respond(sipmsg.NewResponseFromRequest(req, 481, "No Dialog", nil))
		}
	}
	h.invite = func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		events <- calleeEvent{"INVITE", req}
		d, err := ds.ReadInvite(req, tx)
		if err != nil {
			return
		}
		d.Respond(180, "Ringing", nil)
		if wait(d.Context(), ring, nil) != nil {
			events <- calleeEvent{"CANCEL", req}
			return
		}
		if code != 200 {
			d.Respond(code, "Nope", nil)
			return
		}
		if err := d.RespondSDP([]byte(offer)); err != nil {
			return
		}
		answered <- d
		if hold > 0 && wait(d.Context(), hold, nil) == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			d.Bye(ctx)
		}
	}
	p.hooks.Store(h)
	return events, answered
}

func TestDialAnsweredThenCalleeHangsUp(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	b := newPhone(t, "udp")
	ev, _ := callee(b, 100*time.Millisecond, 200, 300*time.Millisecond)
	a := newPhone(t, "udp")
	ctx := testCtx(t, 10*time.Second)
	d := a.mustInvite(ctx, ts.Addr(), dialNumber(b), offer)
	var codes []int
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sipmsg.Response) error {
		if r.StatusCode != 100 { // sipgo hands responses over on goroutines: 100 may come late
			codes = append(codes, r.StatusCode)
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	d.Ack(ctx)
	r := ts.next(t)
	if r.err != nil || r.dial.Status != "completed" || r.dial.CallID == "" || r.dial.Duration < 200*time.Millisecond {
		t.Errorf("dial: %+v %v", r.dial, r.err)
	}
	if fmt.Sprint(codes) != "[180 200]" {
		t.Errorf("caller saw %v, want 180 then 200", codes)
	}
	inv := (<-ev).req
	if inv.Recipient.User != "far" || !bytes.HasPrefix(inv.Body(), []byte("v=0")) {
		t.Errorf("callee INVITE: %s", inv.StartLine())
	}
	a.awaitBye("the caller, after the dial") // the flow hung up after the dial
	ts.idle(t)
}

func TestDialOutcomes(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	for _, tc := range []struct {
		name    string
		code    int
		ring    time.Duration
		status  string
		cause   string
		sipCode int
	}{
		{"busy", 486, 0, "busy", "USER_BUSY", 486},
		{"busy everywhere", 600, 0, "busy", "USER_BUSY", 600},
		{"unavailable", 480, 0, "no-answer", "NO_USER_RESPONSE", 480},
		{"declined", 603, 0, "failed", "CALL_REJECTED", 603},
		{"not found", 404, 0, "failed", "UNALLOCATED_NUMBER", 404},
		{"server error", 503, 0, "failed", "NORMAL_TEMPORARY_FAILURE", 503},
		{"an unnamed code", 499, 0, "failed", "CALL_REJECTED", 499},
		{"rings out", 200, time.Hour, "no-answer", "NO_ANSWER", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPhone(t, "udp")
			ev, _ := callee(b, tc.ring, tc.code, 0)
			newPhone(t, "udp").call(testCtx(t, 10*time.Second), ts.Addr(), dialNumber(b))
			r := ts.next(t)
			if r.dial.Status != tc.status || r.dial.Cause != tc.cause || r.dial.SIPCode != tc.sipCode || r.err != nil {
				t.Errorf("dial: %+v %v; want %s %s %d", r.dial, r.err, tc.status, tc.cause, tc.sipCode)
			}
			if tc.ring > 0 {
				<-ev // INVITE
				calleeSaw(t, ev, "CANCEL", tc.name)
			}
		})
	}
}

// calleeSaw checks the callee's next event.
func calleeSaw(t *testing.T, ev chan calleeEvent, want, what string) {
	t.Helper()
	select {
	case e := <-ev:
		if e.method != want {
			t.Errorf("%s: callee saw %s, want %s", what, e.method, want)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("%s: callee saw no %s", what, want)
	}
}

func TestDialCallerHangsUp(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	for _, answered := range []bool{false, true} {
		b := newPhone(t, "udp")
		ring := time.Hour
		if answered {
			ring = 0
		}
		ev, sessions := callee(b, ring, 200, 0)
		ctx, cancel := context.WithCancel(t.Context())
		d := newPhone(t, "udp").mustInvite(ctx, ts.Addr(), dialNumber(b), offer)
		<-ev // the callee rings
		what := fmt.Sprintf("answered %v", answered)
		if answered {
			if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
				t.Fatal(err)
			}
			d.Ack(ctx)
			<-sessions // the callee has its ACK: both legs are up
			d.Bye(ctx)
			calleeSaw(t, ev, "BYE", what)
		} else {
			d.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sipmsg.Response) error {
				if r.StatusCode == 180 { // the callee's ringing reached the caller: CANCEL
					cancel()
				}
				return nil
			}})
			calleeSaw(t, ev, "CANCEL", what)
		}
		r := ts.next(t)
		if !r.hungUp() {
			t.Errorf("%s: cause %v", what, r.cause)
		}
		if wantStatus := map[bool]string{false: "canceled", true: "completed"}[answered]; r.dial.Status != wantStatus {
			t.Errorf("%s: dial %+v, want %s", what, r.dial, wantStatus)
		}
		cancel()
	}
	ts.idle(t)
}

func TestDialTargetKinds(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	ctx := testCtx(t, 10*time.Second)
	a := newPhone(t, "udp")
	a.call(ctx, ts.Addr(), "dial-user")
	if r := ts.next(t); r.dial.Status != "failed" || r.dial.Cause != "USER_NOT_REGISTERED" {
		t.Errorf("user: %+v", r.dial)
	}
	a.call(ctx, ts.Addr(), "dial-number")
	if r := ts.next(t); r.dial.Status != "failed" || r.dial.Cause != "NO_ROUTE_DESTINATION" {
		t.Errorf("number without a gateway: %+v", r.dial)
	}
	b := newPhone(t, "tcp")
	ev, _ := callee(b, 0, 200, 100*time.Millisecond)
	ts.trunks.mu.Lock()
	ts.trunks.gateway = "sip:" + b.addr + ";transport=tcp"
	ts.trunks.mu.Unlock()
	a.call(ctx, ts.Addr(), "dial-number")
	if r := ts.next(t); r.dial.Status != "completed" {
		t.Errorf("number through the gateway: %+v %v", r.dial, r.err)
	}
	if inv := (<-ev).req; inv.Recipient.User != "5551234" || inv.Transport() != "TCP" {
		t.Errorf("gateway got %s over %s", inv.StartLine(), inv.Transport())
	}
}

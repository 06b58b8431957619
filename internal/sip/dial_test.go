package sip_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/sip"
)

// callee makes p answer INVITEs: ring for ring, then answer (or respond
// code when not 200) and, when hold > 0, hang up after hold.
type calleeEvent struct {
	method string
	req    *sipmsg.Request
}

func callee(p *phone, ring time.Duration, code int, hold time.Duration) chan calleeEvent {
	events := make(chan calleeEvent, 20)
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
		select {
		case <-time.After(ring):
		case <-d.Context().Done():
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
		if hold > 0 {
			time.Sleep(hold)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			d.Bye(ctx)
		}
	}
	p.hooks.Store(h)
	return events
}

func port(p *phone) string { return strings.Split(p.addr, ":")[1] }

func TestDialAnsweredThenCalleeHangsUp(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	b := newPhone(t, "udp")
	ev := callee(b, 100*time.Millisecond, 200, 300*time.Millisecond)
	a := newPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	d, err := a.invite(ctx, ts.Addr(), "dial-"+port(b), offer)
	if err != nil {
		t.Fatal(err)
	}
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
	if inv.Recipient.User != "far" || !strings.HasPrefix(string(inv.Body()), "v=0") {
		t.Errorf("callee INVITE: %s", inv.StartLine())
	}
	select { // the flow hung up after the dial: the caller gets BYE
	case <-a.byes:
	case <-time.After(5 * time.Second):
		t.Error("caller got no BYE")
	}
	waitFor(t, func() bool { return ts.Calls() == 0 && ts.media.open() == 0 })
}

func TestDialOutcomes(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	for _, tc := range []struct {
		name   string
		code   int
		ring   time.Duration
		status string
		cause  string
	}{
		{"busy", 486, 0, "busy", "sip:486"},
		{"unavailable", 480, 0, "no-answer", "sip:480"},
		{"declined", 603, 0, "failed", "sip:603"},
		{"rings out", 200, time.Hour, "no-answer", "NO_ANSWER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPhone(t, "udp")
			ev := callee(b, tc.ring, tc.code, 0)
			a := newPhone(t, "udp")
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			a.call(ctx, ts.Addr(), "dial-"+port(b))
			r := ts.next(t)
			if r.dial.Status != tc.status || r.dial.Cause != tc.cause || r.err != nil {
				t.Errorf("dial: %+v %v; want %s %s", r.dial, r.err, tc.status, tc.cause)
			}
			if tc.ring > 0 {
				<-ev // INVITE
				select {
				case e := <-ev:
					if e.method != "CANCEL" {
						t.Errorf("callee saw %s, want CANCEL", e.method)
					}
				case <-time.After(5 * time.Second):
					t.Error("callee was not cancelled")
				}
			}
		})
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
		ev := callee(b, ring, 200, 0)
		a := newPhone(t, "udp")
		ctx, cancel := context.WithCancel(t.Context())
		d, err := a.invite(ctx, ts.Addr(), "dial-"+port(b), offer)
		if err != nil {
			t.Fatal(err)
		}
		<-ev // the callee rings
		if answered {
			if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
				t.Fatal(err)
			}
			d.Ack(ctx)
			time.Sleep(100 * time.Millisecond)
			d.Bye(ctx)
		} else {
			time.Sleep(200 * time.Millisecond)
			cancel() // CANCEL
			d.WaitAnswer(ctx, sipgo.AnswerOptions{})
		}
		want := map[bool]string{false: "CANCEL", true: "BYE"}[answered]
		select {
		case e := <-ev:
			if e.method != want {
				t.Errorf("answered %v: callee saw %s, want %s", answered, e.method, want)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("answered %v: callee saw no %s", answered, want)
		}
		r := ts.next(t)
		if !errors.Is(r.cause, call.ErrHangup) {
			t.Errorf("answered %v: cause %v", answered, r.cause)
		}
		if wantStatus := map[bool]string{false: "canceled", true: "completed"}[answered]; r.dial.Status != wantStatus {
			t.Errorf("answered %v: dial %+v, want %s", answered, r.dial, wantStatus)
		}
		cancel()
	}
	waitFor(t, func() bool { return ts.Calls() == 0 && ts.media.open() == 0 })
}

func TestDialTargetKinds(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	a := newPhone(t, "udp")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	a.call(ctx, ts.Addr(), "dial-user")
	if r := ts.next(t); r.dial.Status != "failed" || r.dial.Cause != "USER_NOT_REGISTERED" {
		t.Errorf("user: %+v", r.dial)
	}
	a.call(ctx, ts.Addr(), "dial-number")
	if r := ts.next(t); r.dial.Status != "failed" || r.dial.Cause != "NO_ROUTE_DESTINATION" {
		t.Errorf("number without a gateway: %+v", r.dial)
	}
	b := newPhone(t, "tcp")
	ev := callee(b, 0, 200, 100*time.Millisecond)
	ts.trunks.mu.Lock()
	ts.trunks.gateway = "sip:" + b.addr + ";transport=tcp"
	ts.trunks.mu.Unlock()
	a.call(ctx, ts.Addr(), "dial-number")
	r := ts.next(t)
	if r.dial.Status != "completed" {
		t.Errorf("number through the gateway: %+v %v", r.dial, r.err)
	}
	if inv := (<-ev).req; inv.Recipient.User != "5551234" || inv.Transport() != "TCP" {
		t.Errorf("gateway got %s over %s", inv.StartLine(), inv.Transport())
	}
}

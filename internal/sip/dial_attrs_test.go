package sip_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/sip"
)

// dialx is the number whose flow dials the phone p with ts.dialx's
// options.
func dialx(p *phone) string { return "dialx-" + strings.TrimPrefix(dialNumber(p), "dial-") }

// TestDialScreen: a target's Screen runs on the callee's answered leg
// before the bridge, while the caller still waits unanswered; a refusal
// hangs the leg up and the Dial ends as no-answer, an acceptance bridges.
func TestDialScreen(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	for _, accept := range []bool{false, true} {
		b := newPhone(t, "udp")
		ev, _ := callee(b, 0, 200, 300*time.Millisecond)
		var (
			screened    atomic.Int32
			callerState atomic.Bool // the caller was answered when the screen ran
			leg         atomic.Value
		)
		var answered atomic.Bool
		ts.dialx = func(port string) call.DialOptions {
			return call.DialOptions{Timeout: 5 * time.Second, Targets: []call.Target{{
				Kind: "sip", Value: "sip:far@127.0.0.1:" + port, SendDigits: "1w2",
				Screen: func(ctx context.Context, l call.Channel) (bool, error) {
					screened.Add(1)
					callerState.Store(answered.Load())
					leg.Store(l.Info().ID)
					if !l.Answered() {
						return false, errors.New("the leg is not answered")
					}
					if err := l.Say(ctx, call.SayOptions{Text: "You have a call."}); err != nil {
						return false, err
					}
					return accept, nil
				},
			}}}
		}
		ctx := testCtx(t, 10*time.Second)
		d := newPhone(t, "udp").mustInvite(ctx, ts.Addr(), dialx(b), offer)
		go func() {
			if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sipmsg.Response) error {
				if r.StatusCode == 200 {
					answered.Store(true)
				}
				return nil
			}}); err == nil {
				d.Ack(ctx)
			}
		}()
		r := ts.next(t)
		what := map[bool]string{false: "refused", true: "accepted"}[accept]
		if screened.Load() != 1 || callerState.Load() || leg.Load() == "" {
			t.Errorf("%s: screened %d times, caller answered before: %v, leg %v", what, screened.Load(), callerState.Load(), leg.Load())
		}
		want := map[bool]string{false: "no-answer", true: "completed"}[accept]
		if r.dial.Status != want || r.err != nil {
			t.Errorf("%s: dial %+v %v, want %s", what, r.dial, r.err, want)
		}
		if !accept && r.dial.Cause != "CALL_REJECTED" {
			t.Errorf("refused: cause %q", r.dial.Cause)
		}
		<-ev // INVITE
		if !accept {
			calleeSaw(t, ev, "BYE", what) // the refused leg was hung up
		}
	}
	ts.idle(t)
}

// TestDialHangupOnStar: the caller's * (here by SIP INFO) ends the bridge:
// the callee gets BYE, the Dial is completed and the flow goes on.
func TestDialHangupOnStar(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	b := newPhone(t, "udp")
	ev, sessions := callee(b, 0, 200, 0)
	ts.dialx = func(port string) call.DialOptions {
		return call.DialOptions{Timeout: 5 * time.Second, HangupOnStar: true,
			Targets: []call.Target{{Kind: "sip", Value: "sip:far@127.0.0.1:" + port}}}
	}
	ctx := testCtx(t, 10*time.Second)
	d := newPhone(t, "udp").mustInvite(ctx, ts.Addr(), dialx(b), offer)
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	d.Ack(ctx)
	<-sessions                               // both legs are up
	for _, sig := range []string{"5", "*"} { // 5 is passed on; * drops the callee
		body := "Signal=" + sig + "\r\nDuration=160\r\n"
		if _, res := inDialog(ctx, t, d, d.InviteResponse.Contact().Address, sipmsg.INFO, body, "application/dtmf-relay"); res.StatusCode != 200 {
			t.Fatalf("INFO %s: %v", sig, res)
		}
	}
	<-ev // INVITE
	calleeSaw(t, ev, "BYE", "after *")
	r := ts.next(t)
	if r.dial.Status != "completed" || r.err != nil || r.hungUp() {
		t.Errorf("dial %+v %v, cause %v", r.dial, r.err, r.cause)
	}
	ts.idle(t)
}

// TestDialCallerID: the Dial's caller id is the outbound leg's From
// user; a hostile one (line breaks, header syntax) cannot add headers.
func TestDialCallerID(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	for _, tc := range []struct{ callerID, want string }{
		{"+15550001234", "+15550001234"},
		{"client:alice", "alice"},
		{"+1555\r\nX-Evil: 1\r\n<sip:x@y>;tag=z", "+1555X-Evil1sipxytagz"},
	} {
		b := newPhone(t, "udp")
		ev, _ := callee(b, 0, 486, 0)
		ts.dialx = func(port string) call.DialOptions {
			return call.DialOptions{Timeout: 5 * time.Second, CallerID: tc.callerID,
				Targets: []call.Target{{Kind: "sip", Value: "sip:far@127.0.0.1:" + port}}}
		}
		newPhone(t, "udp").call(testCtx(t, 10*time.Second), ts.Addr(), dialx(b))
		if r := ts.next(t); r.dial.Status != "busy" {
			t.Errorf("%q: dial %+v %v", tc.callerID, r.dial, r.err)
		}
		inv := (<-ev).req
		if u := inv.From().Address.User; u != tc.want || inv.GetHeader("X-Evil") != nil {
			t.Errorf("%q: From user %q, want %q; X-Evil %v", tc.callerID, u, tc.want, inv.GetHeader("X-Evil"))
		}
	}
}

// TestDialScreenOutlastsRingTimeout: a party that answered before the
// ring timeout keeps its whisper past it (a screening prompt takes its
// time), and is bridged when it accepts.
func TestDialScreenOutlastsRingTimeout(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	b := newPhone(t, "udp")
	callee(b, 0, 200, 4*time.Second) // hangs up after the whisper and a bridge
	ts.dialx = func(port string) call.DialOptions {
		return call.DialOptions{Timeout: time.Second, Targets: []call.Target{{
			Kind: "sip", Value: "sip:far@127.0.0.1:" + port,
			Screen: func(ctx context.Context, l call.Channel) (bool, error) {
				// Twice the ring timeout of listening to the callee.
				return true, l.Pause(ctx, 2*time.Second)
			},
		}}}
	}
	newPhone(t, "udp").call(testCtx(t, 10*time.Second), ts.Addr(), dialx(b))
	if r := ts.next(t); r.dial.Status != "completed" || r.err != nil {
		t.Errorf("dial %+v %v, want completed after the whisper", r.dial, r.err)
	}
	ts.idle(t)
}

package sip_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/sip"
)

// replacesOfAnswered is the escaped Replaces value naming a call the
// transferor answered, as it writes it (to-tag: its own, from-tag: ours).
func replacesOfAnswered(d *sipgo.DialogServerSession) string {
	to, _ := d.InviteResponse.To().Params.Get("tag")
	from, _ := d.InviteRequest.From().Params.Get("tag")
	return url.QueryEscape(d.InviteRequest.CallID().Value() + ";to-tag=" + to + ";from-tag=" + from)
}

// TestReferAttended: T holds two calls, one with X (call 1) and one with
// Y (call 2), each placed by T or by the other party, and refers one of
// them with a Replaces naming the other (RFC 3891): X and Y are joined,
// both of T's legs are released (the NOTIFYs say 100 then 200), the calls
// T placed end completed at once, the others stay up, and one party's
// hangup ends the other's leg and the remaining calls, completed.
func TestReferAttended(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		tPlaces   [2]bool // T placed call 1 (to X) / call 2 (to Y); else X / Y called T
		referOn   int     // the call (1 or 2) T sends the REFER in; its Replaces names the other
		byeAtOnce bool    // T hangs up the referred call as soon as the REFER is accepted (phones do)
		hangsUp   int     // the party (1: X, 2: Y) whose hangup ends the joined call
	}{
		// X calls T; T calls Y (its consultation call) and refers X to it.
		{name: "consultation", tPlaces: [2]bool{false, true}, referOn: 1, hangsUp: 2},
		// T calls X and Y and refers X, as the caller of both.
		{name: "by caller", tPlaces: [2]bool{true, true}, referOn: 1, hangsUp: 2},
		// X calls T, T calls Y and refers Y (as its caller) to X's call.
		{name: "mixed", tPlaces: [2]bool{false, true}, referOn: 2, hangsUp: 2},
		// X and Y each call T; T answers both and refers X.
		{name: "answered both", referOn: 1, hangsUp: 1},
		{name: "answered both, bye at once", referOn: 1, byeAtOnce: true, hangsUp: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newServer(t, sip.Config{})
			parties := [2]*phone{newPhone(t, "udp"), newPhone(t, "udp")}
			names := [2]string{"x", "y"}
			tr := newPhone(t, "udp")
			var evs [2]chan calleeEvent
			var sessions [2]chan *sipgo.DialogServerSession
			for i, p := range parties {
				if tc.tPlaces[i] {
					evs[i], sessions[i] = callee(p, 0, 200, 0)
				}
			}
			tev, tsess := callee(tr, 0, 200, 0)
			frags := watchNotifies(tr)
			ctx := testCtx(t, 30*time.Second)
			var calls [2]bridgedCall
			for i, p := range parties {
				if tc.tPlaces[i] {
					calls[i] = bridge(ctx, t, ts, tr, p, evs[i], sessions[i])
				} else {
					calls[i] = bridge(ctx, t, ts, p, tr, tev, tsess)
				}
			}

			r, o := tc.referOn-1, 2-tc.referOn // the referred call and the other
			replaces := replacesOfAnswered(calls[o].callee)
			if tc.tPlaces[o] {
				replaces = replacesOf(calls[o].caller)
			}
			referTo := "<sip:" + names[o] + "@" + ts.Addr() + "?Replaces=" + replaces + ">"
			var res *sipmsg.Response
			if tc.tPlaces[r] {
				res = sendRefer(ctx, t, calls[r].caller, calls[r].caller.InviteResponse.Contact().Address, referTo)
			} else {
				res = sendRefer(ctx, t, calls[r].callee, calls[r].invite.Contact().Address, referTo)
			}
			if res.StatusCode != 202 {
				t.Fatalf("attended REFER: %d", res.StatusCode)
			}
			if tc.byeAtOnce {
				// The transfer may have released the leg first (its BYE
				// crossed T's): 481 is then the right answer.
				if err := bye(ctx, calls[r], !tc.tPlaces[r]); err != nil {
					if e, ok := errors.AsType[*sipgo.ErrDialogResponse](err); !ok || e.Res.StatusCode != 481 {
						t.Fatalf("BYE: %v", err)
					}
				}
				awaitEvent(t, tev, "BYE") // T's other leg is released
			} else {
				wantFrags(t, frags, "SIP/2.0 100 Trying", "SIP/2.0 200 OK")
				awaitEvent(t, tev, "BYE") // one of T's legs
				awaitEvent(t, tev, "BYE") // and the other
			}
			// The calls T placed end now; X's and Y's own go on.
			placed := map[string]bool{}
			for i := range 2 {
				if tc.tPlaces[i] {
					placed[calls[i].caller.InviteRequest.CallID().Value()] = true
				}
			}
			var ended []result
			for range placed {
				res := ts.next(t)
				ended = append(ended, res)
				if res.dial.Status != "completed" || !placed[res.info.SIPCallID] {
					t.Errorf("a call T placed: %+v %s", res.dial, res.info.SIPCallID)
				}
			}
			select {
			case res := <-ts.results:
				t.Fatalf("a call ended with the transfer: %+v", res)
			default:
			}
			for i, ev := range evs {
				if ev != nil {
					noEvent(t, ev, names[i]+", after the transfer")
				}
			}

			h, w := tc.hangsUp-1, 2-tc.hangsUp // who hangs up, who waits
			hangup(ctx, t, calls[h], tc.tPlaces[h])
			if tc.tPlaces[w] {
				awaitEvent(t, evs[w], "BYE")
			} else {
				parties[w].awaitBye(names[w] + ", after " + names[h] + " hung up")
			}
			for i := range 2 {
				if tc.tPlaces[i] {
					continue
				}
				res := ts.next(t)
				ended = append(ended, res)
				if res.dial.Status != "completed" {
					t.Errorf("%s's call: %+v", names[i], res.dial)
				}
				// Joined to a call T placed, it ends with that call's leg.
				if j := 1 - i; tc.tPlaces[j] && res.dial.CallID != calls[j].invite.CallID().Value() {
					t.Errorf("%s's call ended with leg %s, want %s's", names[i], res.dial.CallID, names[j])
				}
			}
			// The transfer is told to the Dial of the call whose dialog
			// carried the REFER, once (its target without the Replaces),
			// and to no other call's.
			by := "callee"
			if tc.tPlaces[r] {
				by = "caller"
			}
			want := []call.Transfer{{Kind: "attended", By: by, Target: "sip:" + names[o] + "@" + ts.Addr(), Status: "completed", SIPCode: 200}}
			referred := calls[r].caller.InviteRequest.CallID().Value()
			for _, res := range ended {
				if res.info.SIPCallID == referred {
					if !slices.Equal(res.transfers, want) {
						t.Errorf("the referred call's transfers: %+v, want %+v", res.transfers, want)
					}
					referred = ""
				} else if len(res.transfers) != 0 {
					t.Errorf("the other call's transfers: %+v, want none", res.transfers)
				}
			}
			if referred != "" {
				t.Errorf("the referred call %s did not end", referred)
			}
			ts.idle(t)
		})
	}
}

// hangup sends BYE on c from its callee's side when callee is true, else
// from its caller's.
func hangup(ctx context.Context, t *testing.T, c bridgedCall, callee bool) {
	t.Helper()
	if err := bye(ctx, c, callee); err != nil {
		t.Fatalf("BYE: %v", err)
	}
}

// bye is hangup's BYE, returning its failure.
func bye(ctx context.Context, c bridgedCall, callee bool) error {
	if callee {
		return c.callee.Bye(ctx)
	}
	return c.caller.Bye(ctx)
}

package sip

import (
	"context"
	"time"
)

// Attended transfers (RFC 3891 Replaces) in every arrangement of the
// transferor's two calls. The transferor T sends REFER in one call (br)
// with a Replaces naming its other call (other); in each, T is either the
// caller (its phone placed the call: the party left there is the callee,
// an outbound leg) or the callee (T's phone answered: the party left is
// that call's caller, an inbound call running a Dial). The two parties
// left are joined and both of T's legs released:
//
//   - T callee in br, caller in other: other's callee becomes br's
//     callee (attended, refer.go);
//   - T caller in br, callee in other: br's callee becomes other's
//     callee, the mirror image;
//   - T caller in both: the two callees are relayed to each other on
//     their own (as after a blind transfer by the caller);
//   - T callee in both: the two callers' Dials are parked and their
//     media joined until either hangs up; both Dials then end as
//     completed.

// attendedBy runs the attended transfer T asked for in br (byCaller: T
// is br's caller; from is br's callee when the REFER came) with other,
// where T is the caller when callerThere. It returns the final NOTIFY's
// status, and what to do once it is sent.
func (br *bridging) attendedBy(from *outLeg, byCaller bool, other *bridging, callerThere bool) (int, func()) {
	switch {
	case !byCaller && callerThere:
		return br.attended(from, other)
	case byCaller && !callerThere:
		return other.attendedMirror(br, from)
	case byCaller:
		return br.joinCallees(from, other)
	}
	return br.joinCallers(from, other)
}

// attendedMirror: T called x's party in src and answered br's caller;
// x replaces T as br's callee, T's leg of br is released.
func (br *bridging) attendedMirror(src *bridging, x *outLeg) (int, func()) {
	t := br.current()
	if t == nil || !src.handOff(x) {
		return 481, nil
	}
	src.restoreOffers(&x.dialog, x.sess)
	src.released()
	if !br.offer(x) {
		x.hangup()
		return 487, nil
	}
	return 200, t.hangup
}

// joinCallees: T called both parties; they are relayed to each other.
func (br *bridging) joinCallees(x *outLeg, other *bridging) (int, func()) {
	y, ok := other.take()
	if !ok {
		return 481, nil
	}
	if !br.handOff(x) {
		y.hangup()
		return 481, nil
	}
	br.restoreOffers(&x.dialog, x.sess)
	other.restoreOffers(&y.dialog, y.sess)
	br.caller.log.Info("attended transfer: the two called parties joined", "leg", x.callID, "to_leg", y.callID)
	return 200, func() {
		br.released()
		other.released()
		br.s.relayPair(x, y)
	}
}

// joinCallers: T answered both callers; their Dials are parked and their
// media joined; T's two legs are released once the NOTIFY is sent.
func (br *bridging) joinCallers(t1 *outLeg, other *bridging) (int, func()) {
	t2 := other.current()
	if t2 == nil || !br.park() {
		return 481, nil
	}
	if !other.park() {
		br.cancel() // the parked Dial ends: its caller's flow goes on
		return 481, nil
	}
	x, y := br.caller, other.caller
	x.log.Info("attended transfer: the two callers joined", "to_call", y.info.ID)
	s := br.s
	s.wg.Go(func() {
		ctx, cancel := context.WithCancel(br.ctx)
		defer cancel()
		stop := context.AfterFunc(other.ctx, cancel)
		defer stop()
		if err := x.sess.Bridge(ctx, y.sess); err != nil && ctx.Err() == nil {
			x.log.Info("joined callers: relay failed", "err", err)
		}
		br.cancel()
		other.cancel()
	})
	return 200, func() {
		t1.hangup()
		t2.hangup()
	}
}

// park stops the relay of br (its media unlinked, its callee no longer
// watched) until the bridge ends: the caller's media is then another's
// to join. false when the bridge ended or is parked already.
func (br *bridging) park() bool {
	br.mu.Lock()
	if br.ctx.Err() != nil || br.parking {
		br.mu.Unlock()
		return false
	}
	br.parking = true
	close(br.parkReq)
	br.mu.Unlock()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-br.parked:
		return true
	case <-br.ended:
	case <-t.C:
		br.caller.log.Warn("bridge did not park")
	}
	return false
}

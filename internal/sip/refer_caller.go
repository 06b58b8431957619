package sip

import (
	"context"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// A blind transfer by the caller: a phone that placed the call transfers
// the party it called (the callee, an outbound leg) to target. The target
// is rung as the caller's account would ring it; when it answers, the
// callee is taken out of the caller's bridge and relayed to it on its
// own, the caller's Dial ends (its flow ends and the caller gets BYE).
// The caller may hang up as soon as the REFER is accepted: the callee is
// then kept for the transfer, and hung up only if it fails.

// blindFromCaller runs such a transfer; c is the callee when the REFER
// came. It returns the final NOTIFY's status, and on success the relay of
// the callee and the target, run once the NOTIFY is sent.
func (br *bridging) blindFromCaller(c *outLeg, target sipmsg.Uri) (int, func()) {
	l := br.caller
	legs, code := l.transferLegs(c.ctx, target)
	if len(legs) == 0 {
		l.log.Info("transfer target not found", "target", target.String(), "code", code)
		return code, nil
	}
	callerID := "" // the callee's number, when its To header has one
	if to, ok := c.to.(*sipmsg.ToHeader); ok {
		callerID = to.Address.User
	}
	won, res := l.ring(c.ctx, legs, l.s.cfg.RingTimeout, callerID)
	if won == nil {
		code := transferFailure(res)
		l.log.Info("transfer failed", "target", target.String(), "status", res.Status, "code", code)
		return code, nil
	}
	if !br.handOff(c) {
		won.hangup()
		return 487, nil
	}
	br.restoreOffers(&c.dialog, c.sess)
	l.log.Info("call transferred by the caller", "leg", c.callID, "to_leg", won.callID)
	return 200, func() {
		br.released()
		l.s.relayPair(c, won)
	}
}

// handOff takes c, the callee, from the bridge for a transfer by the
// caller: from the running bridge, or kept by end after the caller left.
func (br *bridging) handOff(c *outLeg) bool {
	br.mu.Lock()
	defer br.mu.Unlock()
	if c.ctx.Err() != nil {
		return false
	}
	switch {
	case br.orphan == c:
		br.orphan = nil
		return true
	case br.callee == c && br.ctx.Err() == nil:
		br.callee = nil
		delete(br.heldBy, &c.dialog)
		delete(br.told, &c.dialog)
		br.s.bridges.CompareAndDelete(c.id, br)
		close(br.taken)
		return true
	}
	return false
}

// relayPair relays audio between two outbound legs left together by a
// transfer, until either hangs up, or both are silent past the media
// timeouts; then both are hung up.
func (s *Server) relayPair(x, y *outLeg) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	stopX := context.AfterFunc(x.ctx, cancel)
	defer stopX()
	stopY := context.AfterFunc(y.ctx, cancel)
	defer stopY()
	done := make(chan error, 1)
	go func() { done <- x.sess.Bridge(ctx, y.sess) }()
	every := max(s.cfg.MediaTimeout, time.Second)
	check := time.NewTicker(every)
	defer check.Stop()
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil && ctx.Err() == nil {
				x.log.Info("transferred call: relay failed", "err", err)
			}
			running = false
		case <-check.C:
			if s.silent(x.sess) && s.silent(y.sess) {
				x.log.Info("transferred call: no media either way: hanging up")
				cancel()
				<-done
				running = false
			}
		}
	}
	x.hangup()
	y.hangup()
}

// silent reports whether a session heard nothing for longer than the
// media timeout (the hold timeout when on hold); never with no timeout.
func (s *Server) silent(m MediaSession) bool {
	last, held := m.Activity()
	limit := s.cfg.MediaTimeout
	if held {
		limit = s.cfg.MediaHoldTimeout
	}
	return limit > 0 && !last.IsZero() && time.Since(last) > limit
}

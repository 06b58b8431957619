package sip

import (
	"context"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/call"
)

// bridging is an inbound call and the outbound leg a Dial bridged it to,
// while their audio is relayed: what transfers (refer.go) and hold
// pass-through (hold.go) act on. Both legs' dialogs find it in
// Server.bridges. The callee may change during the bridge (a transfer
// brings a new one), or leave it for another bridge (attended transfer).
type bridging struct {
	s      *Server
	caller *inLeg
	ctx    context.Context // ends when the bridge does
	cancel context.CancelFunc

	swap  chan *outLeg  // a transfer's new callee, for the relay loop
	taken chan struct{} // closed when another bridge took the callee
	ended chan struct{} // closed by end: the relay no longer holds the media
	kick  chan struct{} // hold states changed (cap 1)
	// remode tells the relay the hold states changed (cap 1): it plays
	// music on hold or relays (hold_music.go).
	remode chan struct{}
	// parkReq is closed to park the relay (refer_attended.go); the relay
	// closes parked once the media is unlinked.
	parkReq, parked chan struct{}
	// unlinked is closed when the relay let go of the media after its
	// callee was taken (released waits for it).
	unlinked chan struct{}

	mu      sync.Mutex
	callee  *outLeg // nil once taken
	pending int     // transfers under way (one at a time)
	parking bool    // parkReq is closed
	settled chan struct{}
	// byCaller is set while the transfer under way is the caller's; the
	// callee is then kept as orphan if the caller leaves before it ends.
	byCaller bool
	// notified is closed once the caller's transfer sent its final
	// NOTIFY: a relay whose callee that transfer took waits for it before
	// its Dial ends (and the flow hangs the transferor up), so the NOTIFY
	// goes out in a live dialog.
	notified chan struct{}
	orphan   *outLeg
	// onTransfer is the Dial's call.DialOptions.OnTransfer.
	onTransfer func(call.Transfer)
	// onWarning is the Dial's call.DialOptions.OnWarning.
	onWarning func(code, message string)
	// heldBy says which legs' far ends hold the call (their last offer was
	// sendonly or inactive); told which legs we put on hold by re-INVITE.
	heldBy, told map[*dialog]bool
}

// newBridging registers the bridge of l and b and passes the legs' hold
// offers on to each other until end; o's OnTransfer and OnWarning (may
// be nil) are told of each transfer and each handled failure.
func (s *Server) newBridging(ctx context.Context, l *inLeg, b *outLeg, o call.DialOptions) *bridging {
	br := &bridging{
		s: s, caller: l, callee: b, onTransfer: o.OnTransfer, onWarning: o.OnWarning,
		swap: make(chan *outLeg), taken: make(chan struct{}), ended: make(chan struct{}), kick: make(chan struct{}, 1),
		settled: make(chan struct{}, 1), heldBy: map[*dialog]bool{}, told: map[*dialog]bool{},
		parkReq: make(chan struct{}), parked: make(chan struct{}), remode: make(chan struct{}, 1),
		unlinked: make(chan struct{}),
	}
	br.ctx, br.cancel = context.WithCancel(ctx)
	s.bridges.Store(l.id, br)
	s.bridges.Store(b.id, br)
	br.passOffers(&l.dialog, l.sess)
	br.passOffers(&b.dialog, b.sess)
	s.wg.Go(br.holdLoop)
	return br
}

// bridgeOf is the bridge a dialog is part of.
func (s *Server) bridgeOf(id string) (*bridging, bool) {
	v, ok := s.bridges.Load(id)
	if !ok {
		return nil, false
	}
	return v.(*bridging), true
}

// current is the callee of the moment; nil once taken.
func (br *bridging) current() *outLeg {
	br.mu.Lock()
	defer br.mu.Unlock()
	return br.callee
}

// end unregisters the bridge, gives the legs their own negotiators back
// and hangs up the callee it ended with (unless another bridge took it).
func (br *bridging) end() {
	defer close(br.ended)
	br.cancel()
	br.mu.Lock()
	c := br.callee
	br.callee = nil
	if c != nil && br.pending > 0 && br.byCaller {
		br.orphan = c // the caller's transfer decides
		br.s.bridges.CompareAndDelete(c.id, br)
		c = nil
	}
	br.mu.Unlock()
	br.s.bridges.CompareAndDelete(br.caller.id, br)
	br.restoreOffers(&br.caller.dialog, br.caller.sess)
	if c != nil {
		br.s.bridges.CompareAndDelete(c.id, br)
		br.restoreOffers(&c.dialog, c.sess)
		c.hangup()
	}
}

// relay relays audio and DTMF between the caller and the callee of the
// moment until ctx ends (the caller hung up, the time limit), the callee
// hangs up with no transfer under way, or another bridge takes the
// callee. It returns the callee it ended with, nil when taken. Parked
// (an attended transfer joined the caller to another call's caller), it
// lets go of the media and waits for the bridge's end.
func (br *bridging) relay(ctx context.Context) (*outLeg, error) {
	l := br.caller
	for {
		cur := br.current()
		if cur == nil {
			return nil, nil
		}
		rctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(cur.ctx, cancel)
		done := make(chan error, 1)
		if held, media := br.holdMusic(cur); held != nil {
			go func() { done <- br.playHold(rctx, held, media) }()
		} else {
			go func() { done <- l.sess.Bridge(rctx, cur.sess) }()
		}
		var (
			next                  *outLeg
			err                   error
			taken, parked, remode bool
		)
		select {
		case err = <-done:
		case next = <-br.swap:
		case <-br.taken:
			taken = true
		case <-br.parkReq:
			parked = true
		case <-br.remode:
			remode = true
		}
		cancel()
		if next != nil || taken || parked || remode {
			<-done // the media is unlinked before it is linked again
		}
		stop()
		if remode && ctx.Err() == nil && cur.ctx.Err() == nil {
			continue // the hold states changed: relay, or play music on hold
		}
		if taken {
			close(br.unlinked)
			br.awaitNotified(ctx)
			return nil, nil
		}
		if !parked && next == nil && ctx.Err() == nil && cur.ctx.Err() != nil {
			next, parked = br.awaitTransfer(ctx)
		}
		if parked {
			close(br.parked)
			select {
			case <-ctx.Done():
			case <-br.ctx.Done():
			}
			return cur, nil
		}
		if next == nil {
			return cur, err
		}
		br.setCallee(cur, next)
	}
}

// awaitTransfer waits, when the callee hung up, for the transfers it left
// under way: the caller hears ringback meanwhile. nil when none brought a
// new callee; parked when the transfer parks the bridge (its caller is
// joined to another call's caller).
func (br *bridging) awaitTransfer(ctx context.Context) (next *outLeg, parked bool) {
	stop := func() {}
	defer func() { stop() }()
	for rang := false; ; rang = true {
		br.mu.Lock()
		n := br.pending
		br.mu.Unlock()
		if n == 0 {
			return nil, false
		}
		if !rang {
			br.caller.log.Debug("transferor left: waiting for the transfer")
			stop = br.caller.ringback(ctx, "")
		}
		select {
		case next := <-br.swap:
			return next, false
		case <-br.parkReq:
			return nil, true
		case <-br.settled:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// setCallee makes next the callee in place of old (which the transfer
// that brought next releases).
func (br *bridging) setCallee(old, next *outLeg) {
	br.mu.Lock()
	br.callee = next
	delete(br.heldBy, &old.dialog)
	delete(br.told, &old.dialog)
	br.mu.Unlock()
	br.s.bridges.CompareAndDelete(old.id, br)
	br.restoreOffers(&old.dialog, old.sess)
	br.s.bridges.Store(next.id, br)
	br.passOffers(&next.dialog, next.sess)
	br.caller.log.Info("call transferred", "from_leg", old.callID, "to_leg", next.callID)
	br.changed()
}

// offer hands a new callee to the relay loop; false when the bridge ended
// first (the caller hung up).
func (br *bridging) offer(next *outLeg) bool {
	select {
	case br.swap <- next:
		return true
	case <-br.ctx.Done():
		return false
	}
}

// take hands the callee over to another bridge (attended transfer): the
// relay returns without hanging it up. false when there is none to take.
// The callee's media is free once released says so.
func (br *bridging) take() (*outLeg, bool) {
	br.mu.Lock()
	defer br.mu.Unlock()
	c := br.callee
	if c == nil || br.ctx.Err() != nil || c.ctx.Err() != nil {
		return nil, false
	}
	br.callee = nil
	delete(br.heldBy, &c.dialog)
	delete(br.told, &c.dialog)
	br.s.bridges.CompareAndDelete(c.id, br)
	close(br.taken)
	return c, true
}

// beginTransfer counts a transfer under way, one at a time: false while
// another runs. endTransfer counts its end, and notified says its final
// NOTIFY went out.
func (br *bridging) beginTransfer(byCaller bool) bool {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.pending > 0 {
		return false
	}
	br.pending++
	br.byCaller = byCaller
	if byCaller {
		br.notified = make(chan struct{})
	}
	return true
}

// notifySent marks the caller's transfer's final NOTIFY sent.
func (br *bridging) notifySent() {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.notified != nil {
		close(br.notified)
		br.notified = nil
	}
}

// awaitNotified waits for the final NOTIFY of the caller's transfer under
// way, if there is one (its sending is bounded by notifyTimeout).
func (br *bridging) awaitNotified(ctx context.Context) {
	br.mu.Lock()
	ch := br.notified
	br.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// endTransfer also hangs up a callee kept for a caller's transfer that
// did not take it.
func (br *bridging) endTransfer() {
	br.mu.Lock()
	br.pending--
	o := br.orphan
	br.orphan, br.byCaller = nil, false
	br.mu.Unlock()
	if o != nil {
		br.restoreOffers(&o.dialog, o.sess)
		o.hangup()
	}
	select {
	case br.settled <- struct{}{}:
	default:
	}
}

// released waits until the bridge let go of its legs' media (a session
// is relayed by one bridge at a time), at most a few seconds.
func (br *bridging) released() {
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-br.unlinked:
	case <-br.ended:
	case <-t.C:
		br.caller.log.Warn("bridge did not let go of its media")
	}
}

package sip

import (
	"context"
	"strings"
	"sync"

	sipmsg "github.com/emiago/sipgo/sip"
)

// The callee's own early media (RFC 3960): a 183 Session Progress (or a
// 180) with SDP from a called leg — a carrier's announcement, a remote
// ringback — is passed to the caller. The caller's leg gets 183 with our
// SDP (an answered caller simply hears it in-band), and the called leg's
// audio is relayed to it in place of the ringback we generate. With
// several legs ringing, the first with early media wins the caller's
// early media; when that leg fails, the next leg's early media may take
// over and our own ringback, if there was one, comes back. A provisional
// response without SDP changes nothing: 180 (or the ringTone) as before.

// earlyMedia is one Dial's early media: which leg the caller hears.
type earlyMedia struct {
	l        *inLeg
	ctx      context.Context // the Dial's
	ringTone string

	mu sync.Mutex
	// stopRingback stops our generated ringback; nil while none plays.
	stopRingback func()
	hadRingback  bool
	leg          *outLeg // the leg the caller hears; nil while none
	cancel       context.CancelFunc
	done         chan struct{}
	over         bool
}

type earlyKey struct{}

// startEarly starts the Dial's ringback (Dial.ringback) and the early
// media state that may replace it; ctx carries it to the legs (place).
func (l *inLeg) startEarly(ctx context.Context, ringTone string) (context.Context, *earlyMedia) {
	e := &earlyMedia{l: l, ctx: ctx, ringTone: ringTone}
	e.stopRingback = l.ringback(ctx, ringTone)
	e.hadRingback = true
	return context.WithValue(ctx, earlyKey{}, e), e
}

// earlyOf is the Dial's early media a leg's ringing context carries; nil
// for a transfer's ringing (the caller is bridged then).
func earlyOf(ctx context.Context) *earlyMedia {
	e, _ := ctx.Value(earlyKey{}).(*earlyMedia)
	return e
}

// hasSDP reports whether a response carries an SDP body.
func hasSDP(r *sipmsg.Response) bool {
	if len(r.Body()) == 0 {
		return false
	}
	ct := r.ContentType()
	return ct == nil || strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct.Value())), "application/sdp")
}

// provisional takes leg b's 180/183 with SDP: true when the caller now
// hears (or already heard) b's early media. A later leg's, while another
// leg's plays, is ignored.
func (e *earlyMedia) provisional(b *outLeg, r *sipmsg.Response) bool {
	if e == nil || e.l.sess == nil || !hasSDP(r) {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.over || e.leg != nil && e.leg != b || b.ctx.Err() != nil {
		return false
	}
	if err := b.sess.SetAnswer(r.Body()); err != nil {
		b.log.Info("dial: early media SDP not usable", "err", err)
		return false
	}
	b.earlySDP.Store(true)
	b.sess.AllowSource(signalAddr(r.Source()))
	if e.leg == b {
		return true // a repeated 183: its SDP is applied, the relay runs
	}
	if err := b.sess.Start(); err != nil {
		b.log.Info("dial: early media did not start", "err", err)
		return false
	}
	if e.stopRingback != nil {
		e.stopRingback()
		e.stopRingback = nil
	}
	if err := e.l.early(e.ctx, "early media"); err != nil {
		b.log.Debug("dial: caller gone before early media", "err", err)
		return false
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	e.leg, e.cancel, e.done = b, cancel, done
	b.log.Info("dial: relaying the callee's early media to the caller")
	go func() {
		defer close(done)
		if err := e.l.sess.Bridge(ctx, b.sess); err != nil && ctx.Err() == nil {
			b.log.Debug("dial: early media relay ended", "err", err)
		}
	}()
	return true
}

// release ends b's early media, if the caller hears it: at b's answer
// (the Dial bridges it next), or at its failure, when our ringback comes
// back if it played before (failed).
func (e *earlyMedia) release(b *outLeg, failed bool) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.leg != b {
		return
	}
	e.stopRelayLocked()
	if failed && !e.over && e.hadRingback && e.ctx.Err() == nil {
		e.stopRingback = e.l.ringback(e.ctx, e.ringTone)
	}
}

// stopRelayLocked ends the early relay and waits until the sessions are
// unlinked (a session is relayed by one bridge at a time).
func (e *earlyMedia) stopRelayLocked() {
	if e.leg == nil {
		return
	}
	e.cancel()
	<-e.done
	e.leg = nil
}

// end is the ringing's end: no more early media, and no more ringback.
// It returns once neither plays.
func (e *earlyMedia) end() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.over = true
	e.stopRelayLocked()
	if e.stopRingback != nil {
		e.stopRingback()
		e.stopRingback = nil
	}
}

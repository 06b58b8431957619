package sip

import (
	"context"
	"time"
)

// watchMedia ends an answered call when the caller's media stops: no RTP
// nor RTCP for Config.MediaTimeout while the call is not on hold (a
// caller that sent ACK and vanished), or for MediaHoldTimeout while it
// is. The call is hung up with BYE and its context ends with
// errMediaTimeout, whose trace cause is media_timeout.
//
// It runs on a timer, not a goroutine of its own: one goroutine per call
// that sleeps for the whole call cost its start, its stack and the
// collector's scan of it (2,000 of them at 2,000 calls/s). mu is held;
// stopWatchMedia ends it.
func (l *inLeg) watchMediaLocked() {
	active, held := l.s.cfg.MediaTimeout, l.s.cfg.MediaHoldTimeout
	if active < 0 && held < 0 {
		return
	}
	answered := time.Now() // silence counts from the answer: early media is one-way
	l.watch.timer = time.AfterFunc(max(active, time.Second), func() { l.checkMedia(answered) })
}

// checkMedia is watchMedia's look at the caller's media, at the time its
// timer set: it hangs up, or sets the timer for the next look.
func (l *inLeg) checkMedia(answered time.Time) {
	l.mu.Lock()
	if l.watch.stopped || l.ctx.Err() != nil {
		l.mu.Unlock()
		return
	}
	l.wg.Add(1) // finish waits for a look under way (it stops the timer under mu first)
	l.mu.Unlock()
	defer l.wg.Done()
	active, held := l.s.cfg.MediaTimeout, l.s.cfg.MediaHoldTimeout
	last, onHold := l.sess.Activity()
	limit := active
	if onHold {
		limit = held
	}
	if last.IsZero() || limit < 0 {
		l.rewatchMedia(max(active, held, time.Second))
		return
	}
	silent := time.Since(later(last, answered))
	if silent < limit {
		// Look again when the limit would run out, or sooner if the
		// stream comes off hold meanwhile.
		l.rewatchMedia(min(limit-silent, max(active, time.Second)) + 10*time.Millisecond)
		return
	}
	l.log.Info("no media from the caller: hanging up", "silent_s", int(silent/time.Second), "on_hold", onHold)
	l.terminate(context.WithoutCancel(l.ctx), errMediaTimeout)
}

// rewatchMedia sets watchMedia's timer for its next look in d, unless the
// call ended.
func (l *inLeg) rewatchMedia(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.watch.stopped && l.ctx.Err() == nil {
		l.watch.timer.Reset(d)
	}
}

// stopWatchMedia ends watchMedia: no look starts after it (a look under
// way is in the leg's wait group), and the timer no longer holds the leg.
func (l *inLeg) stopWatchMedia() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.watch.stopped = true
	if l.watch.timer != nil {
		l.watch.timer.Stop()
	}
}

// mediaWatch is watchMedia's timer, and whether the call's end stopped it
// (guarded by the dialog's mu).
type mediaWatch struct {
	timer   *time.Timer
	stopped bool
}

// later is the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

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
func (l *inLeg) watchMedia() {
	active, held := l.s.cfg.MediaTimeout, l.s.cfg.MediaHoldTimeout
	if active < 0 && held < 0 {
		return
	}
	answered := time.Now() // silence counts from the answer: early media is one-way
	check := time.NewTimer(max(active, time.Second))
	defer check.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-check.C:
		}
		last, onHold := l.sess.Activity()
		limit := active
		if onHold {
			limit = held
		}
		if last.IsZero() || limit < 0 {
			check.Reset(max(active, held, time.Second))
			continue
		}
		silent := time.Since(later(last, answered))
		if silent < limit {
			// Look again when the limit would run out, or sooner if the
			// stream comes off hold meanwhile.
			check.Reset(min(limit-silent, max(active, time.Second)) + 10*time.Millisecond)
			continue
		}
		l.log.Info("no media from the caller: hanging up", "silent_s", int(silent/time.Second), "on_hold", onHold)
		l.terminate(context.WithoutCancel(l.ctx), errMediaTimeout)
		return
	}
}

// later is the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

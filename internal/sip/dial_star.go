package sip

import (
	"context"
	"time"

	"github.com/switchboard/switchboard/internal/call"
)

// watchStar ends the bridge when the caller presses * (TwiML
// hangupOnStar), by RFC 4733, SIP INFO or in-band tone: end cancels the
// bridge, the callee's leg is hung up and the flow goes on. Other keys
// are ignored (they still reach the callee). The returned func stops the
// watch and returns once it has stopped, so no later Gather of the flow
// races it for the caller's keys.
func (l *inLeg) watchStar(ctx context.Context, end context.CancelFunc) (stop func()) {
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for wctx.Err() == nil {
			d, err := l.sess.Gather(wctx, call.GatherOptions{NumDigits: 1, Timeout: 24 * time.Hour})
			if err != nil {
				return
			}
			if d == "*" {
				l.log.Debug("caller pressed *: the callee is hung up")
				end()
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

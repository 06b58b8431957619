package sip

import (
	"cmp"
	"context"

	"github.com/switchboard/switchboard/internal/call"
)

// legsFor turns Dial targets into the outbound legs that ring them:
// registered phones, the account's carriers for numbers, and sip: URIs
// within the egress policy. cause is why the first target that rings
// nobody does not (USER_NOT_REGISTERED …); refused is the policy that
// stopped a target. A Dial and a transfer (refer.go) share it, so a
// transferred call goes where a dialled one would.
func (l *inLeg) legsFor(ctx context.Context, targets []call.Target, callerID string) (legs []legTarget, cause string, refused error) {
	for _, t := range targets {
		if lt, c, ok := l.deviceTargets(ctx, t); ok {
			if c != "" && cause == "" {
				cause = c
			}
			legs = append(legs, withTarget(lt, t)...)
			continue
		}
		if lt, ok := l.s.carrierTarget(l.info.AccountID, t, cmp.Or(callerID, l.info.From)); ok {
			legs = append(legs, withTarget([]legTarget{lt}, t)...)
			continue
		}
		u, c := l.s.resolve(l.info.AccountID, t)
		if c != "" {
			l.log.Info("dial target not reachable", "kind", t.Kind, "value", t.Value, "cause", c)
			if cause == "" {
				cause = c
			}
			continue
		}
		dest, err := l.s.destination(ctx, l.info.AccountID, t, u)
		if err != nil {
			l.log.Warn("dial target refused", "kind", t.Kind, "value", t.Value, "err", err)
			refused = err
			continue
		}
		legs = append(legs, withTarget([]legTarget{{uri: u, dest: dest, delay: t.Delay, timeout: t.Timeout, headers: t.Headers}}, t)...)
	}
	return legs, cause, refused
}

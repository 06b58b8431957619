package sip

import (
	"context"
	"sync/atomic"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
)

// Gateway is one way out to a carrier for a dialled number: the
// Request-URI to send (number already formatted for the carrier) and the
// digest credentials the carrier may challenge for.
type Gateway struct {
	URI                string
	Username, Password string
}

// Carriers finds the account's outbound resources for a number (Kazoo's
// resources documents): gateways in the order they are to be tried.
type Carriers interface {
	Gateways(accountID, number, callerID string) []Gateway
}

// SetCarriers routes calls to numbers through the accounts' resources
// (before the account's trunk gateway). Call it before Start.
func (s *Server) SetCarriers(c Carriers) { s.carriers = c }

// carrierTarget is the leg that dials a number through the account's
// carriers: the first gateway, failing over to the next ones. ok is false
// when no resource matches (the trunk's gateway is then used).
func (s *Server) carrierTarget(accountID string, t call.Target, callerID string) (legTarget, bool) {
	if s.carriers == nil || t.Kind != "number" {
		return legTarget{}, false
	}
	var legs []legTarget
	for _, g := range s.carriers.Gateways(accountID, t.Value, callerID) {
		var u sipmsg.Uri
		if err := sipmsg.ParseUri(g.URI, &u); err != nil || u.Host == "" {
			continue
		}
		legs = append(legs, legTarget{uri: u, username: g.Username, password: g.Password,
			delay: t.Delay, timeout: t.Timeout, headers: t.Headers})
	}
	if len(legs) == 0 {
		return legTarget{}, false
	}
	first := legs[0]
	first.failover = legs[1:]
	return first, true
}

// placeFailover places a leg and, when its gateway fails (not busy, not
// unanswered), the next gateways in turn.
func (l *inLeg) placeFailover(ctx context.Context, t legTarget, callerID string, claimed *atomic.Bool) attempt {
	a := l.place(ctx, t, callerID, claimed)
	for _, next := range t.failover {
		if a.leg != nil || a.status != "failed" || ctx.Err() != nil {
			break
		}
		l.log.Info("dial: gateway failed, trying the next", "cause", a.cause, "next", next.uri.Host)
		a = l.place(ctx, next, callerID, claimed)
	}
	return a
}

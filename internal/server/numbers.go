package server

import (
	"context"

	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/routing"
)

// numberRouter is engine.NumberRouter over the server's router and flow
// cache: a number dialled inside a call (menu hunting, disa) is routed as a
// call to it would be, never to no_match.
type numberRouter struct {
	router *routing.Router
	flows  *flowCache
}

// RouteNumber returns the flow that handles number in the account; a nil
// root when none does.
func (n numberRouter) RouteNumber(ctx context.Context, accountID, number string) (string, *engine.Node, error) {
	m, ok := n.router.Route(accountID, number)
	if !ok {
		return "", nil, nil
	}
	f, err := n.flows.Flow(ctx, accountID, m.CallflowID)
	if err != nil {
		return "", nil, err
	}
	return m.CallflowID, f.Root, nil
}

var _ engine.NumberRouter = numberRouter{}

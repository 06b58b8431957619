package server

import (
	"context"

	"github.com/switchboard/switchboard/internal/api"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/routing"
	"github.com/switchboard/switchboard/internal/store"
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

// flowRoutes is api.Routes over the server's router: the API reports each
// committed call-flow write and the router follows it, so the server alone
// owns the routing index.
type flowRoutes struct{ router *routing.Router }

// CallflowSaved puts the flow's numbers and patterns in the router.
func (fr flowRoutes) CallflowSaved(c store.Callflow) error {
	return fr.router.Put(c.AccountID, c.ID, c.Numbers, c.Patterns)
}

// CallflowDeleted takes the flow out of the router.
func (fr flowRoutes) CallflowDeleted(accountID, id string) { fr.router.Remove(accountID, id) }

var _ api.Routes = flowRoutes{}

package server

import (
	"context"

	"github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/routing"
	"github.com/switchboard/switchboard/internal/sip"
)

// transferRouter is sip.Transfers: a phone's blind transfer to a number
// goes where a call dialling that number would ring. The account's flow
// for the number decides when it begins by ringing someone (user,
// device, ring_group, group) or by calling out (resources: the number
// itself, through the account's carriers); a name is a device's SIP
// username or a user's username. A flow that begins otherwise (a menu, a
// webhook) cannot take a transferred call yet: the transfer fails and the
// call stays as it was.
type transferRouter struct {
	numbers numberRouter
	phones  *phoneDirectory
}

// TransferTargets is sip.Transfers.
func (t transferRouter) TransferTargets(ctx context.Context, accountID, number string) ([]call.Target, bool) {
	if n := routing.Normalize(number); n != "" {
		_, root, err := t.numbers.RouteNumber(ctx, accountID, n)
		if err == nil && root != nil {
			ts := ringTargets(root, n)
			return ts, len(ts) > 0
		}
	}
	name := call.Target{Kind: "client", Value: number}
	if len(t.phones.Devices(accountID, name)) > 0 {
		return []call.Target{name}, true
	}
	return nil, false
}

// ringTargets are the Dial targets of the first node of a flow that rings
// (past skipped nodes); none when it begins otherwise.
func ringTargets(n *engine.Node, number string) []call.Target {
	for range 16 {
		if n == nil || !n.Skip {
			break
		}
		n = n.Children["_"]
	}
	if n == nil {
		return nil
	}
	switch a := n.Action.(type) {
	case *actions.User:
		return []call.Target{{Kind: "user", Value: a.ID, Headers: a.CustomSIPHeaders}}
	case *actions.Device:
		return []call.Target{{Kind: "device", Value: a.ID, Headers: a.CustomSIPHeaders}}
	case *actions.Group:
		return []call.Target{{Kind: "group", Value: a.ID}}
	case *actions.RingGroup:
		var ts []call.Target
		for _, e := range a.Endpoints {
			ts = append(ts, call.Target{Kind: e.EndpointType, Value: e.ID})
		}
		return ts
	case *actions.Resources:
		if a.ToDID != "" {
			number = a.ToDID
		}
		return []call.Target{{Kind: "number", Value: number}}
	}
	return nil
}

var _ sip.Transfers = transferRouter{}

package actions

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/routing"
)

func init() {
	engine.Register(engine.Spec{
		Name: "transfer", Group: "Advanced", Label: "Transfer", Icon: "transfer",
		Doc:    "Send the call on to an extension or number, as if the caller had dialled it.",
		Schema: schema("transfer"), Branches: []string{"_"}, // and a failed dial's cause (USER_BUSY, sip:486)
		New: func() engine.Action { return new(Transfer) },
	})
}

// Transfer is Kazoo's transfer module: the call goes on to target (an
// extension or number of the account; the capture group of the number
// the call matched when target is empty) as if the caller had dialled
// it. A number a call flow of the account answers goes on in that flow;
// any other is dialled out through the account's carriers, and a failed
// dial takes the child named after its cause, else "_".
//
// Kazoo's leg "bleg" transfers the other party of a bridge; a flow runs
// on the caller with no bridge up, so it is traced as a warning and the
// caller is transferred. Phones transfer their bridged calls themselves
// (SIP REFER, blind or attended).
type Transfer struct {
	// Target is the extension or number; empty takes the capture group.
	Target string `json:"target,omitempty"`
	// TransferType is blind (the default) or attended: the caller is sent
	// on at once either way (nobody waits to introduce the call).
	TransferType string `json:"transfer_type,omitempty"`
	// Leg is which party is transferred: self (the default) or bleg.
	Leg string `json:"leg,omitempty"`
	// Captures are Kazoo's fallbacks when no capture group is present.
	Captures []string `json:"captures,omitempty"`
}

// transferRing is how long a dialled transfer target rings, in seconds.
const transferRing = 30

// Exec routes or dials the target.
func (a *Transfer) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	if a.Leg == "bleg" {
		x.Trace.Add("warning", "code", "transfer_leg", "message", "no bridged party to transfer: the caller is transferred",
			"module", x.Node.Module, "node", x.Node.Path)
	}
	target := a.Target
	if target == "" {
		target, _ = x.Vars.Get("capture_group")
	}
	target = routing.Normalize(target)
	if target == "" {
		traceBranch(x, "_", "reason", "no target")
		return "_", nil
	}
	if numbers := deps(x).Numbers; numbers != nil {
		id, root, err := numbers.RouteNumber(ctx, x.Account.ID, target)
		switch {
		case err != nil:
			x.Log.Warn("transfer route lookup failed", "number", target, "err", err)
		case root != nil:
			x.Trace.Add("route", "number", target, "callflow_id", id, "module", x.Node.Module, "node", x.Node.Path)
			x.Trace.Add("transfer", "kind", "blind", "by", "flow", "target", target, "status", "routed", "sip_code", 0)
			x.Continue(root)
			return "_", nil
		}
	}
	cid, _ := x.Vars.CallerID(x.Call.Info())
	res, err := x.Call.Dial(ctx, call.DialOptions{
		Targets: []call.Target{{Kind: "number", Value: target}}, Timeout: transferRing * time.Second, CallerID: cid,
	})
	x.Trace.Add("transfer", "kind", "blind", "by", "flow", "target", target, "status", transferStatus(res, err), "sip_code", res.SIPCode)
	if err != nil {
		return "_", fmt.Errorf("transfer: %w", err)
	}
	return bridgeBranch(x, res), nil
}

// transferStatus is the transfer line's status for a dialled target:
// completed once bridged, else the dial's status (busy, no-answer …).
func transferStatus(res call.DialResult, err error) string {
	switch {
	case bridged(res):
		return "completed"
	case err != nil || res.Status == "":
		return "failed"
	}
	return res.Status
}

var _ engine.Action = (*Transfer)(nil)

package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/switchboard/switchboard/internal/egress"
)

// EgressSettings keeps, per account, the networks beyond the public
// internet its webhooks, media fetches and SIP dials may reach. The server
// implements it: it stores the setting and applies it to the live egress
// policy at once. Only the operator may change it, because the policy is
// what keeps tenants off the operator's own networks.
type EgressSettings interface {
	// Operator is the account whose tokens may change the setting (the
	// default account).
	Operator() string
	// SetAccountEgress replaces an account's networks (CIDRs or
	// addresses; empty: none); store.ErrNotFound for an unknown account.
	SetAccountEgress(ctx context.Context, accountID string, allow []string) error
}

// patchAccountEgress answers PATCH /v2/accounts/{id} with
// {"data":{"egress_allow":["10.1.0.0/16", …]}}: the operator lets an
// account reach those networks besides public addresses ([] takes that
// back). Any other token gets 403.
func (a *API) patchAccountEgress(w http.ResponseWriter, r *http.Request) error {
	if a.egress == nil {
		return &Error{Status: http.StatusServiceUnavailable, Message: "egress settings unavailable"}
	}
	// The path's account (which the token reaches: authenticate checked),
	// set by the operator's own token only.
	target := accountOf(r)
	if actorOf(r) != a.egress.Operator() {
		return &Error{Status: http.StatusForbidden, Message: "forbidden", Data: map[string]any{
			"message": "only the operator's account sets egress_allow"}}
	}
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	var body struct {
		Allow *[]string `json:"egress_allow"`
	}
	if err := json.Unmarshal(req.Data, &body); err != nil || body.Allow == nil {
		return fieldError(http.StatusBadRequest, "validation failed", "egress_allow", "required",
			"egress_allow is a list of IP addresses or CIDRs")
	}
	if _, err := egress.ParsePrefixes(*body.Allow); err != nil {
		return fieldError(http.StatusBadRequest, "validation failed", "egress_allow", "format", err.Error())
	}
	if err := a.egress.SetAccountEgress(r.Context(), target, *body.Allow); err != nil {
		return err
	}
	a.log.Info("account egress set", "account_id", target, "by_account_id", actorOf(r), "egress_allow", *body.Allow)
	return a.success(w, r, http.StatusOK, map[string]any{"id": target, "egress_allow": *body.Allow}, "", nil)
}

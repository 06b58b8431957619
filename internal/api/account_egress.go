package api

import (
	"context"
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

// checkEgress refuses an egress_allow from any token but the operator's
// (403) and a list that does not parse (400).
func (a *API) checkEgress(r *http.Request, allow []string) error {
	if a.egress == nil {
		return &Error{Status: http.StatusServiceUnavailable, Message: "egress settings unavailable"}
	}
	if actorOf(r) != a.egress.Operator() {
		return &Error{Status: http.StatusForbidden, Message: "forbidden", Data: map[string]any{
			"message": "only the operator's account sets egress_allow"}}
	}
	if _, err := egress.ParsePrefixes(allow); err != nil {
		return fieldError(http.StatusBadRequest, "validation failed", "egress_allow", "format", err.Error())
	}
	return nil
}

// setEgress applies a checked egress_allow to the path's account.
func (a *API) setEgress(r *http.Request, allow []string) error {
	target := accountOf(r)
	if err := a.egress.SetAccountEgress(r.Context(), target, allow); err != nil {
		return err
	}
	a.log.Info("account egress set", "account_id", target, "by_account_id", actorOf(r), "egress_allow", allow)
	return nil
}

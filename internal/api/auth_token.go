package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/store"
)

// The auth token is what a Twilio developer configures in the twilio
// library's validateRequest (and in HTTP Basic for recordings): the
// secret that signs X-Twilio-Signature. Readable by the account's own
// tokens, rotatable with a grace period during which the previous token
// still validates.

const (
	// defaultTokenGrace keeps a rotated-out auth token valid for a day,
	// long enough to roll a deployment.
	defaultTokenGrace = 24 * time.Hour
	// maxTokenGrace bounds the grace a rotation may ask for.
	maxTokenGrace = 30 * 24 * time.Hour
)

// authTokenView is the answer of both auth_token routes.
func (a *API) authTokenView(acct store.Account) map[string]any {
	out := map[string]any{
		"account_id":  acct.ID,
		"account_sid": call.AccountSid(acct.ID),
		"auth_token":  acct.SigningSecret,
	}
	if acct.PreviousSigningSecret != "" && a.now().Before(acct.PreviousUntil) {
		out["previous_auth_token_valid_until"] = acct.PreviousUntil.UTC().Format(time.RFC3339)
	}
	return out
}

// getAuthToken answers GET /v2/accounts/{account_id}/auth_token.
func (a *API) getAuthToken(w http.ResponseWriter, r *http.Request) error {
	acct, err := a.store.GetAccount(r.Context(), accountOf(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return a.success(w, r, http.StatusOK, a.authTokenView(acct), "", nil)
}

// rotateAuthToken answers POST /v2/accounts/{account_id}/auth_token: a new
// token signs from now on; the previous one validates for
// data.grace_seconds more (default one day, 0 = none).
func (a *API) rotateAuthToken(w http.ResponseWriter, r *http.Request) error {
	grace := defaultTokenGrace
	if r.ContentLength != 0 {
		req, err := a.readRequest(w, r)
		if err != nil {
			return err
		}
		var d struct {
			Grace *float64 `json:"grace_seconds"`
		}
		if len(req.Data) > 0 && json.Unmarshal(req.Data, &d) != nil {
			return fieldError(http.StatusBadRequest, "validation failed", "grace_seconds", "type", "grace_seconds must be a number of seconds")
		}
		if d.Grace != nil {
			g := time.Duration(*d.Grace * float64(time.Second))
			if g < 0 || g > maxTokenGrace {
				return fieldError(http.StatusBadRequest, "validation failed", "grace_seconds", "maximum", "grace_seconds must be between 0 and 2592000")
			}
			grace = g
		}
	}
	acct, err := store.RotateAuthToken(r.Context(), a.store, accountOf(r), grace, a.now())
	if err != nil {
		return err
	}
	if a.onAccount != nil {
		a.onAccount(r.Context(), acct.ID)
	}
	w.Header().Set("Cache-Control", "no-store")
	return a.success(w, r, http.StatusOK, a.authTokenView(acct), "", nil)
}

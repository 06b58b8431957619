package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/store"
)

func (a *API) getAccount(w http.ResponseWriter, r *http.Request) error {
	acct, err := a.store.GetAccount(r.Context(), accountOf(r))
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, acct, "", nil)
}

// createSubAccount makes a new account (Kazoo's PUT /v2/accounts/{id}) with
// its own API key, shown once in the answer. The new account's tokens see
// only the new account.
func (a *API) createSubAccount(w http.ResponseWriter, r *http.Request) error {
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	name, _ := dataString(req.Data, "name")
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 128 {
		return fieldError(http.StatusBadRequest, "validation failed", "name", "required", "an account needs a name of 1 to 128 characters")
	}
	acct, key, err := store.AddAccount(r.Context(), a.store, name, "")
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusCreated, map[string]any{
		"id": acct.ID, "name": acct.Name, "created": acct.Created, "parent_id": accountOf(r), "api_key": key,
	}, "", nil)
}

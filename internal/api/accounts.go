package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
	acct, key, err := CreateAccount(r.Context(), a.store, name, "")
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusCreated, map[string]any{
		"id": acct.ID, "name": acct.Name, "created": acct.Created, "parent_id": accountOf(r), "api_key": key,
	}, "", nil)
}

// CreateAccount stores a new account with a fresh signing secret and an
// API key, and returns the key: its only appearance in clear. An empty
// apiKey means a generated one.
func CreateAccount(ctx context.Context, st store.Store, name, apiKey string) (store.Account, string, error) {
	acct, err := st.CreateAccount(ctx, store.Account{ID: newID(), Name: name, SigningSecret: RandomSecret(16)})
	if err != nil {
		return store.Account{}, "", fmt.Errorf("create account %q: %w", name, err)
	}
	if apiKey == "" {
		apiKey = RandomSecret(32)
	}
	if err := st.AddAPIKey(ctx, acct.ID, HashSecret(apiKey)); err != nil {
		return store.Account{}, "", fmt.Errorf("add api key to account %s: %w", acct.ID, err)
	}
	return acct, apiKey, nil
}

// RandomSecret returns n random bytes in hex.
func RandomSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/store"
)

// createSubAccount makes a new account under the one in the path (Kazoo's
// PUT /v2/accounts/{parent_id}) with its own API key, shown once in the
// answer. Only the operator's account, and resellers in their own
// sub-tree, may; the new account's tokens see only the new account and
// its future descendants.
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
	if err := checkNewAccountMusic(req.Data); err != nil {
		return err
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(req.Data, &body); err != nil {
		return fieldError(http.StatusBadRequest, "validation failed", "data", "type", "an account document is a JSON object")
	}
	settings, err := accountSettingsOf(body)
	if err != nil {
		return err
	}
	if len(settings) > 0 && a.replacer == nil {
		return &Error{Status: http.StatusServiceUnavailable, Message: "account settings unavailable"}
	}
	if _, ok := body["egress_allow"]; ok {
		return fieldError(http.StatusBadRequest, "validation failed", "egress_allow", "unsupported",
			"a new account has no egress_allow: the operator sets it with PATCH once the account exists")
	}
	stored, err := encodeSettings(settings)
	if err != nil {
		return err
	}
	acct, key, err := store.AddChildAccount(r.Context(), a.store, actorOf(r), accountOf(r), name)
	if err != nil {
		return err
	}
	if stored != nil {
		set := func(json.RawMessage) (json.RawMessage, error) { return stored, nil }
		if err := a.replacer.PatchAccount(r.Context(), acct.ID, "", set); err != nil {
			return fmt.Errorf("new account %s: %w", acct.ID, err)
		}
		a.accountChanged(r, acct.ID)
	}
	out, err := withSettings(map[string]any{
		"id": acct.ID, "name": acct.Name, "created": acct.Created, "parent_id": acct.ParentID, "is_reseller": false, "api_key": key,
		"music_on_hold": musicOnHold{},
	}, stored)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusCreated, out, "", nil)
}

// rotateAPIKey issues a new API key for the account (Kazoo's PUT
// /v2/accounts/{id}/api_key), shown once, and revokes its old keys and
// every token of the account but the caller's own: what to do when a key
// leaks.
func (a *API) rotateAPIKey(w http.ResponseWriter, r *http.Request) error {
	keep := ""
	if actorOf(r) == accountOf(r) {
		keep = tokenOf(r)
	}
	key, err := store.RotateAPIKey(r.Context(), a.store, accountOf(r), keep)
	if err != nil {
		return err
	}
	a.log.Info("api key rotated", "account_id", accountOf(r), "by_account_id", actorOf(r))
	return a.success(w, r, http.StatusCreated, map[string]any{"id": accountOf(r), "api_key": key}, "", nil)
}

// promoteReseller lets an account create accounts in its own sub-tree
// (Kazoo's PUT /v2/accounts/{id}/reseller); only the operator may.
func (a *API) promoteReseller(w http.ResponseWriter, r *http.Request) error {
	return a.setReseller(w, r, true)
}

// demoteReseller takes that right back (DELETE …/reseller); the accounts
// it made stay where they are.
func (a *API) demoteReseller(w http.ResponseWriter, r *http.Request) error {
	return a.setReseller(w, r, false)
}

func (a *API) setReseller(w http.ResponseWriter, r *http.Request, on bool) error {
	acct, err := store.SetReseller(r.Context(), a.store, actorOf(r), accountOf(r), on)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, acct, "", nil)
}

// listChildren answers Kazoo's GET /v2/accounts/{id}/children: the
// accounts made directly under this one.
func (a *API) listChildren(w http.ResponseWriter, r *http.Request) error {
	list, err := store.Children(r.Context(), a.store, accountOf(r))
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, list, "", nil)
}

// listDescendants answers Kazoo's GET /v2/accounts/{id}/descendants: the
// whole sub-tree, so a reseller can find every account it manages.
func (a *API) listDescendants(w http.ResponseWriter, r *http.Request) error {
	list, err := store.Descendants(r.Context(), a.store, accountOf(r))
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, list, "", nil)
}

// checkNewAccountMusic reads a new account's music_on_hold as PATCH does:
// null, {} or an empty media_id are none; a media_id must name a media of
// the new account, which has none yet, so any id is refused (the parent's
// own media included: accounts are walls). Set it once media is uploaded.
func checkNewAccountMusic(data json.RawMessage) error {
	var body struct {
		Music json.RawMessage `json:"music_on_hold"`
	}
	if json.Unmarshal(data, &body) != nil || len(body.Music) == 0 {
		return nil
	}
	id, err := parseMusicOnHold(body.Music)
	if err != nil || id == "" {
		return err
	}
	return fieldError(http.StatusBadRequest, "validation failed", "music_on_hold.media_id", "not_found",
		"no media "+id+" in the new account: upload its media, then set music_on_hold with PATCH or POST")
}

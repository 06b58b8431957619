package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/store"
)

// Kazoo's POST /v2/accounts/{id} replaces the account's own document: the
// request's data is checked (music_on_hold as PATCH checks it, the other
// keys with Kazoo's types) and replaces the stored document's public
// fields only (crossbar_doc:load_merge). So a POST that leaves out
// music_on_hold or timezone removes it, as it removes any public field
// left out, while what is private to the account (here: the operator's
// egress_allow, the reseller mark, keys, the tree) stays.

// accountReadOnly are the keys GET shows that a POST may send back
// (a client that posts what it read) and that change nothing.
var accountReadOnly = []string{"id", "created", "parent_id", "is_reseller"}

// AccountReplacer replaces an account's own document and keeps its
// settings. The server implements it.
type AccountReplacer interface {
	AccountSettings
	// ReplaceAccount sets the account's name, music on hold ("" removes
	// it) and settings (nil removes them) in one write;
	// store.ErrNotFound for an unknown account, *store.MissingRefError
	// for a media not the account's.
	ReplaceAccount(ctx context.Context, accountID, name, mediaID string, settings json.RawMessage) (store.Account, error)
}

// replaceAccount answers POST /v2/accounts/{id}, Kazoo's full replace of
// the account document: name (required, 1 to 128 characters),
// music_on_hold (as PATCH takes it; left out, it is removed) and every
// other key (timezone, caller_id …: checked with Kazoo's types, kept as
// given, left out removed). egress_allow is the operator's, not the
// document's: left out it stays, given it is set as PATCH sets it (the
// operator's token only). id, created, parent_id and is_reseller, as GET
// shows them, are ignored.
func (a *API) replaceAccount(w http.ResponseWriter, r *http.Request) error {
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(req.Data, &body); err != nil || body == nil {
		return fieldError(http.StatusBadRequest, "validation failed", "data", "type", "an account document is a JSON object")
	}
	var bad schema.ValidationError
	settings, err := accountSettingsOf(body)
	if v, ok := errors.AsType[schema.ValidationError](err); ok {
		bad = append(bad, v...)
	} else if err != nil {
		return err
	}
	var name string
	if raw, ok := body["name"]; !ok {
		bad = append(bad, schema.FieldError{Path: "name", Rule: "required", Message: "Field is required but missing"})
	} else if json.Unmarshal(raw, &name) != nil || strings.TrimSpace(name) == "" || utf8.RuneCountInString(strings.TrimSpace(name)) > 128 {
		bad = append(bad, schema.FieldError{Path: "name", Rule: "type", Message: "an account needs a name of 1 to 128 characters"})
	}
	if len(bad) > 0 {
		return bad.Sorted()
	}
	name = strings.TrimSpace(name)
	if a.replacer == nil {
		return &Error{Status: http.StatusServiceUnavailable, Message: "account settings unavailable"}
	}
	media := ""
	if raw, ok := body["music_on_hold"]; ok {
		if media, err = a.checkMusicOnHold(r, raw); err != nil {
			return err
		}
	}
	var allow *[]string
	if raw, ok := body["egress_allow"]; ok {
		if err := json.Unmarshal(raw, &allow); err != nil || allow == nil {
			return fieldError(http.StatusBadRequest, "validation failed", "egress_allow", "type", "egress_allow is a list of IP addresses or CIDRs")
		}
		if err := a.checkEgress(r, *allow); err != nil {
			return err
		}
	}
	stored, err := encodeSettings(settings)
	if err != nil {
		return err
	}
	acct, err := a.replacer.ReplaceAccount(r.Context(), accountOf(r), name, media, stored)
	if err != nil {
		return err
	}
	a.log.Info("account replaced", "account_id", acct.ID, "by_account_id", actorOf(r), "media_id", media, "settings", len(settings))
	a.accountChanged(r, acct.ID)
	if allow != nil {
		if err := a.setEgress(r, *allow); err != nil {
			return err
		}
	}
	out, err := withSettings(accountAnswer{Account: acct, MusicOnHold: musicOnHold{MediaID: media}}, stored)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, out, "", nil)
}

package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/store"
)

// Kazoo's POST /v2/accounts/{id} replaces the account's own document: the
// request's data, checked against the accounts schema with its defaults
// (music_on_hold: {}), is merged with the stored document's private
// fields only (crossbar_doc:load_merge). So a POST that leaves out
// music_on_hold removes it, as it removes any public field left out,
// while what is private to the account (here: the operator's
// egress_allow, the reseller mark, keys, the tree) stays.

// accountReadOnly are the keys GET shows that a POST may send back
// (a client that posts what it read) and that change nothing.
var accountReadOnly = []string{"id", "created", "parent_id", "is_reseller"}

// accountFields are the keys of an account's document a POST sets.
var accountFields = []string{"name", "music_on_hold", "egress_allow"}

// AccountReplacer replaces an account's own document. The server
// implements it.
type AccountReplacer interface {
	// ReplaceAccount sets the account's name and music on hold ("" removes
	// it) in one write; store.ErrNotFound for an unknown account,
	// *store.MissingRefError for a media not the account's.
	ReplaceAccount(ctx context.Context, accountID, name, mediaID string) (store.Account, error)
}

// replaceAccount answers POST /v2/accounts/{id}, Kazoo's full replace of
// the account document: name (required, 1 to 128 characters) and
// music_on_hold (as PATCH takes it; left out, it is removed). egress_allow
// is the operator's, not the document's: left out it stays, given it is
// set as PATCH sets it (the operator's token only). id, created,
// parent_id and is_reseller, as GET shows them, are ignored; any other key
// is refused (400, each named): Switchboard keeps no more of an account,
// and a setting silently dropped would look kept.
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
	for k := range body {
		if !slices.Contains(accountFields, k) && !slices.Contains(accountReadOnly, k) {
			bad = append(bad, schema.FieldError{Path: schema.JoinPath("", k), Rule: "unsupported",
				Message: "Switchboard keeps no " + k + " for an account (it keeps name and music_on_hold; egress_allow is the operator's)"})
		}
	}
	var name string
	if raw, ok := body["name"]; !ok {
		bad = append(bad, schema.FieldError{Path: "name", Rule: "required", Message: "Field is required but missing"})
	} else if json.Unmarshal(raw, &name) != nil || strings.TrimSpace(name) == "" || utf8.RuneCountInString(strings.TrimSpace(name)) > 128 {
		bad = append(bad, schema.FieldError{Path: "name", Rule: "type", Message: "an account needs a name of 1 to 128 characters"})
	}
	if len(bad) > 0 {
		slices.SortFunc(bad, func(x, y schema.FieldError) int { return strings.Compare(x.Path, y.Path) })
		return bad
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
	acct, err := a.replacer.ReplaceAccount(r.Context(), accountOf(r), name, media)
	if err != nil {
		return err
	}
	a.log.Info("account replaced", "account_id", acct.ID, "by_account_id", actorOf(r), "media_id", media)
	if allow != nil {
		if err := a.setEgress(r, *allow); err != nil {
			return err
		}
	}
	return a.success(w, r, http.StatusOK, accountAnswer{Account: acct, MusicOnHold: musicOnHold{MediaID: media}}, "", nil)
}

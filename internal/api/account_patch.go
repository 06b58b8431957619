package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/schema"

	"github.com/switchboard/switchboard/internal/store"
)

// AccountMusic keeps each account's music on hold (Kazoo's account
// music_on_hold.media_id): what a held party hears when the holding phone
// (its device, else its user) names none. The server implements it.
type AccountMusic interface {
	// AccountMusicOnHold is the account's media id, "" when none.
	AccountMusicOnHold(ctx context.Context, accountID string) (string, error)
	// SetAccountMusicOnHold replaces it ("" removes it);
	// store.ErrNotFound for an unknown account.
	SetAccountMusicOnHold(ctx context.Context, accountID, mediaID string) error
}

// musicOnHold is Kazoo's music_on_hold object of an account.
type musicOnHold struct {
	MediaID string `json:"media_id,omitempty"`
}

// accountAnswer is an account as GET /v2/accounts/{id} shows it: the
// record and its settings kept apart from it.
type accountAnswer struct {
	store.Account
	MusicOnHold musicOnHold `json:"music_on_hold"`
}

func (a *API) getAccount(w http.ResponseWriter, r *http.Request) error {
	out, err := a.accountDocument(r, accountOf(r))
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, out, "", nil)
}

// accountDocument is an account as GET shows it: the record, its music on
// hold and its other settings.
func (a *API) accountDocument(r *http.Request, id string) (map[string]any, error) {
	acct, err := a.store.GetAccount(r.Context(), id)
	if err != nil {
		return nil, err
	}
	out := accountAnswer{Account: acct}
	if a.music != nil {
		if out.MusicOnHold.MediaID, err = a.music.AccountMusicOnHold(r.Context(), acct.ID); err != nil {
			return nil, err
		}
	}
	var settings json.RawMessage
	if a.replacer != nil {
		if settings, err = a.replacer.AccountSettings(r.Context(), acct.ID); err != nil {
			return nil, err
		}
	}
	return withSettings(out, settings)
}

// patchAccount answers PATCH /v2/accounts/{id}: Kazoo's merge into the
// account document.
//   - name: the account's name (1 to 128 characters).
//   - egress_allow (["10.1.0.0/16", …]): the networks besides public
//     addresses the account may reach; the operator's token only ([] takes
//     them back).
//   - music_on_hold ({"media_id": "…"}): the account's music on hold, a
//     media document of the account ({} or "" removes it); any token that
//     reaches the account.
//   - any other key (timezone, caller_id …): merged into the stored ones,
//     objects key by key; null removes a key. The result is checked as
//     POST checks it.
//
// Every part is checked before any is applied, so a refused one changes
// nothing. The answer is the whole document, as GET shows it.
func (a *API) patchAccount(w http.ResponseWriter, r *http.Request) error {
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(req.Data, &body); err != nil || body == nil {
		return fieldError(http.StatusBadRequest, "validation failed", "data", "type",
			"an account patch is a JSON object: egress_allow a list of IP addresses or CIDRs, music_on_hold an object with a media_id, other keys as in the account document")
	}
	var egressAllow *[]string
	if raw, ok := body["egress_allow"]; ok {
		if err := json.Unmarshal(raw, &egressAllow); err != nil || egressAllow == nil {
			return fieldError(http.StatusBadRequest, "validation failed", "egress_allow", "type", "egress_allow is a list of IP addresses or CIDRs")
		}
	}
	music, hasMusic := body["music_on_hold"]
	var name *string
	if raw, ok := body["name"]; ok {
		var n string
		if json.Unmarshal(raw, &n) != nil || strings.TrimSpace(n) == "" || utf8.RuneCountInString(strings.TrimSpace(n)) > 128 {
			return fieldError(http.StatusBadRequest, "validation failed", "name", "type", "an account needs a name of 1 to 128 characters")
		}
		n = strings.TrimSpace(n)
		name = &n
	}
	patch := map[string]any{}
	for k, raw := range body {
		if slices.Contains(accountOwnKeys, k) || slices.Contains(accountReadOnly, k) {
			continue
		}
		if patch[k], err = decodeValue(raw); err != nil {
			return fieldError(http.StatusBadRequest, "validation failed", schema.JoinPath("", k), "type", "not a JSON value")
		}
	}
	if egressAllow == nil && !hasMusic && name == nil && len(patch) == 0 {
		return fieldError(http.StatusBadRequest, "validation failed", "data", "required",
			"PATCH an account with the keys to change: name, music_on_hold, egress_allow, timezone, caller_id …")
	}
	if egressAllow != nil {
		if err := a.checkEgress(r, *egressAllow); err != nil {
			return err
		}
	}
	var media string
	if hasMusic {
		if media, err = a.checkMusicOnHold(r, music); err != nil {
			return err
		}
	}
	if (name != nil || len(patch) > 0) && a.replacer == nil {
		return &Error{Status: http.StatusServiceUnavailable, Message: "account settings unavailable"}
	}
	merge := func(old json.RawMessage) (json.RawMessage, error) {
		m, err := settingsMap(old)
		if err != nil {
			return nil, err
		}
		merged := mergePatch(m, patch) // m is decoded afresh: merged in place
		if err := checkAccountSettings(merged); err != nil {
			return nil, err
		}
		return encodeSettings(merged)
	}
	if len(patch) > 0 { // checked on what is stored now, before anything is applied
		old, err := a.replacer.AccountSettings(r.Context(), accountOf(r))
		if err != nil {
			return err
		}
		if _, err := merge(old); err != nil {
			return err
		}
	}
	if egressAllow != nil {
		if err := a.setEgress(r, *egressAllow); err != nil {
			return err
		}
	}
	if hasMusic {
		if err := a.music.SetAccountMusicOnHold(r.Context(), accountOf(r), media); err != nil {
			return err
		}
		a.log.Info("account music on hold set", "account_id", accountOf(r), "by_account_id", actorOf(r), "media_id", media)
	}
	if name != nil || len(patch) > 0 {
		rename := ""
		if name != nil {
			rename = *name
		}
		if err := a.replacer.PatchAccount(r.Context(), accountOf(r), rename, merge); err != nil {
			return err
		}
		a.log.Info("account patched", "account_id", accountOf(r), "by_account_id", actorOf(r), "keys", len(patch), "renamed", name != nil)
		a.accountChanged(r, accountOf(r))
	}
	answer, err := a.accountDocument(r, accountOf(r))
	if err != nil {
		return err
	}
	if egressAllow != nil {
		answer["egress_allow"] = *egressAllow
	}
	return a.success(w, r, http.StatusOK, answer, "", nil)
}

// checkMusicOnHold reads a music_on_hold value: null, {} or an empty
// media_id remove it; a media_id must name a media document of the path's
// account (another account's reads as unknown).
func (a *API) checkMusicOnHold(r *http.Request, raw json.RawMessage) (string, error) {
	if a.music == nil {
		return "", &Error{Status: http.StatusServiceUnavailable, Message: "music on hold settings unavailable"}
	}
	id, err := parseMusicOnHold(raw)
	if err != nil || id == "" {
		return "", err
	}
	docs, err := a.documents()
	if err != nil {
		return "", err
	}
	if _, err := docs.GetDoc(r.Context(), "media", accountOf(r), id); errors.Is(err, store.ErrNotFound) {
		return "", fieldError(http.StatusBadRequest, "validation failed", "music_on_hold.media_id", "not_found",
			"no media "+id+" in this account")
	} else if err != nil {
		return "", err
	}
	return id, nil
}

// parseMusicOnHold reads the shape of a music_on_hold value: its media
// id, "" for null, {} or an empty media_id.
func parseMusicOnHold(raw json.RawMessage) (string, error) {
	var m *struct {
		MediaID *string `json:"media_id"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", fieldError(http.StatusBadRequest, "validation failed", "music_on_hold.media_id", "type",
			"music_on_hold is an object whose media_id is a media id")
	}
	if m == nil || m.MediaID == nil || *m.MediaID == "" {
		return "", nil
	}
	if len(*m.MediaID) > 2048 {
		return "", fieldError(http.StatusBadRequest, "validation failed", "music_on_hold.media_id", "maxLength",
			"a media id is at most 2048 characters")
	}
	return *m.MediaID, nil
}

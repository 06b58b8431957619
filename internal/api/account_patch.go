package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

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
	acct, err := a.store.GetAccount(r.Context(), accountOf(r))
	if err != nil {
		return err
	}
	out := accountAnswer{Account: acct}
	if a.music != nil {
		if out.MusicOnHold.MediaID, err = a.music.AccountMusicOnHold(r.Context(), acct.ID); err != nil {
			return err
		}
	}
	return a.success(w, r, http.StatusOK, out, "", nil)
}

// patchAccount answers PATCH /v2/accounts/{id}: the settings of an account
// that are not documents.
//   - egress_allow (["10.1.0.0/16", …]): the networks besides public
//     addresses the account may reach; the operator's token only ([] takes
//     them back).
//   - music_on_hold ({"media_id": "…"}): the account's music on hold, a
//     media document of the account ({} or "" removes it); any token that
//     reaches the account.
//
// Every part is checked before any is applied, so a refused one changes
// nothing.
func (a *API) patchAccount(w http.ResponseWriter, r *http.Request) error {
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	var body struct {
		Egress *[]string        `json:"egress_allow"`
		Music  *json.RawMessage `json:"music_on_hold"`
	}
	if err := json.Unmarshal(req.Data, &body); err != nil {
		return fieldError(http.StatusBadRequest, "validation failed", "data", "type",
			"egress_allow is a list of IP addresses or CIDRs; music_on_hold an object with a media_id")
	}
	if body.Egress == nil && body.Music == nil {
		return fieldError(http.StatusBadRequest, "validation failed", "data", "required",
			"PATCH an account with egress_allow or music_on_hold")
	}
	if body.Egress != nil {
		if err := a.checkEgress(r, *body.Egress); err != nil {
			return err
		}
	}
	var media string
	if body.Music != nil {
		if media, err = a.checkMusicOnHold(r, *body.Music); err != nil {
			return err
		}
	}
	answer := map[string]any{"id": accountOf(r)}
	if body.Egress != nil {
		if err := a.setEgress(r, *body.Egress); err != nil {
			return err
		}
		answer["egress_allow"] = *body.Egress
	}
	if body.Music != nil {
		if err := a.music.SetAccountMusicOnHold(r.Context(), accountOf(r), media); err != nil {
			return err
		}
		a.log.Info("account music on hold set", "account_id", accountOf(r), "by_account_id", actorOf(r), "media_id", media)
		answer["music_on_hold"] = musicOnHold{MediaID: media}
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

package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

var errUnauthorized = &Error{Status: http.StatusUnauthorized, Message: "invalid credentials",
	Data: map[string]any{"message": "send a valid X-Auth-Token header; get one from PUT /v2/api_auth"}}

// apiAuth trades an API key for an auth token, as Kazoo's PUT /v2/api_auth.
// Failures are throttled per source address (loginThrottle): after a few,
// the source gets 429 with Retry-After, for longer after each further
// failure, and every failure is logged at WARN with its source.
func (a *API) apiAuth(w http.ResponseWriter, r *http.Request) error {
	src := sourceOf(r)
	ok, wait, first := a.logins.begin(src, a.now())
	if !ok {
		if first {
			a.log.Warn("sign-in throttled", "source", src, "remote_addr", r.RemoteAddr, "retry_after", wait.Round(time.Second))
		}
		return tooManySignIns(w, wait)
	}
	outcome := a.logins.done
	defer func() { outcome(src) }()
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	key, ok := dataString(req.Data, "api_key")
	if !ok || key == "" {
		return fieldError(http.StatusBadRequest, "validation failed", "api_key", "required", "Field is required but missing")
	}
	expires := a.now().Add(a.cfg.TokenTTL)
	acct, token, err := store.SignIn(r.Context(), a.store, key, expires)
	if errors.Is(err, store.ErrNotFound) {
		outcome = func(string) {}
		failures, lock, refused := a.logins.fail(src, a.now())
		a.log.Warn("sign-in failed", "source", src, "remote_addr", r.RemoteAddr, "request_id", requestID(r),
			"failures", failures, "locked_for", lock, "refused_since_last", refused)
		return errUnauthorized
	}
	if err != nil {
		return err
	}
	outcome = a.logins.succeed
	r = r.WithContext(context.WithValue(r.Context(), keyToken, token))
	return a.success(w, r, http.StatusCreated, map[string]any{
		"account_id":   acct.ID,
		"account_name": acct.Name,
		"expires_at":   expires.UTC().Format("2006-01-02T15:04:05Z"),
		"ttl":          int(a.cfg.TokenTTL.Seconds()),
	}, "", nil)
}

// authenticate lets a request through only with a live token of the
// account named in the path or of one of its ancestors; a token sees
// nothing of a sibling's or an ancestor's account.
func (a *API) authenticate(next http.Handler) http.Handler {
	return a.handle(func(w http.ResponseWriter, r *http.Request) error {
		token := r.Header.Get("X-Auth-Token")
		if token == "" {
			if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				token = strings.TrimSpace(b)
			}
		}
		if token == "" || len(token) > 256 {
			return errUnauthorized
		}
		accountID, err := store.AccountOfToken(r.Context(), a.store, token, a.now())
		if errors.Is(err, store.ErrNotFound) {
			return errUnauthorized
		}
		if err != nil {
			return err
		}
		target := accountID
		if want := r.PathValue("account_id"); want != "" && want != accountID {
			// A key reaches its own account and its descendants, never a
			// sibling or an ancestor; an unknown account is refused alike,
			// so ids cannot be probed.
			ok, err := store.Reaches(r.Context(), a.store, accountID, want)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if !ok {
				return &Error{Status: http.StatusForbidden, Message: "forbidden",
					Data: map[string]any{"message": "this token does not give access to account " + want}}
			}
			target = want
		}
		ctx := context.WithValue(r.Context(), keyAccount, target)
		ctx = context.WithValue(ctx, keyActor, accountID)
		ctx = context.WithValue(ctx, keyToken, token)
		next.ServeHTTP(w, r.WithContext(ctx))
		return nil
	})
}

// actorOf is the account whose token signed the request (accountOf is the
// account the path names: the same, or a descendant).
func actorOf(r *http.Request) string {
	id, _ := r.Context().Value(keyActor).(string)
	return id
}

// tokenOf is the auth token the request came with.
func tokenOf(r *http.Request) string {
	tok, _ := r.Context().Value(keyToken).(string)
	return tok
}

// signOut revokes the token the request carries (Kazoo's DELETE
// /v2/token_auth): a stolen or finished session ends at once, not at its
// expiry.
func (a *API) signOut(w http.ResponseWriter, r *http.Request) error {
	if err := store.RevokeToken(r.Context(), a.store, tokenOf(r)); err != nil {
		return err
	}
	r = r.WithContext(context.WithValue(r.Context(), keyToken, ""))
	return a.success(w, r, http.StatusOK, map[string]any{"revoked": true}, "", nil)
}

// tooManySignIns is the 429 of a throttled source, with Retry-After in
// whole seconds (at least 1).
func tooManySignIns(w http.ResponseWriter, wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	return &Error{Status: http.StatusTooManyRequests, Message: "too many failed sign-ins",
		Data: map[string]any{"message": "too many failed sign-ins from this address; try again later", "retry_after": max(secs, 1)}}
}

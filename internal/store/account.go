package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// The credential policy, once, for every backend and every caller: API keys
// and auth tokens are long random strings stored only as hashes, so the
// HTTP layer and the server never hash, and a stolen database holds no
// usable credential.

// NewID returns a random 128-bit id in hex (32 characters): the id of a new
// account, document or request, unguessable so ids leak nothing across
// accounts. One generator, so every id looks the same.
func NewID() string { return newSecret(16) }

// newSecret returns n random bytes in hex.
func newSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b)
}

// hashSecret is how API keys and auth tokens are stored: both are long
// random strings, so one SHA-256 is enough.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// AddAccount creates an account named name with a fresh id, a fresh
// webhook signing secret and an API key, in one write, and returns the key
// in clear: its only appearance. An empty apiKey means a generated one. On
// an empty store it makes the operator's default account, the root of the
// tree; otherwise a child of the default account, so the tree never has two
// roots (AddChildAccount is the API's way, with its rights checked).
func AddAccount(ctx context.Context, st Store, name, apiKey string) (Account, string, error) {
	parent, err := DefaultAccountID(ctx, st)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Account{}, "", fmt.Errorf("add account %q: %w", name, err)
	}
	return addAccount(ctx, st, parent, name, apiKey)
}

// addAccount stores a child of parent ("" for the root) with a new key.
func addAccount(ctx context.Context, st Store, parent, name, apiKey string) (Account, string, error) {
	if apiKey == "" {
		apiKey = newSecret(32)
	}
	acct, err := st.CreateAccount(ctx, Account{ID: NewID(), Name: name, SigningSecret: newSecret(16), ParentID: parent}, hashSecret(apiKey))
	if err != nil {
		return Account{}, "", fmt.Errorf("add account %q: %w", name, err)
	}
	return acct, apiKey, nil
}

// SignIn trades an API key for a new auth token that expires at expires,
// and returns the key's account and the token in clear: its only
// appearance. ErrNotFound when no account has the key.
func SignIn(ctx context.Context, st Store, apiKey string, expires time.Time) (Account, string, error) {
	id, err := st.AccountByAPIKey(ctx, hashSecret(apiKey))
	if err != nil {
		return Account{}, "", fmt.Errorf("sign in: %w", err)
	}
	// Purged on write: every sign-in clears the expired tokens, so the
	// table holds only live ones without a timer of its own.
	if _, err := st.DeleteExpiredTokens(ctx, time.Now()); err != nil {
		return Account{}, "", fmt.Errorf("sign in: %w", err)
	}
	acct, err := st.GetAccount(ctx, id)
	if err != nil {
		return Account{}, "", fmt.Errorf("sign in: %w", err)
	}
	token := newSecret(32)
	if err := st.AddToken(ctx, Token{Hash: hashSecret(token), AccountID: id, Expires: expires}); err != nil {
		return Account{}, "", fmt.Errorf("sign in to account %s: %w", id, err)
	}
	return acct, token, nil
}

// AccountOfToken returns the id of the account an auth token belongs to;
// ErrNotFound when the token is unknown or expired at now.
func AccountOfToken(ctx context.Context, st Store, token string, now time.Time) (string, error) {
	id, err := st.AccountByToken(ctx, hashSecret(token), now)
	if err != nil {
		return "", fmt.Errorf("authenticate: %w", err)
	}
	return id, nil
}

// DefaultAccount is what EnsureDefaultAccount found or made: the account a
// data dir's admin key and untrunked calls belong to.
type DefaultAccount struct {
	// Created is true when the store had no account and the default one
	// was made.
	Created bool
	// AccountID is the default account: the oldest one.
	AccountID string
	// GeneratedKey is the admin API key made for a new default account when
	// none was given; it is stored hashed and never shown again. Empty when
	// the key was given.
	GeneratedKey string
}

// DefaultAccountID returns the default account, the oldest one;
// ErrNotFound when the store has no account.
func DefaultAccountID(ctx context.Context, st Store) (string, error) {
	accts, err := st.ListAccounts(ctx)
	if err != nil {
		return "", fmt.Errorf("default account: %w", err)
	}
	if len(accts) == 0 {
		return "", fmt.Errorf("default account: %w", ErrNotFound)
	}
	return accts[0].ID, nil
}

// EnsureDefaultAccount readies a store for its admin: on a store with no
// account it creates "Default" with adminKey (a generated key, returned
// once, when adminKey is empty); otherwise it adds adminKey, when given and
// not yet stored, to the default account. Starting twice with the same key
// changes nothing.
func EnsureDefaultAccount(ctx context.Context, st Store, adminKey string) (DefaultAccount, error) {
	id, err := DefaultAccountID(ctx, st)
	if errors.Is(err, ErrNotFound) {
		acct, key, err := AddAccount(ctx, st, "Default", adminKey)
		if err != nil {
			return DefaultAccount{}, err
		}
		d := DefaultAccount{Created: true, AccountID: acct.ID}
		if adminKey == "" {
			d.GeneratedKey = key
		}
		return d, nil
	}
	if err != nil {
		return DefaultAccount{}, err
	}
	d := DefaultAccount{AccountID: id}
	if adminKey == "" {
		return d, nil
	}
	hash := hashSecret(adminKey)
	switch _, err := st.AccountByAPIKey(ctx, hash); {
	case errors.Is(err, ErrNotFound):
		if err := st.AddAPIKey(ctx, id, hash); err != nil {
			return DefaultAccount{}, fmt.Errorf("add admin key: %w", err)
		}
	case err != nil:
		return DefaultAccount{}, fmt.Errorf("look up admin key: %w", err)
	}
	return d, nil
}

// RotateAuthToken gives an account a new auth token (the secret that
// signs X-Twilio-Signature) and keeps the old one valid for grace, so the
// customer can deploy the new token without a window of failed
// validations. It returns the account with the new token.
func RotateAuthToken(ctx context.Context, st Store, id string, grace time.Duration, now time.Time) (Account, error) {
	var until time.Time
	if grace > 0 {
		until = now.Add(grace)
	}
	acct, err := st.SetSigningSecret(ctx, id, newSecret(16), until)
	if err != nil {
		return Account{}, fmt.Errorf("rotate auth token: %w", err)
	}
	return acct, nil
}

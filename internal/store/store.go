// Package store is where accounts, API keys, auth tokens and call-flow
// documents live, and how credentials are made and checked (AddAccount,
// SignIn, AccountOfToken, EnsureDefaultAccount). Store is the interface the rest of Switchboard uses;
// store/sqlite is the embedded default, PostgreSQL comes later. Nothing of a
// backend's SQL leaks past its package.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors every backend returns (wrapped) so callers can use
// errors.Is without knowing the backend.
var (
	// ErrNotFound: no such account, key, token or document.
	ErrNotFound = errors.New("not found")
	// ErrStaleRevision: the caller's revision is not the stored one; someone
	// else saved meanwhile.
	ErrStaleRevision = errors.New("stale revision")
	// ErrExists: an id that must be new is taken.
	ErrExists = errors.New("already exists")
)

// ConflictError is a unique key (a call flow's number or pattern, a
// device's SIP username, a mailbox number) already held by another document.
type ConflictError struct {
	Kind       string // the key's name: "number", "pattern", "sip_username"
	Value      string // the number or pattern
	CallflowID string // the document that holds it (a call flow for numbers and patterns)
	Name       string // that document's name
	// HolderKind is the holder's kind ("callflows", "devices").
	HolderKind string
	// Field is where the refused value sits in the written document.
	Field string
}

func (e *ConflictError) Error() string {
	kind := e.HolderKind
	if kind == "" {
		kind = "callflows"
	}
	return fmt.Sprintf("%s %s exists in %s %s %s", e.Kind, e.Value, strings.TrimSuffix(kind, "s"), e.CallflowID, e.Name)
}

// Account is a tenant. Everything else belongs to exactly one account.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// SigningSecret signs webhooks (X-Twilio-Signature uses it as Twilio's
	// auth token). It is never sent by the API except to the account itself.
	SigningSecret string    `json:"-"`
	Created       time.Time `json:"created"`
	// ParentID is the account that created this one: accounts form a tree
	// as in Kazoo, and an account's keys reach its descendants. Empty only
	// for the operator's default account, the root.
	ParentID string `json:"parent_id,omitempty"`
	// Reseller lets the account create accounts in its own sub-tree; only
	// the operator sets it (Kazoo's is_reseller).
	Reseller bool `json:"is_reseller"`
	// PreviousSigningSecret is the auth token a rotation replaced; it is
	// still accepted (never used to sign) until PreviousUntil, so a
	// customer's servers can move to the new one without a failed request.
	PreviousSigningSecret string    `json:"-"`
	PreviousUntil         time.Time `json:"-"`
}

// AuthTokens are the tokens that validate a signature or a recording
// download at now: the current one, then the previous one during its
// grace period.
func (a Account) AuthTokens(now time.Time) []string {
	out := []string{a.SigningSecret}
	if a.PreviousSigningSecret != "" && now.Before(a.PreviousUntil) {
		out = append(out, a.PreviousSigningSecret)
	}
	return out
}

// Token is a session token handed out by PUT /v2/api_auth; only its hash is
// stored.
type Token struct {
	Hash      string
	AccountID string
	Expires   time.Time
}

// Callflow is a stored call-flow document.
type Callflow struct {
	ID        string
	AccountID string
	Name      string
	Numbers   []string // normalised; unique within the account
	Patterns  []string // unique (as strings) within the account
	// Body is the whole JSON document as saved (id included).
	Body     json.RawMessage
	Revision string // "N-hex", N counting writes from 1
	Created  time.Time
	Modified time.Time
}

// ListOptions pages through a listing ordered by id.
type ListOptions struct {
	Limit int    // at most this many; 0 means all
	After string // only ids greater than this
}

// Store is the storage interface. Every method is safe for concurrent use
// and returns once the write is durable (acknowledged = kept, even if the
// process is killed right after).
type Store interface {
	// CreateAccount stores a new account and the hashes of its first API
	// keys in one write; ErrExists, and nothing stored, when the id or a key
	// hash is taken. AddAccount is how callers make one.
	CreateAccount(ctx context.Context, a Account, keyHashes ...string) (Account, error)
	GetAccount(ctx context.Context, id string) (Account, error)
	ListAccounts(ctx context.Context) ([]Account, error)
	// AccountSettings returns the keys of an account's Kazoo document kept
	// besides its name and music on hold (timezone, caller_id …) as a JSON
	// object, nil when none; ErrNotFound when there is no such account.
	AccountSettings(ctx context.Context, accountID string) (json.RawMessage, error)
	// SetSigningSecret replaces an account's signing secret (auth token)
	// and keeps the one it replaces valid until previousUntil (a zero time:
	// not at all); ErrNotFound when there is no such account.
	SetSigningSecret(ctx context.Context, id, secret string, previousUntil time.Time) (Account, error)

	// AddAPIKey stores the hash of an API key for an account.
	AddAPIKey(ctx context.Context, accountID, keyHash string) error
	// AccountByAPIKey finds the account of a key hash; ErrNotFound if none.
	AccountByAPIKey(ctx context.Context, keyHash string) (string, error)
	// ReplaceAPIKeys revokes every API key of an account and every auth
	// token except keepToken (a hash; "" keeps none), and stores newKeyHash,
	// in one write: a key rotation. ErrNotFound when there is no account.
	ReplaceAPIKeys(ctx context.Context, accountID, newKeyHash, keepToken string) error
	// SetReseller marks or unmarks an account as a reseller; ErrNotFound
	// when there is none.
	SetReseller(ctx context.Context, accountID string, on bool) error
	// AddToken stores a session token hash.
	AddToken(ctx context.Context, t Token) error
	// DeleteToken revokes a token hash (sign-out); ErrNotFound when unknown.
	DeleteToken(ctx context.Context, hash string) error
	// DeleteExpiredTokens removes the tokens expired at now and says how
	// many went, so the token table does not grow for ever.
	DeleteExpiredTokens(ctx context.Context, now time.Time) (int64, error)
	// AccountByToken finds the account of an unexpired token hash;
	// ErrNotFound when unknown or expired at now.
	AccountByToken(ctx context.Context, hash string, now time.Time) (string, error)

	// CreateCallflow stores a new document with revision "1-…"; ErrExists
	// when the id is taken, *ConflictError when a number or pattern is used
	// by another flow of the account.
	CreateCallflow(ctx context.Context, c Callflow) (Callflow, error)
	// UpdateCallflow replaces a document. When ifRevision is not empty and is
	// not the stored revision it fails with ErrStaleRevision and changes
	// nothing. ErrNotFound, *ConflictError as for create.
	UpdateCallflow(ctx context.Context, c Callflow, ifRevision string) (Callflow, error)
	// DeleteCallflow removes a document (with the same revision rule).
	DeleteCallflow(ctx context.Context, accountID, id, ifRevision string) error
	GetCallflow(ctx context.Context, accountID, id string) (Callflow, error)
	// ListCallflows returns one page ordered by id, and whether more follow.
	ListCallflows(ctx context.Context, accountID string, o ListOptions) (page []Callflow, more bool, err error)
	// EachCallflow calls fn for every document of every account (to build
	// the router at start).
	EachCallflow(ctx context.Context, fn func(Callflow) error) error

	Close() error
}

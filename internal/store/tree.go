package store

import (
	"context"
	"errors"
	"fmt"
)

// The account tree, as in Kazoo: every account but the operator's default
// account (the root) has a parent; a key of an account reaches that
// account and its descendants, never a sibling or an ancestor; only the
// root, and the resellers the root marks, create accounts. These rules
// live here, once, so the API only asks.

// ErrForbidden: the acting account has no right to do this to that account.
var ErrForbidden = errors.New("forbidden")

// maxTreeDepth bounds a walk up the tree, so a corrupt parent loop cannot
// hold a request for ever.
const maxTreeDepth = 64

// Reaches reports whether a key of account actor may act on account
// target: target is actor or one of its descendants. An unknown target is
// ErrNotFound.
func Reaches(ctx context.Context, st Store, actor, target string) (bool, error) {
	id := target
	for range maxTreeDepth {
		if id == actor {
			return true, nil
		}
		a, err := st.GetAccount(ctx, id)
		if err != nil {
			return false, fmt.Errorf("account tree: %w", err)
		}
		if a.ParentID == "" {
			return false, nil
		}
		id = a.ParentID
	}
	return false, fmt.Errorf("account tree above %s deeper than %d", target, maxTreeDepth)
}

// AddChildAccount makes a new account under parent on behalf of account
// actor, with a generated key returned in clear once. The actor must be
// the root or a reseller, and parent must be the actor or one of its
// descendants; ErrForbidden otherwise.
func AddChildAccount(ctx context.Context, st Store, actor, parent, name string) (Account, string, error) {
	a, err := st.GetAccount(ctx, actor)
	if err != nil {
		return Account{}, "", fmt.Errorf("add account %q: %w", name, err)
	}
	if a.ParentID != "" && !a.Reseller {
		return Account{}, "", fmt.Errorf("add account %q: account %s is not a reseller: %w", name, actor, ErrForbidden)
	}
	ok, err := Reaches(ctx, st, actor, parent)
	if err != nil {
		return Account{}, "", fmt.Errorf("add account %q: %w", name, err)
	}
	if !ok {
		return Account{}, "", fmt.Errorf("add account %q under %s: %w", name, parent, ErrForbidden)
	}
	return addAccount(ctx, st, parent, name, "")
}

// SetReseller marks (on) or unmarks an account as a reseller on behalf of
// account actor: only the root may, and the root itself needs no mark.
// ErrForbidden otherwise.
func SetReseller(ctx context.Context, st Store, actor, target string, on bool) (Account, error) {
	a, err := st.GetAccount(ctx, actor)
	if err != nil {
		return Account{}, fmt.Errorf("set reseller: %w", err)
	}
	if a.ParentID != "" || target == actor {
		return Account{}, fmt.Errorf("set reseller of %s: only the operator's account may, on another account: %w", target, ErrForbidden)
	}
	if err := st.SetReseller(ctx, target, on); err != nil {
		return Account{}, fmt.Errorf("set reseller: %w", err)
	}
	t, err := st.GetAccount(ctx, target)
	if err != nil {
		return Account{}, fmt.Errorf("set reseller: %w", err)
	}
	return t, nil
}

// RotateAPIKey issues a new API key for an account and revokes its other
// keys and its tokens, but keepToken (a token in clear, "" for none: the
// caller's own session survives its rotation). The new key is returned in
// clear: its only appearance.
func RotateAPIKey(ctx context.Context, st Store, accountID, keepToken string) (string, error) {
	key := newSecret(32)
	keep := ""
	if keepToken != "" {
		keep = hashSecret(keepToken)
	}
	if err := st.ReplaceAPIKeys(ctx, accountID, hashSecret(key), keep); err != nil {
		return "", fmt.Errorf("rotate api key: %w", err)
	}
	return key, nil
}

// RevokeToken ends an auth token at once (sign-out); ErrNotFound when it
// is unknown.
func RevokeToken(ctx context.Context, st Store, token string) error {
	if err := st.DeleteToken(ctx, hashSecret(token)); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// Children returns the accounts whose parent is id (Kazoo's …/children),
// oldest first.
func Children(ctx context.Context, st Store, id string) ([]Account, error) {
	all, err := st.ListAccounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("children of %s: %w", id, err)
	}
	out := []Account{}
	for _, a := range all {
		if a.ParentID == id && a.ID != id {
			out = append(out, a)
		}
	}
	return out, nil
}

// Descendants returns every account below id, at any depth (Kazoo's
// …/descendants), parents before their children: what a reseller
// manages.
func Descendants(ctx context.Context, st Store, id string) ([]Account, error) {
	all, err := st.ListAccounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("descendants of %s: %w", id, err)
	}
	byParent := map[string][]Account{}
	for _, a := range all {
		if a.ID != a.ParentID {
			byParent[a.ParentID] = append(byParent[a.ParentID], a)
		}
	}
	out := []Account{}
	queue := []string{id}
	seen := map[string]bool{id: true}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		for _, c := range byParent[next] {
			if !seen[c.ID] {
				seen[c.ID] = true
				out = append(out, c)
				queue = append(queue, c.ID)
			}
		}
	}
	return out, nil
}

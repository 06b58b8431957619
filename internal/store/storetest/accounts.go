package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

// accountTree: a parent and the reseller mark are kept; a child of an
// unknown parent is refused and nothing is stored.
func accountTree(t *testing.T, s store.Store) {
	ctx := t.Context()
	Account(t, s, "root")
	if _, err := s.CreateAccount(ctx, store.Account{ID: "c", Name: "C", ParentID: "root"}); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateAccount(ctx, store.Account{ID: "orphan", ParentID: "nope"})
	wantErr(t, "child of an unknown parent", err, store.ErrNotFound)
	_, err = s.GetAccount(ctx, "orphan")
	wantErr(t, "refused child", err, store.ErrNotFound)
	if err := s.SetReseller(ctx, "c", true); err != nil {
		t.Fatal(err)
	}
	c, err := s.GetAccount(ctx, "c")
	if err != nil || c.ParentID != "root" || !c.Reseller {
		t.Errorf("GetAccount(c) = %+v, %v; want parent root, reseller", c, err)
	}
	if err := s.SetReseller(ctx, "c", false); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.GetAccount(ctx, "c"); c.Reseller {
		t.Errorf("reseller mark not removed: %+v", c)
	}
	wantErr(t, "reseller of an unknown account", s.SetReseller(ctx, "nope", true), store.ErrNotFound)
}

// keyRotation: ReplaceAPIKeys leaves the new key alone, and of the tokens
// only the kept one, of this account only.
func keyRotation(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CreateAccount(ctx, store.Account{ID: "a"}, "k1", "k2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAccount(ctx, store.Account{ID: "b"}, "kb"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, tok := range []store.Token{{Hash: "t1", AccountID: "a"}, {Hash: "t2", AccountID: "a"}, {Hash: "tb", AccountID: "b"}} {
		tok.Expires = now.Add(time.Hour)
		if err := s.AddToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ReplaceAPIKeys(ctx, "a", "k3", "t2"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key, account string
	}{{"k1", ""}, {"k2", ""}, {"k3", "a"}, {"kb", "b"}} {
		id, err := s.AccountByAPIKey(ctx, tc.key)
		if tc.account == "" {
			wantErr(t, "old key "+tc.key, err, store.ErrNotFound)
		} else if err != nil || id != tc.account {
			t.Errorf("key %s: %q, %v; want %s", tc.key, id, err, tc.account)
		}
	}
	for _, tc := range []struct {
		token string
		live  bool
	}{{"t1", false}, {"t2", true}, {"tb", true}} {
		_, err := s.AccountByToken(ctx, tc.token, now)
		if tc.live && err != nil {
			t.Errorf("token %s revoked: %v", tc.token, err)
		}
		if !tc.live {
			wantErr(t, "token "+tc.token, err, store.ErrNotFound)
		}
	}
	wantErr(t, "rotation of an unknown account", s.ReplaceAPIKeys(ctx, "nope", "k4", ""), store.ErrNotFound)
}

// tokenRevocation: a deleted token stops working; expired ones are purged.
func tokenRevocation(t *testing.T, s store.Store) {
	ctx := t.Context()
	Account(t, s, "a")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tok := range []store.Token{
		{Hash: "live", AccountID: "a", Expires: now.Add(time.Hour)},
		{Hash: "gone1", AccountID: "a", Expires: now.Add(-time.Minute)},
		{Hash: "gone2", AccountID: "a", Expires: now},
		{Hash: "revoked", AccountID: "a", Expires: now.Add(time.Hour)},
	} {
		if err := s.AddToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteToken(ctx, "revoked"); err != nil {
		t.Fatal(err)
	}
	_, err := s.AccountByToken(ctx, "revoked", now)
	wantErr(t, "revoked token", err, store.ErrNotFound)
	wantErr(t, "revoking twice", s.DeleteToken(ctx, "revoked"), store.ErrNotFound)
	n, err := s.DeleteExpiredTokens(ctx, now)
	if err != nil || n != 2 {
		t.Errorf("DeleteExpiredTokens = %d, %v; want 2", n, err)
	}
	if _, err := s.AccountByToken(ctx, "live", now); err != nil {
		t.Errorf("live token purged: %v", err)
	}
	if err := s.DeleteToken(ctx, "gone1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired token still stored: %v", err)
	}
}

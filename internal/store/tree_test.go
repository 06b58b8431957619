package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

func TestAccountTree(t *testing.T) {
	t.Parallel()
	st, _ := openStore(t)
	ctx := t.Context()
	root, _, err := store.AddAccount(ctx, st, "Default", "")
	if err != nil {
		t.Fatal(err)
	}
	if root.ParentID != "" {
		t.Fatalf("the first account has parent %q, want none (the root)", root.ParentID)
	}
	plain, _, err := store.AddAccount(ctx, st, "Plain", "")
	if err != nil || plain.ParentID != root.ID {
		t.Fatalf("a second AddAccount = %+v, %v; want a child of the root, never a second root", plain, err)
	}
	reseller, _, err := store.AddChildAccount(ctx, st, root.ID, root.ID, "Reseller")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetReseller(ctx, st, root.ID, reseller.ID, true); err != nil {
		t.Fatal(err)
	}
	customer, _, err := store.AddChildAccount(ctx, st, reseller.ID, reseller.ID, "Customer")
	if err != nil || customer.ParentID != reseller.ID {
		t.Fatalf("reseller's child = %+v, %v", customer, err)
	}
	grandchild, _, err := store.AddChildAccount(ctx, st, reseller.ID, customer.ID, "Branch")
	if err != nil {
		t.Fatalf("a reseller adds deeper in its own tree: %v", err)
	}

	for _, tc := range []struct {
		name          string
		actor, target string
		want          bool
	}{
		{"self", plain.ID, plain.ID, true},
		{"root reaches all", root.ID, grandchild.ID, true},
		{"reseller reaches its grandchild", reseller.ID, grandchild.ID, true},
		{"child cannot reach its parent", customer.ID, reseller.ID, false},
		{"child cannot reach the root", plain.ID, root.ID, false},
		{"sibling", plain.ID, reseller.ID, false},
		{"cousin", plain.ID, customer.ID, false},
	} {
		got, err := store.Reaches(ctx, st, tc.actor, tc.target)
		if err != nil || got != tc.want {
			t.Errorf("%s: Reaches = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := store.Reaches(ctx, st, root.ID, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Reaches of an unknown account: %v, want ErrNotFound", err)
	}

	for _, tc := range []struct {
		name          string
		actor, parent string
	}{
		{"a plain account makes none", plain.ID, plain.ID},
		{"a reseller's customer makes none", customer.ID, customer.ID},
		{"a reseller makes none outside its tree", reseller.ID, plain.ID},
		{"a reseller makes none under the root", reseller.ID, root.ID},
	} {
		if _, _, err := store.AddChildAccount(ctx, st, tc.actor, tc.parent, "x"); !errors.Is(err, store.ErrForbidden) {
			t.Errorf("%s: err = %v, want ErrForbidden", tc.name, err)
		}
	}
	if _, err := store.SetReseller(ctx, st, reseller.ID, customer.ID, true); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("a reseller makes a reseller: %v, want ErrForbidden", err)
	}
	if _, err := store.SetReseller(ctx, st, root.ID, root.ID, false); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("the root unmarks itself: %v, want ErrForbidden", err)
	}
	if _, err := store.SetReseller(ctx, st, root.ID, reseller.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.AddChildAccount(ctx, st, reseller.ID, reseller.ID, "x"); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("an unmarked reseller still makes accounts: %v", err)
	}
}

func TestRotateAndRevoke(t *testing.T) {
	t.Parallel()
	st, dir := openStore(t)
	ctx := t.Context()
	acct, oldKey, err := store.AddAccount(ctx, st, "Acme", "")
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	_, mine, err := store.SignIn(ctx, st, oldKey, exp)
	if err != nil {
		t.Fatal(err)
	}
	_, stolen, err := store.SignIn(ctx, st, oldKey, exp)
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := store.RotateAPIKey(ctx, st, acct.ID, mine)
	if err != nil || newKey == oldKey || len(newKey) != 64 {
		t.Fatalf("RotateAPIKey = %q, %v", newKey, err)
	}
	if holds(t, dir, newKey) {
		t.Error("the new key is stored in clear")
	}
	if _, _, err := store.SignIn(ctx, st, oldKey, exp); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old key signs in: %v", err)
	}
	if _, err := store.AccountOfToken(ctx, st, stolen, time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a token of the old key survives the rotation: %v", err)
	}
	if id, err := store.AccountOfToken(ctx, st, mine, time.Now()); err != nil || id != acct.ID {
		t.Errorf("the rotating session was ended: %q, %v", id, err)
	}
	if err := store.RevokeToken(ctx, st, mine); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AccountOfToken(ctx, st, mine, time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a revoked token works: %v", err)
	}
	if _, _, err := store.SignIn(ctx, st, newKey, exp); err != nil {
		t.Errorf("the new key: %v", err)
	}
}

package sqlite_test

import (
	"errors"
	"testing"

	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/store/storetest"
)

// TestAccountMusicOnHold: an account's music on hold is set, replaced and
// removed, is its own (another account's stays unset), survives a reopen,
// and cannot be set on an account that does not exist.
func TestAccountMusicOnHold(t *testing.T) {
	db, path := tempDB(t)
	ctx := t.Context()
	storetest.Account(t, db, "a1")
	storetest.Account(t, db, "a2")
	get := func(acct string) string {
		t.Helper()
		m, err := db.AccountMusicOnHold(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := get("a1"); m != "" {
		t.Errorf("unset: %q", m)
	}
	for _, m := range []string{"media-1", "media-2"} {
		if err := db.SetAccountMusicOnHold(ctx, "a1", m); err != nil {
			t.Fatal(err)
		}
		if got := get("a1"); got != m {
			t.Errorf("after setting %q: %q", m, got)
		}
	}
	if m := get("a2"); m != "" {
		t.Errorf("another account's: %q", m)
	}
	if err := db.SetAccountMusicOnHold(ctx, "nobody", "media-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown account: %v, want ErrNotFound", err)
	}
	db.Close()
	db = open(t, path)
	if m, err := db.AccountMusicOnHold(ctx, "a1"); err != nil || m != "media-2" {
		t.Errorf("after reopening: %q %v", m, err)
	}
	if err := db.SetAccountMusicOnHold(ctx, "a1", ""); err != nil {
		t.Fatal(err)
	}
	if m, _ := db.AccountMusicOnHold(ctx, "a1"); m != "" {
		t.Errorf("after removing: %q", m)
	}
}

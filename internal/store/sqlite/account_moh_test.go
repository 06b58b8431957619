package sqlite_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/store/sqlite"
	"github.com/switchboard/switchboard/internal/store/storetest"
)

// TestAccountMusicOnHold: an account's music on hold is set, replaced and
// removed, is its own (another account's stays unset), survives a reopen,
// and cannot be set on an account that does not exist, nor to a media
// that is not the account's (another account's, none at all).
func TestAccountMusicOnHold(t *testing.T) {
	db, path := twoAccountsWithMedia(t, []string{"media-1", "media-2"}, []string{"media-b"})
	ctx := t.Context()
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
	for _, m := range []string{"media-b", "no-such-media"} {
		err := db.SetAccountMusicOnHold(ctx, "a1", m)
		if _, ok := errors.AsType[*store.MissingRefError](err); !ok {
			t.Errorf("a1 set to %s: %v, want a MissingRefError", m, err)
		}
	}
	db.Close()
	db = open(t, path)
	if m, err := db.AccountMusicOnHold(ctx, "a1"); err != nil || m != "media-2" {
		t.Errorf("after the refusals and reopening: %q %v", m, err)
	}
	if err := db.SetAccountMusicOnHold(ctx, "a1", ""); err != nil {
		t.Fatal(err)
	}
	if m, _ := db.AccountMusicOnHold(ctx, "a1"); m != "" {
		t.Errorf("after removing: %q", m)
	}
}

// TestAccountMusicOnHoldHoldsItsMedia: the media an account's music on
// hold names is listed among its referrers and is not deleted unless
// forced; once the setting moves on, it is free. ReplaceAccount renames
// and sets or removes the music in one write, refusing a media not the
// account's with nothing changed.
func TestAccountMusicOnHoldHoldsItsMedia(t *testing.T) {
	db, _ := twoAccountsWithMedia(t, []string{"m1", "m2"}, []string{"m1b"})
	ctx := t.Context()
	if err := db.SetAccountMusicOnHold(ctx, "a1", "m1"); err != nil {
		t.Fatal(err)
	}
	refs, err := db.Referrers(ctx, "a1", "m1")
	if err != nil || len(refs) != 1 || refs[0] != (store.Referrer{Kind: "accounts", ID: "a1", Name: "Account a1", Path: "music_on_hold.media_id"}) {
		t.Errorf("referrers of the music: %+v %v", refs, err)
	}
	if refs, _ := db.Referrers(ctx, "a2", "m1"); len(refs) != 0 {
		t.Errorf("another account sees a1's setting: %+v", refs)
	}
	_, err = db.DeleteDoc(ctx, "media", "a1", "m1", "", false)
	if u, ok := errors.AsType[*store.InUseError](err); !ok || len(u.Referrers) != 1 || u.Referrers[0].Kind != "accounts" {
		t.Errorf("deleting the music on hold: %v, want in use by the account", err)
	}

	a, err := db.ReplaceAccount(ctx, "a1", "Renamed", "m2", nil)
	if err != nil || a.Name != "Renamed" || a.ID != "a1" {
		t.Fatalf("replace: %+v %v", a, err)
	}
	if m, _ := db.AccountMusicOnHold(ctx, "a1"); m != "m2" {
		t.Errorf("after replacing: %q, want m2", m)
	}
	if _, err := db.DeleteDoc(ctx, "media", "a1", "m1", "", false); err != nil {
		t.Errorf("the music before, no longer used: %v", err)
	}
	if _, err := db.ReplaceAccount(ctx, "a1", "Again", "m1b", nil); err == nil {
		t.Error("replaced with another account's media")
	}
	if a, _ := db.GetAccount(ctx, "a1"); a.Name != "Renamed" {
		t.Errorf("a refused replace renamed the account: %q", a.Name)
	}
	if _, err := db.ReplaceAccount(ctx, "nobody", "x", "", nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown account: %v", err)
	}
	if _, err := db.ReplaceAccount(ctx, "a1", "Renamed", "", nil); err != nil {
		t.Fatal(err)
	}
	if m, _ := db.AccountMusicOnHold(ctx, "a1"); m != "" {
		t.Errorf("a replace without music left %q", m)
	}
	if _, err := db.DeleteDoc(ctx, "media", "a1", "m2", "", false); err != nil {
		t.Errorf("the music after it was removed: %v", err)
	}
}

// twoAccountsWithMedia is a database with accounts a1 and a2, each with
// media documents of the ids given, and its file (to reopen it).
func twoAccountsWithMedia(t *testing.T, a1, a2 []string) (*sqlite.DB, string) {
	t.Helper()
	db, path := tempDB(t)
	for i, ids := range [][]string{a1, a2} {
		acct := fmt.Sprintf("a%d", i+1)
		storetest.Account(t, db, acct)
		for _, id := range ids {
			if _, err := db.CreateDoc(t.Context(), media(acct, id)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db, path
}

func media(account, id string) store.DocWrite {
	w := doc("media", id, `{"name":"hold music"}`)
	w.AccountID = account
	return w
}

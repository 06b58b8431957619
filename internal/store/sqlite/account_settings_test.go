package sqlite_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/switchboard/switchboard/internal/store"
)

// TestAccountSettings: an account's settings object is replaced whole with
// its name (ReplaceAccount), patched in one write (PatchAccount; an error
// from the patch changes nothing, the name too), removed by an empty
// object, kept across a reopen, and is the account's own: another
// account's stay unset, and an unknown account is ErrNotFound.
func TestAccountSettings(t *testing.T) {
	db, path := twoAccountsWithMedia(t, nil, nil)
	ctx := t.Context()
	get := func(acct string) string {
		t.Helper()
		s, err := db.AccountSettings(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		return string(s)
	}
	if s := get("a1"); s != "" {
		t.Errorf("unset: %s", s)
	}
	if _, err := db.ReplaceAccount(ctx, "a1", "A1", "", json.RawMessage(`{"timezone":"Europe/Paris","caller_id":{"external":{"number":"+1415"}}}`)); err != nil {
		t.Fatal(err)
	}
	if s := get("a1"); s != `{"timezone":"Europe/Paris","caller_id":{"external":{"number":"+1415"}}}` {
		t.Errorf("after replacing: %s", s)
	}
	if s := get("a2"); s != "" {
		t.Errorf("another account's: %s", s)
	}
	refuse := errors.New("refused")
	err := db.PatchAccount(ctx, "a1", "Renamed", func(old json.RawMessage) (json.RawMessage, error) { return nil, refuse })
	if !errors.Is(err, refuse) {
		t.Errorf("a refused patch: %v", err)
	}
	if a, _ := db.GetAccount(ctx, "a1"); a.Name != "A1" || get("a1") == "" {
		t.Errorf("a refused patch changed %q %s", a.Name, get("a1"))
	}
	var seen string
	if err := db.PatchAccount(ctx, "a1", "Renamed", func(old json.RawMessage) (json.RawMessage, error) {
		seen = string(old)
		return json.RawMessage(`{"timezone":"Asia/Tokyo"}`), nil
	}); err != nil {
		t.Fatal(err)
	}
	if a, _ := db.GetAccount(ctx, "a1"); a.Name != "Renamed" || seen == "" || get("a1") != `{"timezone":"Asia/Tokyo"}` {
		t.Errorf("after patching: %q (saw %s) %s", a.Name, seen, get("a1"))
	}
	db.Close()
	db = open(t, path)
	if s := get("a1"); s != `{"timezone":"Asia/Tokyo"}` {
		t.Errorf("after reopening: %s", s)
	}
	if err := db.PatchAccount(ctx, "a1", "", func(json.RawMessage) (json.RawMessage, error) { return json.RawMessage(`{}`), nil }); err != nil {
		t.Fatal(err)
	}
	if s := get("a1"); s != "" {
		t.Errorf("after emptying: %s", s)
	}
	if _, err := db.AccountSettings(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown account: %v", err)
	}
	if err := db.PatchAccount(ctx, "nobody", "", func(json.RawMessage) (json.RawMessage, error) { return nil, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("patch an unknown account: %v", err)
	}
	if _, err := db.ReplaceAccount(ctx, "a1", "A1", "", json.RawMessage(`[1]`)); err == nil {
		t.Error("replaced with settings that are not an object")
	}
}

package store_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/store/sqlite"
)

func openStore(t *testing.T) (*sqlite.DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "switchboard.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, dir
}

// holds reports whether any file of dir (the database and its WAL) holds s.
func holds(t *testing.T, dir, s string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

func TestAddAccountSignInAndTokens(t *testing.T) {
	t.Parallel()
	st, dir := openStore(t)
	ctx := t.Context()
	acct, key, err := store.AddAccount(ctx, st, "Acme", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(acct.ID) != 32 || len(acct.SigningSecret) != 32 || len(key) != 64 || acct.Name != "Acme" {
		t.Errorf("account %+v, key %q: want a 32-hex id and secret, a 64-hex key", acct, key)
	}
	given, givenKey, err := store.AddAccount(ctx, st, "Given", "my-own-key")
	if err != nil || givenKey != "my-own-key" {
		t.Fatalf("AddAccount with a key: %q, %v", givenKey, err)
	}
	if _, _, err := store.AddAccount(ctx, st, "Copy", "my-own-key"); !errors.Is(err, store.ErrExists) {
		t.Errorf("a second account with a taken key: %v, want ErrExists", err)
	}

	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	got, token, err := store.SignIn(ctx, st, key, now.Add(time.Hour))
	if err != nil || got != acct || len(token) != 64 {
		t.Fatalf("SignIn = %+v, %q, %v; want %+v and a 64-hex token", got, token, err, acct)
	}
	if id, err := store.AccountOfToken(ctx, st, token, now); err != nil || id != acct.ID {
		t.Errorf("AccountOfToken = %q, %v; want %s", id, err, acct.ID)
	}
	if _, err := store.AccountOfToken(ctx, st, token, now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired token: %v, want ErrNotFound", err)
	}
	if _, _, err := store.SignIn(ctx, st, "wrong", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SignIn with a wrong key: %v, want ErrNotFound", err)
	}
	if got, _, err := store.SignIn(ctx, st, "my-own-key", now.Add(time.Hour)); err != nil || got.ID != given.ID {
		t.Errorf("SignIn with a given key: %+v, %v", got, err)
	}
	for _, secret := range []string{key, token, "my-own-key"} {
		if holds(t, dir, secret) {
			t.Errorf("the database holds the secret %q in clear", secret)
		}
	}
}

func TestEnsureDefaultAccount(t *testing.T) {
	t.Parallel()
	t.Run("generated key, once", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		st, _ := openStore(t)
		first, err := store.EnsureDefaultAccount(ctx, st, "")
		if err != nil || !first.Created || first.AccountID == "" || first.GeneratedKey == "" {
			t.Fatalf("first start: %+v, %v", first, err)
		}
		if acct, _, err := store.SignIn(ctx, st, first.GeneratedKey, time.Now().Add(time.Hour)); err != nil || acct.Name != "Default" {
			t.Errorf("sign in with the generated key: %+v, %v", acct, err)
		}
		again, err := store.EnsureDefaultAccount(ctx, st, "")
		if err != nil || again != (store.DefaultAccount{AccountID: first.AccountID}) {
			t.Errorf("second start: %+v, %v; want the same account, nothing created", again, err)
		}
	})
	t.Run("given key, added later", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		st, _ := openStore(t)
		first, err := store.EnsureDefaultAccount(ctx, st, "key-one")
		if err != nil || !first.Created || first.GeneratedKey != "" {
			t.Fatalf("first start: %+v, %v", first, err)
		}
		for _, key := range []string{"key-one", "key-two", "key-two"} {
			d, err := store.EnsureDefaultAccount(ctx, st, key)
			if err != nil || d != (store.DefaultAccount{AccountID: first.AccountID}) {
				t.Fatalf("start with %s: %+v, %v", key, d, err)
			}
			if acct, _, err := store.SignIn(ctx, st, key, time.Now().Add(time.Hour)); err != nil || acct.ID != first.AccountID {
				t.Errorf("sign in with %s: %+v, %v", key, acct, err)
			}
		}
		accts, err := st.ListAccounts(ctx)
		if err != nil || len(accts) != 1 {
			t.Errorf("accounts %v, %v; want only the default", accts, err)
		}
	})
	t.Run("no account", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		st, _ := openStore(t)
		if _, err := store.DefaultAccountID(ctx, st); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DefaultAccountID of an empty store: %v, want ErrNotFound", err)
		}
	})
}

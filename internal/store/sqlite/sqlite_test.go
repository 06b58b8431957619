package sqlite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/store/sqlite"
	"github.com/switchboard/switchboard/internal/store/storetest"
)

func open(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func tempDB(t testing.TB) (*sqlite.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	return open(t, path), path
}

// TestConformance runs the backend-independent behaviour table: CRUD,
// revisions, stale writes, number and pattern conflicts, pagination,
// EachCallflow, tokens, keys, and concurrent creates of one number.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := tempDB(t)
		return db
	})
}

// raw opens the file with plain database/sql, to look behind the API.
func raw(t *testing.T, path string) *sql.DB {
	t.Helper()
	uri := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type migration struct {
	name    string
	applied int64
}

func migrations(t *testing.T, path string) []migration {
	t.Helper()
	rows, err := raw(t, path).QueryContext(t.Context(), `SELECT name, applied FROM schema_migrations ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []migration
	for rows.Next() {
		var m migration
		if err := rows.Scan(&m.name, &m.applied); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dir with ? and # and %", "sb.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Account(t, db, "a")
	want := storetest.Create(t, db, storetest.Flow("a", "f1", []string{"+1"}, []string{"^p"}))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not at the path given: %v", err)
	}

	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v, %v", files, err)
	}
	first := migrations(t, path)
	if len(first) != len(files) {
		t.Fatalf("%d migrations recorded, want %d", len(first), len(files))
	}

	db = open(t, path)
	got, err := db.GetCallflow(t.Context(), "a", "f1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != want.Revision || string(got.Body) != string(want.Body) || !got.Created.Equal(want.Created) {
		t.Fatalf("after reopen: %+v, want %+v", got, want)
	}
	_, err = db.CreateCallflow(t.Context(), storetest.Flow("a", "f2", []string{"+1"}, nil))
	if _, ok := errors.AsType[*store.ConflictError](err); !ok {
		t.Fatalf("number claim lost on reopen: %v", err)
	}
	if again := migrations(t, path); !slices.Equal(again, first) {
		t.Fatalf("migrations after reopen = %v, want %v (not re-applied)", again, first)
	}
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	_, path := tempDB(t)
	var mode string
	if err := raw(t, path).QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
}

func TestForeignKeys(t *testing.T) {
	t.Parallel()
	db, path := tempDB(t)
	err := db.AddAPIKey(t.Context(), "ghost", "h")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AddAPIKey for unknown account: %v, want ErrNotFound", err)
	}
	err = db.AddToken(t.Context(), store.Token{Hash: "t", AccountID: "ghost", Expires: time.Now().Add(time.Hour)})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AddToken for unknown account: %v, want ErrNotFound", err)
	}
	// The schema refuses it too, below the API.
	r := raw(t, path)
	if _, err := r.ExecContext(t.Context(), `PRAGMA foreign_keys = ON`); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ExecContext(t.Context(), `INSERT INTO api_keys (hash, account_id, created) VALUES ('h', 'ghost', 0)`); err == nil ||
		!strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Fatalf("raw insert of a key for an unknown account: %v, want a FOREIGN KEY error", err)
	}
}

func TestDeleteExpiredTokens(t *testing.T) {
	t.Parallel()
	db, _ := tempDB(t)
	ctx := t.Context()
	storetest.Account(t, db, "a")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, exp := range []time.Duration{-time.Hour, 0, time.Hour} {
		if err := db.AddToken(ctx, store.Token{Hash: fmt.Sprint("t", i), AccountID: "a", Expires: now.Add(exp)}); err != nil {
			t.Fatal(err)
		}
	}
	err := db.AddToken(ctx, store.Token{Hash: "t0", AccountID: "a", Expires: now})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate token: %v, want ErrExists", err)
	}
	n, err := db.DeleteExpiredTokens(ctx, now)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredTokens = %d, %v; want 2", n, err)
	}
	if id, err := db.AccountByToken(ctx, "t2", now); err != nil || id != "a" {
		t.Fatalf("live token: %q, %v", id, err)
	}
	if _, err := db.AccountByToken(ctx, "t0", now.Add(-2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted token: %v, want ErrNotFound", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		path string
	}{
		{"empty path", ""},
		{"missing directory", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")},
		{"directory", t.TempDir()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sqlite.Open(t.Context(), tc.path, nil)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tc.path)
			}
		})
	}
}

// TestReadersDuringWrites reads and writes from many goroutines at once
// (run with -race).
func TestReadersDuringWrites(t *testing.T) {
	t.Parallel()
	db, _ := tempDB(t)
	storetest.Account(t, db, "a")
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 20 {
				c := storetest.Flow("a", fmt.Sprintf("w%d-%02d", i, j), []string{fmt.Sprintf("+%d%02d", i, j)}, nil)
				if _, err := db.CreateCallflow(t.Context(), c); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			for range 20 {
				if _, _, err := db.ListCallflows(t.Context(), "a", store.ListOptions{Limit: 5}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	page, _, err := db.ListCallflows(t.Context(), "a", store.ListOptions{})
	if err != nil || len(page) != 80 {
		t.Fatalf("%d flows, %v; want 80", len(page), err)
	}
}

func BenchmarkCreateCallflow(b *testing.B) {
	db, _ := tempDB(b)
	if _, err := db.CreateAccount(b.Context(), store.Account{ID: "a"}); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		c := storetest.Flow("a", fmt.Sprintf("f%d", i), []string{fmt.Sprintf("+1555%07d", i)}, nil)
		if _, err := db.CreateCallflow(b.Context(), c); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkGetCallflow(b *testing.B) {
	db, _ := tempDB(b)
	if _, err := db.CreateAccount(b.Context(), store.Account{ID: "a"}); err != nil {
		b.Fatal(err)
	}
	if _, err := db.CreateCallflow(b.Context(), storetest.Flow("a", "f1", []string{"+1"}, nil)); err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.GetCallflow(b.Context(), "a", "f1"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

package sqlite

import (
	"context"
	"encoding/json"
	"io/fs"
	"path"
	"testing"
	"testing/fstest"
)

// migrateFrom makes a data dir as the release before migration before
// ("0009") left it — every migration whose name sorts first — writes seed
// (SQL statements, in order) into it, then opens it as this release does,
// so the migrations from before on run over that data. The database is
// closed with the test.
func migrateFrom(t *testing.T, before string, seed ...string) *DB {
	t.Helper()
	ctx := t.Context()
	file := t.TempDir() + "/switchboard.db"
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	old := fstest.MapFS{}
	for _, name := range names {
		if path.Base(name) >= before {
			continue
		}
		b, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: b}
	}
	if len(old) == 0 || len(old) == len(names) {
		t.Fatalf("migrateFrom %q: %d of %d migrations before it; name one that exists, not the first", before, len(old), len(names))
	}
	db, err := open(ctx, file, nil, "sqlite", old, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range seed {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("seed %s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(context.WithoutCancel(ctx), file, nil)
	if err != nil {
		t.Fatalf("open after migrating from %s: %v", before, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestAccountSettingsMigration: the accounts of a data dir from before
// account settings have none, and get them; the table holds JSON objects
// only.
func TestAccountSettingsMigration(t *testing.T) {
	ctx := t.Context()
	db := migrateFrom(t, "0010", `INSERT INTO accounts (id, name, created) VALUES ('a', 'a', 1)`)
	if s, err := db.AccountSettings(ctx, "a"); err != nil || s != nil {
		t.Errorf("settings of an account from before: %s %v, want none", s, err)
	}
	set := func(json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"timezone":"Europe/Paris"}`), nil
	}
	if err := db.PatchAccount(ctx, "a", "", set); err != nil {
		t.Fatal(err)
	}
	if s, err := db.AccountSettings(ctx, "a"); err != nil || string(s) != `{"timezone":"Europe/Paris"}` {
		t.Errorf("after setting: %s %v", s, err)
	}
	for _, body := range []string{`[1]`, `"x"`, `{bad`} {
		if _, err := db.w.ExecContext(ctx, `INSERT INTO account_settings (account_id, body, modified) VALUES ('a', ?, 1)
			ON CONFLICT (account_id) DO UPDATE SET body = excluded.body`, body); err == nil {
			t.Errorf("the table took %s", body)
		}
	}
}

package sqlite

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/switchboard/switchboard/internal/store"
)

// TestAccountTreeMigration: on a data dir from before the account tree,
// every account but the default one (the oldest) becomes its child, so no
// existing tenant gains the operator's right to create accounts.
func TestAccountTreeMigration(t *testing.T) {
	ctx := t.Context()
	path := t.TempDir() + "/switchboard.db"
	old := fstest.MapFS{}
	for _, name := range []string{"0001_init.sql", "0002_trunks.sql", "0003_temporal_rules.sql"} {
		b, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		old["migrations/"+name] = &fstest.MapFile{Data: b}
	}
	db, err := open(ctx, path, nil, "sqlite", old, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"b", "default", "c"} {
		created := map[string]int64{"default": 100, "b": 200, "c": 300}[id]
		if _, err := db.w.ExecContext(ctx, `INSERT INTO accounts (id, name, created) VALUES (?, ?, ?)`, id, id, created); err != nil {
			t.Fatalf("account %d: %v", i, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(context.WithoutCancel(ctx), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id, parent := range map[string]string{"default": "", "b": "default", "c": "default"} {
		a, err := db.GetAccount(ctx, id)
		if err != nil || a.ParentID != parent || a.Reseller {
			t.Errorf("account %s = %+v, %v; want parent %q, no reseller", id, a, err, parent)
		}
	}
	if id, err := store.DefaultAccountID(ctx, db); err != nil || id != "default" {
		t.Errorf("default account %q, %v", id, err)
	}
}

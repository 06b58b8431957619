package sqlite

import (
	"testing"

	"github.com/switchboard/switchboard/internal/store"
)

// TestAccountTreeMigration: on a data dir from before the account tree,
// every account but the default one (the oldest) becomes its child, so no
// existing tenant gains the operator's right to create accounts.
func TestAccountTreeMigration(t *testing.T) {
	ctx := t.Context()
	db := migrateFrom(t, "0004",
		`INSERT INTO accounts (id, name, created) VALUES ('b', 'b', 200), ('default', 'default', 100), ('c', 'c', 300)`)
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

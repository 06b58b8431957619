package sqlite

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestMusicOnHoldRefsMigration: the users, devices and groups of a data
// dir from before music on hold was a reference, and only those naming a
// media in music_on_hold.media_id, wait for the server to derive their
// references again.
func TestMusicOnHoldRefsMigration(t *testing.T) {
	ctx := t.Context()
	path := t.TempDir() + "/switchboard.db"
	old := fstest.MapFS{}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.Compare(name, "migrations/0009") >= 0 {
			continue
		}
		b, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: b}
	}
	db, err := open(ctx, path, nil, "sqlite", old, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO accounts (id, name, created) VALUES ('a', 'a', 1)`,
		`INSERT INTO documents (account_id, id, kind, name, rev, revision, body, created, modified) VALUES
			('a', 'u1', 'users', 'U1', 1, '1-a', CAST('{"music_on_hold":{"media_id":"m1"}}' AS BLOB), 1, 1),
			('a', 'u2', 'users', 'U2', 1, '1-b', CAST('{"music_on_hold":{}}' AS BLOB), 1, 1),
			('a', 'd1', 'devices', 'D1', 1, '1-c', CAST('{"music_on_hold":{"media_id":"gone"}}' AS BLOB), 1, 1),
			('a', 'g1', 'groups', 'G1', 1, '1-d', CAST('{"music_on_hold":{"media_id":"m1"}}' AS BLOB), 1, 1),
			('a', 'x1', 'menus', 'X1', 1, '1-e', CAST('{"music_on_hold":{"media_id":"m1"}}' AS BLOB), 1, 1),
			('a', 'm1', 'media', 'M1', 1, '1-f', CAST('{}' AS BLOB), 1, 1)`,
	} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
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
	pending, err := db.PendingReindex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range pending {
		ids = append(ids, d.ID)
	}
	if !slices.Equal(ids, []string{"d1", "g1", "u1"}) {
		t.Errorf("pending: %v, want d1 g1 u1", ids)
	}
}

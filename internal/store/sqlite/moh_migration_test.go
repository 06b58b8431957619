package sqlite

import (
	"slices"
	"testing"
)

// TestMusicOnHoldRefsMigration: the users, devices and groups of a data
// dir from before music on hold was a reference, and only those naming a
// media in music_on_hold.media_id, wait for the server to derive their
// references again.
func TestMusicOnHoldRefsMigration(t *testing.T) {
	ctx := t.Context()
	db := migrateFrom(t, "0009",
		`INSERT INTO accounts (id, name, created) VALUES ('a', 'a', 1)`,
		`INSERT INTO documents (account_id, id, kind, name, rev, revision, body, created, modified) VALUES
			('a', 'u1', 'users', 'U1', 1, '1-a', CAST('{"music_on_hold":{"media_id":"m1"}}' AS BLOB), 1, 1),
			('a', 'u2', 'users', 'U2', 1, '1-b', CAST('{"music_on_hold":{}}' AS BLOB), 1, 1),
			('a', 'd1', 'devices', 'D1', 1, '1-c', CAST('{"music_on_hold":{"media_id":"gone"}}' AS BLOB), 1, 1),
			('a', 'g1', 'groups', 'G1', 1, '1-d', CAST('{"music_on_hold":{"media_id":"m1"}}' AS BLOB), 1, 1),
			('a', 'x1', 'menus', 'X1', 1, '1-e', CAST('{"music_on_hold":{"media_id":"m1"}}' AS BLOB), 1, 1),
			('a', 'm1', 'media', 'M1', 1, '1-f', CAST('{}' AS BLOB), 1, 1)`,
	)
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

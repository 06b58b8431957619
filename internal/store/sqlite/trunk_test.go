package sqlite_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/store/storetest"
)

func TestTrunkRoundTrip(t *testing.T) {
	db, _ := tempDB(t)
	ctx := t.Context()
	storetest.Account(t, db, "a1")
	storetest.Account(t, db, "a2")
	in := store.Trunk{
		ID: "t1", AccountID: "a1", Name: "carrier", SourceCIDRs: []string{"203.0.113.0/24"},
		OutboundURI: "sip:gw.example.net;transport=tcp", Body: []byte(`{"id":"t1","name":"carrier","x":1}`),
	}
	created, err := db.CreateTrunk(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateTrunk(ctx, in); !errors.Is(err, store.ErrExists) {
		t.Errorf("second create: %v, want ErrExists", err)
	}
	got, err := db.GetTrunk(ctx, "a1", "t1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "carrier" || !slices.Equal(got.SourceCIDRs, in.SourceCIDRs) || got.OutboundURI != in.OutboundURI ||
		string(got.Body) != string(in.Body) || got.Revision != created.Revision {
		t.Errorf("got %+v", got)
	}
	if _, err := db.GetTrunk(ctx, "a2", "t1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other account sees the trunk: %v", err)
	}
	in.Name = "renamed"
	if _, err := db.UpdateTrunk(ctx, in, "1-stale"); !errors.Is(err, store.ErrStaleRevision) {
		t.Errorf("stale update: %v", err)
	}
	upd, err := db.UpdateTrunk(ctx, in, created.Revision)
	if err != nil || upd.Revision[:2] != "2-" {
		t.Fatalf("update: %v %q", err, upd.Revision)
	}
	if _, err := db.CreateTrunk(ctx, store.Trunk{ID: "t2", AccountID: "a2", SourceCIDRs: []string{"10.0.0.0/8"}, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	var all []string
	if err := db.EachTrunk(ctx, func(tr store.Trunk) error { all = append(all, tr.AccountID+"/"+tr.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, []string{"a1/t1", "a2/t2"}) {
		t.Errorf("EachTrunk: %v", all)
	}
	list, err := db.ListTrunks(ctx, "a1")
	if err != nil || len(list) != 1 || list[0].Name != "renamed" {
		t.Errorf("ListTrunks: %v %+v", err, list)
	}
	if err := db.DeleteTrunk(ctx, "a1", "t1", ""); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTrunk(ctx, "a1", "t1", ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

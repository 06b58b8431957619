package sqlite_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard/switchboard/internal/store"
)

func temporalDoc(kind store.TemporalKind, id, body string) store.TemporalDoc {
	return store.TemporalDoc{Kind: kind, ID: id, AccountID: "acct", Name: "n " + id, Body: json.RawMessage(body)}
}

func TestTemporalDocs(t *testing.T) {
	db, path := tempDB(t)
	ctx := t.Context()
	rule := temporalDoc(store.TemporalRuleKind, "r1", `{"id":"r1","name":"Office","cycle":"weekly","wdays":["monday"],"start_date":62586115200}`)

	saved, err := db.CreateTemporal(ctx, rule)
	if err != nil || saved.Revision[:2] != "1-" || saved.Created.IsZero() {
		t.Fatalf("create: %+v %v", saved, err)
	}
	if _, err := db.CreateTemporal(ctx, rule); !errors.Is(err, store.ErrExists) {
		t.Errorf("create twice: %v", err)
	}
	// Rules and sets share the id space.
	if _, err := db.CreateTemporal(ctx, temporalDoc(store.TemporalRuleSetKind, "r1", `{}`)); !errors.Is(err, store.ErrExists) {
		t.Errorf("set under a rule's id: %v", err)
	}
	set, err := db.CreateTemporal(ctx, temporalDoc(store.TemporalRuleSetKind, "s1", `{"name":"Set","temporal_rules":["r1"]}`))
	if err != nil {
		t.Fatal(err)
	}

	// Get by kind, or any kind.
	for _, tc := range []struct {
		kind store.TemporalKind
		id   string
		ok   bool
	}{
		{store.TemporalRuleKind, "r1", true}, {"", "r1", true}, {store.TemporalRuleSetKind, "r1", false},
		{"", "s1", true}, {store.TemporalRuleKind, "s1", false}, {"", "nope", false},
	} {
		d, err := db.GetTemporal(ctx, tc.kind, "acct", tc.id)
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, store.ErrNotFound)) {
			t.Errorf("get %q %s: %+v %v", tc.kind, tc.id, d, err)
		}
	}
	if _, err := db.GetTemporal(ctx, "", "other", "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another account's rule: %v", err)
	}

	// Update with and without a revision.
	rule.Body = json.RawMessage(`{"id":"r1","name":"Office 2","cycle":"daily"}`)
	up, err := db.UpdateTemporal(ctx, rule, saved.Revision)
	if err != nil || up.Revision[:2] != "2-" || !up.Created.Equal(saved.Created) {
		t.Fatalf("update: %+v %v", up, err)
	}
	if _, err := db.UpdateTemporal(ctx, rule, saved.Revision); !errors.Is(err, store.ErrStaleRevision) {
		t.Errorf("stale update: %v", err)
	}
	if _, err := db.UpdateTemporal(ctx, temporalDoc(store.TemporalRuleKind, "s1", `{}`), ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update a set as a rule: %v", err)
	}

	// The override.
	on, err := db.SetTemporalRuleEnabled(ctx, "acct", "r1", new(true))
	if err != nil || on.Revision[:2] != "3-" {
		t.Fatalf("enable: %+v %v", on, err)
	}
	var doc map[string]any
	got, _ := db.GetTemporal(ctx, store.TemporalRuleKind, "acct", "r1")
	_ = json.Unmarshal(got.Body, &doc)
	if doc["enabled"] != true || doc["name"] != "Office 2" {
		t.Errorf("enabled: %s", got.Body)
	}
	if _, err := db.SetTemporalRuleEnabled(ctx, "acct", "r1", nil); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GetTemporal(ctx, store.TemporalRuleKind, "acct", "r1")
	doc = nil
	_ = json.Unmarshal(got.Body, &doc)
	if _, has := doc["enabled"]; has {
		t.Errorf("reset kept enabled: %s", got.Body)
	}
	if _, err := db.SetTemporalRuleEnabled(ctx, "acct", "s1", new(false)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("enable a set: %v", err)
	}

	// Listing, by kind, paged.
	for i := range 5 {
		if _, err := db.CreateTemporal(ctx, temporalDoc(store.TemporalRuleKind, fmt.Sprintf("r%d", i+2), `{}`)); err != nil {
			t.Fatal(err)
		}
	}
	page, more, err := db.ListTemporal(ctx, store.TemporalRuleKind, "acct", store.ListOptions{Limit: 4})
	if err != nil || len(page) != 4 || !more || page[0].ID != "r1" {
		t.Fatalf("page 1: %d %v %v", len(page), more, err)
	}
	page, more, _ = db.ListTemporal(ctx, store.TemporalRuleKind, "acct", store.ListOptions{Limit: 4, After: page[3].ID})
	if len(page) != 2 || more {
		t.Errorf("page 2: %d %v", len(page), more)
	}
	sets, _, _ := db.ListTemporal(ctx, store.TemporalRuleSetKind, "acct", store.ListOptions{})
	if len(sets) != 1 || sets[0].ID != "s1" || sets[0].Revision != set.Revision {
		t.Errorf("sets %+v", sets)
	}

	// Delete, with the revision rule, then gone; kept across a reopen.
	if err := db.DeleteTemporal(ctx, store.TemporalRuleSetKind, "acct", "s1", "1-0000"); !errors.Is(err, store.ErrStaleRevision) {
		t.Errorf("stale delete: %v", err)
	}
	if err := db.DeleteTemporal(ctx, store.TemporalRuleSetKind, "acct", "s1", set.Revision); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTemporal(ctx, store.TemporalRuleSetKind, "acct", "s1", ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	db.Close()
	db2 := open(t, path)
	if d, err := db2.GetTemporal(ctx, store.TemporalRuleKind, "acct", "r1"); err != nil || d.Name != "n r1" {
		t.Errorf("after reopen: %+v %v", d, err)
	}
}

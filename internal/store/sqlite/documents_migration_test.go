package sqlite

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/switchboard/switchboard/internal/store"
)

// TestDocumentsMigration: call flows, trunks and temporal documents of a
// data dir from before the one document table are all there after it,
// with their numbers, networks, rule-set references and revisions; the
// flows wait for the server to derive their references.
func TestDocumentsMigration(t *testing.T) {
	ctx := t.Context()
	db := migrateFrom(t, "0005",
		`INSERT INTO accounts (id, name, created) VALUES ('a', 'a', 1), ('b', 'b', 2)`,
		`INSERT INTO callflows (account_id, id, name, numbers, patterns, rev, revision, body, created, modified)
			VALUES ('a', 'f1', 'Main', '["1000"]', '["^9"]', 3, '3-abc', CAST('{"id":"f1"}' AS BLOB), 1, 2)`,
		`INSERT INTO callflow_numbers (account_id, number, callflow_id) VALUES ('a', '1000', 'f1')`,
		`INSERT INTO callflow_patterns (account_id, pattern, callflow_id) VALUES ('a', '^9', 'f1')`,
		`INSERT INTO trunks (account_id, id, name, source_cidrs, outbound_uri, rev, revision, body, created, modified)
			VALUES ('a', 't1', 'T', '["203.0.113.0/24"]', 'sip:gw', 1, '1-x', CAST('{"id":"t1"}' AS BLOB), 1, 1)`,
		`INSERT INTO temporal_docs (account_id, id, kind, name, rev, revision, body, created, modified)
			VALUES ('a', 'r1', 'temporal_rules', 'R', 1, '1-r', CAST('{"id":"r1"}' AS BLOB), 1, 1),
			       ('a', 's1', 'temporal_rules_sets', 'S', 1, '1-s', CAST('{"id":"s1","temporal_rules":["r1"]}' AS BLOB), 1, 1)`,
	)

	f, err := db.GetCallflow(ctx, "a", "f1")
	if err != nil || f.Revision != "3-abc" || !slices.Equal(f.Numbers, []string{"1000"}) || !slices.Equal(f.Patterns, []string{"^9"}) {
		t.Errorf("callflow after migration: %+v %v", f, err)
	}
	if _, err := db.CreateCallflow(ctx, store.Callflow{ID: "f2", AccountID: "a", Numbers: []string{"1000"}, Body: []byte(`{}`)}); err == nil {
		t.Error("the migrated number is not claimed")
	}
	tr, err := db.GetTrunk(ctx, "a", "t1")
	if err != nil || tr.OutboundURI != "sip:gw" || !slices.Equal(tr.SourceCIDRs, []string{"203.0.113.0/24"}) {
		t.Errorf("trunk after migration: %+v %v", tr, err)
	}
	if _, err := db.CreateTrunk(ctx, store.Trunk{ID: "t2", AccountID: "b", SourceCIDRs: []string{"203.0.113.9/32"}, Body: []byte(`{}`)}); err == nil {
		t.Error("the migrated network is not claimed")
	}
	if refs, err := db.Referrers(ctx, "a", "r1"); err != nil || len(refs) != 1 || refs[0].ID != "s1" {
		t.Errorf("rule set reference: %v %v", refs, err)
	}
	pending, err := db.PendingReindex(ctx)
	if err != nil || len(pending) != 1 || pending[0].ID != "f1" {
		t.Fatalf("pending: %v %v", pending, err)
	}
	idx, _ := json.Marshal(store.FlowIndex{Numbers: []string{"1000"}, Patterns: []string{"^9"}})
	w := store.DocWrite{Doc: store.Doc{Kind: "callflows", ID: "f1", AccountID: "a", Index: idx},
		Keys: []store.Key{{Name: "number", Value: "1000"}, {Name: "pattern", Value: "^9"}},
		Refs: []store.Ref{{Path: "flow.data.rules.0", Kind: "temporal_rules", ID: "r1"}}}
	if err := db.Reindex(ctx, w); err != nil {
		t.Fatal(err)
	}
	if pending, _ := db.PendingReindex(ctx); len(pending) != 0 {
		t.Errorf("still pending: %v", pending)
	}
	if refs, _ := db.Referrers(ctx, "a", "r1"); len(refs) != 2 {
		t.Errorf("referrers after reindex: %v", refs)
	}
	if f2, _ := db.GetCallflow(ctx, "a", "f1"); f2.Revision != "3-abc" {
		t.Errorf("reindex changed the revision: %s", f2.Revision)
	}
}

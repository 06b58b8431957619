package sqlite_test

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/internal/store"
)

func doc(kind, id, body string) store.DocWrite {
	return store.DocWrite{Doc: store.Doc{Kind: kind, ID: id, AccountID: "a", Name: "n " + id, Body: []byte(body)}}
}

// TestDocumentFilters: filter_<field> matches strings, numbers, booleans
// and nested fields as Kazoo's text.
func TestDocumentFilters(t *testing.T) {
	db, _ := tempDB(t)
	ctx := t.Context()
	for i := range 5 {
		body := fmt.Sprintf(`{"n":%d,"odd":%t,"s":"v%d","cid":{"internal":{"number":"10%d"}}}`, i, i%2 == 1, i, i)
		if _, err := db.CreateDoc(ctx, doc("users", fmt.Sprint("u", i), body)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		field, value string
		want         int
	}{
		{"n", "3", 1}, {"odd", "true", 2}, {"odd", "false", 3}, {"s", "v2", 1}, {"cid.internal.number", "104", 1},
		{"missing", "x", 0}, {"n", "3.0", 1}, {"s", "3", 0},
	} {
		page, _, err := db.ListDocs(ctx, "users", "a", store.DocQuery{Filters: map[string]string{tc.field: tc.value}})
		if err != nil || len(page) != tc.want {
			t.Errorf("filter %s=%s: %d docs, %v; want %d", tc.field, tc.value, len(page), err, tc.want)
		}
	}
	if _, _, err := db.ListDocs(ctx, "users", "a", store.DocQuery{Filters: map[string]string{`a"b`: "x"}}); err == nil {
		t.Error("a quote in a filter field accepted")
	}
}

// TestApplyDocsIsAllOrNothing: references are checked once all are
// written; one missing reference writes nothing.
func TestApplyDocsIsAllOrNothing(t *testing.T) {
	db, _ := tempDB(t)
	ctx := t.Context()
	var seen []string
	db.Watch(func(c store.Change) { seen = append(seen, c.Doc.ID) })
	a := doc("callflows", "f1", `{}`)
	a.Refs = []store.Ref{{Path: "flow.data.id", Kind: "menus", ID: "m1"}}
	b := doc("menus", "m1", `{}`)
	c := doc("groups", "g1", `{}`)
	c.Refs = []store.Ref{{Path: "endpoints.x", Kind: "users", ID: "nobody"}}
	_, err := db.ApplyDocs(ctx, []store.DocWrite{a, b, c})
	if m, ok := errors.AsType[*store.MissingRefError](err); !ok || len(m.Refs) != 1 || m.Refs[0].ID != "nobody" {
		t.Fatalf("apply with a dangling ref: %v", err)
	}
	if _, err := db.GetDoc(ctx, "", "a", "m1"); !errors.Is(err, store.ErrNotFound) || len(seen) != 0 {
		t.Fatalf("a refused set left %v, watchers saw %v", err, seen)
	}
	if _, err := db.ApplyDocs(ctx, []store.DocWrite{a, b}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 {
		t.Errorf("watchers saw %v", seen)
	}
	if _, err := db.DeleteDoc(ctx, "menus", "a", "m1", "", false); !errors.As(err, new(*store.InUseError)) {
		t.Errorf("delete of a used menu: %v", err)
	}
	refs, err := db.Referrers(ctx, "a", "m1")
	if err != nil || len(refs) != 1 || refs[0].ID != "f1" || refs[0].Path != "flow.data.id" {
		t.Errorf("referrers: %v %v", refs, err)
	}
}

// TestNetworkRace: 40 accounts claim one network at once; one wins.
func TestNetworkRace(t *testing.T) {
	db, _ := tempDB(t)
	p := netip.MustParsePrefix("203.0.113.0/24")
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won int
	)
	for i := range 40 {
		wg.Go(func() {
			w := doc("trunks", "t", `{}`)
			w.AccountID = fmt.Sprint("acct", i)
			w.Networks = []netip.Prefix{netip.PrefixFrom(p.Addr().Next(), 32), p}
			_, err := db.CreateDoc(t.Context(), w)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case !errors.As(err, new(*store.NetworkError)):
				t.Errorf("account %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d accounts hold the network", won)
	}
}

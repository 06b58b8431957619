// Package storetest is the behaviour every store.Store must show, as one
// table of tests a backend's own test runs on a fresh store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
//	}
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

// Run runs every behaviour test as a subtest. open returns a new, empty
// store for one subtest and arranges its Close (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

var tests = []struct {
	name string
	run  func(t *testing.T, s store.Store)
}{
	{"AccountRoundTrip", accountRoundTrip},
	{"APIKeys", apiKeys},
	{"AccountWithKeys", accountWithKeys},
	{"Tokens", tokens},
	{"AccountTree", accountTree},
	{"KeyRotation", keyRotation},
	{"TokenRevocation", tokenRevocation},
	{"CallflowRoundTrip", callflowRoundTrip},
	{"CallflowMissing", callflowMissing},
	{"RevisionIncrements", revisionIncrements},
	{"StaleRevision", staleRevision},
	{"NumberConflict", numberConflict},
	{"PatternConflict", patternConflict},
	{"OwnNumbersKept", ownNumbersKept},
	{"NumbersFreed", numbersFreed},
	{"DuplicatesInFlow", duplicatesInFlow},
	{"ConcurrentSameNumber", concurrentSameNumber},
	{"Pagination", pagination},
	{"EachCallflow", eachCallflow},
}

// Account creates an account with id (failing t on error).
func Account(t *testing.T, s store.Store, id string) store.Account {
	t.Helper()
	a, err := s.CreateAccount(t.Context(), store.Account{ID: id, Name: "Account " + id, SigningSecret: "secret-" + id})
	if err != nil {
		t.Fatalf("CreateAccount(%s): %v", id, err)
	}
	return a
}

// Flow is a call flow of account with id, its body a small JSON document.
func Flow(account, id string, numbers, patterns []string) store.Callflow {
	return store.Callflow{
		ID: id, AccountID: account, Name: "Flow " + id, Numbers: numbers, Patterns: patterns,
		Body: []byte(fmt.Sprintf(`{"id":%q,"flow":{"module":"play","data":{"id":"x"}},"unknown":[1,2]}`, id)),
	}
}

// Create stores c (failing t on error).
func Create(t *testing.T, s store.Store, c store.Callflow) store.Callflow {
	t.Helper()
	got, err := s.CreateCallflow(t.Context(), c)
	if err != nil {
		t.Fatalf("CreateCallflow(%s): %v", c.ID, err)
	}
	return got
}

func get(t *testing.T, s store.Store, account, id string) store.Callflow {
	t.Helper()
	c, err := s.GetCallflow(t.Context(), account, id)
	if err != nil {
		t.Fatalf("GetCallflow(%s): %v", id, err)
	}
	return c
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

func wantConflict(t *testing.T, what string, err error, want store.ConflictError) {
	t.Helper()
	c, ok := errors.AsType[*store.ConflictError](err)
	if !ok {
		t.Fatalf("%s: err = %v, want *store.ConflictError", what, err)
	}
	if *c != want {
		t.Fatalf("%s: conflict = %+v, want %+v", what, *c, want)
	}
}

// sameFlow compares what a caller gave with what the store returned.
func sameFlow(t *testing.T, what string, got, want store.Callflow) {
	t.Helper()
	if got.ID != want.ID || got.AccountID != want.AccountID || got.Name != want.Name ||
		!slices.Equal(got.Numbers, want.Numbers) || !slices.Equal(got.Patterns, want.Patterns) ||
		!bytes.Equal(got.Body, want.Body) {
		t.Fatalf("%s: got %+v\nwant %+v", what, got, want)
	}
}

func accountRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	old := time.Date(2020, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	b, err := s.CreateAccount(ctx, store.Account{ID: "b", Name: "B", SigningSecret: "sb", Created: old})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Created.Equal(old) {
		t.Errorf("Created = %v, want %v (kept when given)", b.Created, old)
	}
	a := Account(t, s, "a")
	if a.Created.IsZero() || a.Created.Location() != time.UTC {
		t.Errorf("Created = %v, want now in UTC", a.Created)
	}
	got, err := s.GetAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got != a {
		t.Errorf("GetAccount = %+v, want %+v", got, a)
	}
	_, err = s.CreateAccount(ctx, store.Account{ID: "a"})
	wantErr(t, "duplicate account", err, store.ErrExists)
	_, err = s.GetAccount(ctx, "nope")
	wantErr(t, "unknown account", err, store.ErrNotFound)

	list, err := s.ListAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(ids, []string{"b", "a"}) {
		t.Errorf("ListAccounts ids = %v, want [b a] (by created)", ids)
	}
}

func apiKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	Account(t, s, "a")
	if err := s.AddAPIKey(ctx, "a", "h1"); err != nil {
		t.Fatal(err)
	}
	id, err := s.AccountByAPIKey(ctx, "h1")
	if err != nil || id != "a" {
		t.Fatalf("AccountByAPIKey = %q, %v; want a", id, err)
	}
	_, err = s.AccountByAPIKey(ctx, "unknown")
	wantErr(t, "unknown key", err, store.ErrNotFound)
	err = s.AddAPIKey(ctx, "ghost", "h2")
	wantErr(t, "key for unknown account", err, store.ErrNotFound)
	_, err = s.AccountByAPIKey(ctx, "h2")
	wantErr(t, "refused key", err, store.ErrNotFound)
}

// accountWithKeys: an account and its first keys are one write; a taken
// key hash refuses the whole account.
func accountWithKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.CreateAccount(ctx, store.Account{ID: "a", Name: "A"}, "k1", "k2"); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"k1", "k2"} {
		if id, err := s.AccountByAPIKey(ctx, h); err != nil || id != "a" {
			t.Errorf("AccountByAPIKey(%s) = %q, %v; want a", h, id, err)
		}
	}
	_, err := s.CreateAccount(ctx, store.Account{ID: "b", Name: "B"}, "k3", "k1")
	wantErr(t, "account with a taken key", err, store.ErrExists)
	_, err = s.GetAccount(ctx, "b")
	wantErr(t, "account refused for its key", err, store.ErrNotFound)
	_, err = s.AccountByAPIKey(ctx, "k3")
	wantErr(t, "key of a refused account", err, store.ErrNotFound)
}

func tokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	Account(t, s, "a")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := s.AddToken(ctx, store.Token{Hash: "t1", AccountID: "a", Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		hash string
		at   time.Time
		ok   bool
	}{
		{"valid", "t1", now, true},
		{"just before expiry", "t1", now.Add(time.Hour - time.Millisecond), true},
		{"at expiry", "t1", now.Add(time.Hour), false},
		{"after expiry", "t1", now.Add(2 * time.Hour), false},
		{"unknown", "t2", now, false},
	} {
		id, err := s.AccountByToken(ctx, tc.hash, tc.at)
		if tc.ok && (err != nil || id != "a") {
			t.Errorf("%s: AccountByToken = %q, %v; want a", tc.name, id, err)
		}
		if !tc.ok && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: AccountByToken err = %v, want ErrNotFound", tc.name, err)
		}
	}
}

func callflowRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	Account(t, s, "a")
	in := Flow("a", "f1", []string{"+15550001", "+15550002"}, []string{"^\\+1555"})
	before := time.Now().Add(-time.Second)
	created := Create(t, s, in)
	sameFlow(t, "create result", created, in)
	if !strings.HasPrefix(created.Revision, "1-") || len(created.Revision) < 3 {
		t.Errorf("Revision = %q, want 1-…", created.Revision)
	}
	if created.Created.Before(before) || !created.Modified.Equal(created.Created) ||
		created.Created.Location() != time.UTC || created.Created.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("Created, Modified = %v, %v; want now, equal, UTC, ms", created.Created, created.Modified)
	}
	got := get(t, s, "a", "f1")
	sameFlow(t, "get", got, in)
	if got.Revision != created.Revision || !got.Created.Equal(created.Created) || !got.Modified.Equal(created.Modified) {
		t.Errorf("get = %+v, want the create result %+v", got, created)
	}
	_, err := s.GetCallflow(ctx, "other", "f1")
	wantErr(t, "other account's flow", err, store.ErrNotFound)

	in.Name = "Renamed"
	in.Body = []byte(`{"id":"f1","name":"Renamed","flow":{}}`)
	in.Numbers = []string{"+15550003"}
	in.Patterns = nil
	updated, err := s.UpdateCallflow(ctx, in, created.Revision)
	if err != nil {
		t.Fatal(err)
	}
	sameFlow(t, "update result", updated, in)
	if !updated.Created.Equal(created.Created) || updated.Modified.Before(created.Modified) {
		t.Errorf("update Created, Modified = %v, %v; created %v", updated.Created, updated.Modified, created.Created)
	}
	sameFlow(t, "get after update", get(t, s, "a", "f1"), in)

	if err := s.DeleteCallflow(ctx, "a", "f1", updated.Revision); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetCallflow(ctx, "a", "f1")
	wantErr(t, "get deleted", err, store.ErrNotFound)
}

func callflowMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	Account(t, s, "a")
	Create(t, s, Flow("a", "f1", nil, nil))
	_, err := s.CreateCallflow(ctx, Flow("a", "f1", nil, nil))
	wantErr(t, "create existing", err, store.ErrExists)
	_, err = s.UpdateCallflow(ctx, Flow("a", "nope", nil, nil), "")
	wantErr(t, "update missing", err, store.ErrNotFound)
	err = s.DeleteCallflow(ctx, "a", "nope", "")
	wantErr(t, "delete missing", err, store.ErrNotFound)
	_, err = s.GetCallflow(ctx, "a", "nope")
	wantErr(t, "get missing", err, store.ErrNotFound)
}

func revisionIncrements(t *testing.T, s store.Store) {
	Account(t, s, "a")
	c := Create(t, s, Flow("a", "f1", nil, nil))
	seen := map[string]bool{c.Revision: true}
	for n := 2; n <= 4; n++ {
		var err error
		c, err = s.UpdateCallflow(t.Context(), c, "") // same body every time
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%d-", n); !strings.HasPrefix(c.Revision, want) {
			t.Errorf("update %d: Revision = %q, want %s…", n, c.Revision, want)
		}
		if seen[c.Revision] {
			t.Errorf("update %d: Revision %q repeats", n, c.Revision)
		}
		seen[c.Revision] = true
	}
}

func staleRevision(t *testing.T, s store.Store) {
	ctx := t.Context()
	Account(t, s, "a")
	v1 := Create(t, s, Flow("a", "f1", []string{"+1"}, nil))
	v2, err := s.UpdateCallflow(ctx, v1, v1.Revision)
	if err != nil {
		t.Fatal(err)
	}

	stale := Flow("a", "f1", []string{"+2"}, nil)
	stale.Name = "Stale"
	_, err = s.UpdateCallflow(ctx, stale, v1.Revision)
	wantErr(t, "update with stale revision", err, store.ErrStaleRevision)
	err = s.DeleteCallflow(ctx, "a", "f1", v1.Revision)
	wantErr(t, "delete with stale revision", err, store.ErrStaleRevision)

	got := get(t, s, "a", "f1")
	if got.Revision != v2.Revision || got.Name != v2.Name || !slices.Equal(got.Numbers, []string{"+1"}) {
		t.Fatalf("after stale writes: %+v, want unchanged %+v", got, v2)
	}
	// +2 was not claimed by the refused update.
	Create(t, s, Flow("a", "f2", []string{"+2"}, nil))
}

func numberConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	Account(t, s, "a")
	Account(t, s, "b")
	Create(t, s, Flow("a", "f1", []string{"+1", "+2"}, nil))
	f2 := Create(t, s, Flow("a", "f2", []string{"+3"}, nil))
	want := store.ConflictError{Kind: "number", Value: "+2", CallflowID: "f1", Name: "Flow f1"}

	_, err := s.CreateCallflow(ctx, Flow("a", "f3", []string{"+9", "+2"}, nil))
	wantConflict(t, "create", err, want)
	_, err = s.GetCallflow(ctx, "a", "f3")
	wantErr(t, "flow refused on create", err, store.ErrNotFound)
	Create(t, s, Flow("a", "f4", []string{"+9"}, nil)) // +9 not held by the refused f3

	_, err = s.UpdateCallflow(ctx, Flow("a", "f2", []string{"+3", "+2"}, nil), "")
	wantConflict(t, "update", err, want)
	if got := get(t, s, "a", "f2"); got.Revision != f2.Revision || !slices.Equal(got.Numbers, []string{"+3"}) {
		t.Fatalf("after refused update: %+v, want unchanged", got)
	}
	Create(t, s, Flow("b", "f1", []string{"+1", "+2"}, nil)) // other account: no clash
}

func patternConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	Account(t, s, "a")
	Create(t, s, Flow("a", "f1", []string{"+1"}, []string{"^\\+1(.+)$"}))
	_, err := s.CreateCallflow(ctx, Flow("a", "f2", []string{"+2"}, []string{"^2", "^\\+1(.+)$"}))
	wantConflict(t, "create", err, store.ConflictError{Kind: "pattern", Value: "^\\+1(.+)$", CallflowID: "f1", Name: "Flow f1"})
	Create(t, s, Flow("a", "f2", []string{"+2"}, []string{"^2"}))
}

func ownNumbersKept(t *testing.T, s store.Store) {
	Account(t, s, "a")
	c := Create(t, s, Flow("a", "f1", []string{"+1", "+2"}, []string{"^p"}))
	c.Numbers = []string{"+2", "+1", "+3"}
	if _, err := s.UpdateCallflow(t.Context(), c, c.Revision); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, "a", "f1"); !slices.Equal(got.Numbers, []string{"+2", "+1", "+3"}) || !slices.Equal(got.Patterns, []string{"^p"}) {
		t.Fatalf("numbers, patterns = %v, %v", got.Numbers, got.Patterns)
	}
}

func numbersFreed(t *testing.T, s store.Store) {
	ctx := t.Context()
	Account(t, s, "a")
	f1 := Create(t, s, Flow("a", "f1", []string{"+1", "+2"}, []string{"^p"}))
	Create(t, s, Flow("a", "f2", []string{"+3"}, nil))

	f1.Numbers, f1.Patterns = []string{"+1"}, nil
	if _, err := s.UpdateCallflow(ctx, f1, ""); err != nil {
		t.Fatal(err)
	}
	Create(t, s, Flow("a", "g1", []string{"+2"}, []string{"^p"})) // dropped by the update

	if err := s.DeleteCallflow(ctx, "a", "f2", ""); err != nil {
		t.Fatal(err)
	}
	Create(t, s, Flow("a", "g2", []string{"+3"}, nil)) // freed by the delete
}

func duplicatesInFlow(t *testing.T, s store.Store) {
	Account(t, s, "a")
	c := Create(t, s, Flow("a", "f1", []string{"+1", "+2", "+1"}, []string{"^p", "^p"}))
	for _, got := range []store.Callflow{c, get(t, s, "a", "f1")} {
		if !slices.Equal(got.Numbers, []string{"+1", "+2"}) || !slices.Equal(got.Patterns, []string{"^p"}) {
			t.Fatalf("numbers, patterns = %v, %v; want de-duplicated", got.Numbers, got.Patterns)
		}
	}
}

func concurrentSameNumber(t *testing.T, s store.Store) {
	Account(t, s, "a")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.CreateCallflow(t.Context(), Flow("a", fmt.Sprintf("f%d", i), []string{"+1"}, nil))
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
			continue
		}
		if _, isConflict := errors.AsType[*store.ConflictError](err); !isConflict {
			t.Errorf("create f%d: %v, want nil or *store.ConflictError", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d creates succeeded, want exactly 1", ok)
	}
	page, _, err := s.ListCallflows(t.Context(), "a", store.ListOptions{})
	if err != nil || len(page) != 1 {
		t.Fatalf("stored %d flows (%v), want 1", len(page), err)
	}
}

func pagination(t *testing.T, s store.Store) {
	Account(t, s, "a")
	Account(t, s, "b")
	for i := range 25 {
		Create(t, s, Flow("a", fmt.Sprintf("f%02d", 24-i), nil, nil)) // out of order
	}
	Create(t, s, Flow("b", "f99", nil, nil))

	var all []string
	after := ""
	for _, want := range []struct {
		n    int
		more bool
	}{{10, true}, {10, true}, {5, false}} {
		page, more, err := s.ListCallflows(t.Context(), "a", store.ListOptions{Limit: 10, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != want.n || more != want.more {
			t.Fatalf("after %q: %d flows, more=%v; want %d, %v", after, len(page), more, want.n, want.more)
		}
		for _, c := range page {
			all = append(all, c.ID)
		}
		after = page[len(page)-1].ID
	}
	var want []string
	for i := range 25 {
		want = append(want, fmt.Sprintf("f%02d", i))
	}
	if !slices.Equal(all, want) {
		t.Fatalf("pages = %v, want %v", all, want)
	}
	page, more, err := s.ListCallflows(t.Context(), "a", store.ListOptions{})
	if err != nil || len(page) != 25 || more {
		t.Fatalf("Limit 0: %d flows, more=%v, %v; want 25, false", len(page), more, err)
	}
	page, more, err = s.ListCallflows(t.Context(), "a", store.ListOptions{Limit: 25})
	if err != nil || len(page) != 25 || more {
		t.Fatalf("Limit 25: %d flows, more=%v, %v; want 25, false", len(page), more, err)
	}
}

func eachCallflow(t *testing.T, s store.Store) {
	Account(t, s, "a")
	Account(t, s, "b")
	Create(t, s, Flow("b", "f2", nil, nil))
	Create(t, s, Flow("a", "f2", nil, nil))
	Create(t, s, Flow("b", "f1", []string{"+1"}, nil))
	Create(t, s, Flow("a", "f1", []string{"+1"}, nil))

	var got []string
	err := s.EachCallflow(t.Context(), func(c store.Callflow) error {
		if len(c.Body) == 0 || c.Revision == "" {
			return fmt.Errorf("flow %s/%s incomplete", c.AccountID, c.ID)
		}
		got = append(got, c.AccountID+"/"+c.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a/f1", "a/f2", "b/f1", "b/f2"}; !slices.Equal(got, want) {
		t.Fatalf("EachCallflow = %v, want %v", got, want)
	}

	stop := errors.New("stop")
	calls := 0
	err = s.EachCallflow(t.Context(), func(store.Callflow) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("EachCallflow with failing fn: %v after %d calls, want stop after 1", err, calls)
	}
}

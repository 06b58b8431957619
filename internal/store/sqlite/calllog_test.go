package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/store/sqlite"
)

func openCallLog(t testing.TB, path string) *sqlite.CallLogDB {
	t.Helper()
	l, err := sqlite.OpenCallLog(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

func tempCallLog(t testing.TB) *sqlite.CallLogDB {
	t.Helper()
	return openCallLog(t, filepath.Join(t.TempDir(), "calllog.db"))
}

// base is a fixed, millisecond-precise UTC time the tests count from.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

func call(account, id string, started time.Time) store.CallRecord {
	return store.CallRecord{ID: id, AccountID: account, CallflowID: "cf-" + id,
		From: "+15550001", To: "+15550002", Started: started}
}

func saveCall(t *testing.T, l *sqlite.CallLogDB, c store.CallRecord) {
	t.Helper()
	if err := l.SaveCall(t.Context(), c); err != nil {
		t.Fatal(err)
	}
}

func addWebhook(t *testing.T, l *sqlite.CallLogDB, w store.WebhookRecord) {
	t.Helper()
	if err := l.AddWebhook(t.Context(), w); err != nil {
		t.Fatal(err)
	}
}

func callIDs(cs []store.CallRecord) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func hookKeys(ws []store.WebhookRecord) []string {
	var keys []string
	for _, w := range ws {
		keys = append(keys, fmt.Sprintf("%s/%d/%s", w.CallID, w.Iteration, w.URL))
	}
	return keys
}

func TestCallLogRoundTrip(t *testing.T) {
	t.Parallel()
	l := tempCallLog(t)
	want := store.CallRecord{
		ID: "c1", AccountID: "a1", CallflowID: "cf1", From: "+1555", To: "+1666",
		Started: base, Ended: base.Add(90 * time.Second), HangupCause: "NORMAL_CLEARING",
		HangupBy: "caller", Debug: true,
		Trace: []byte("{\"t\":1}\n\x00\xff binary\n"),
	}
	saveCall(t, l, want)
	got, err := l.GetCall(t.Context(), "a1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}

	// A running call: no end, no trace; a local time comes back as UTC.
	running := call("a1", "c2", base.In(time.FixedZone("X", 3600)))
	saveCall(t, l, running)
	got, err = l.GetCall(t.Context(), "a1", "c2")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Ended.IsZero() || got.Trace != nil || !got.Started.Equal(base) || got.Started.Location() != time.UTC {
		t.Fatalf("running call: %+v", got)
	}

	_, err = l.GetCall(t.Context(), "a1", "nope")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown call: err %v, want ErrNotFound", err)
	}
}

func TestCallLogUpsert(t *testing.T) {
	t.Parallel()
	l := tempCallLog(t)
	c := call("a1", "c1", base)
	c.Trace = []byte("start\n")
	saveCall(t, l, c)
	c.Ended = base.Add(time.Minute)
	c.HangupCause = "USER_BUSY"
	c.HangupBy = "callee"
	c.Debug = true
	c.Trace = []byte("start\nend\n")
	saveCall(t, l, c)
	got, err := l.GetCall(t.Context(), "a1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("got %+v\nwant %+v", got, c)
	}
	list, err := l.ListCalls(t.Context(), "a1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d calls after upsert, want 1", len(list))
	}
}

func TestCallLogListCalls(t *testing.T) {
	t.Parallel()
	l := tempCallLog(t)
	for _, id := range []string{"c2", "c0", "c3", "c1"} {
		n := int(id[1] - '0')
		c := call("a1", id, base.Add(time.Duration(n)*time.Second))
		c.Trace = []byte("trace of " + id)
		saveCall(t, l, c)
	}
	list, err := l.ListCalls(t.Context(), "a1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := callIDs(list), []string{"c3", "c2", "c1", "c0"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	for _, c := range list {
		if c.Trace != nil {
			t.Fatalf("listing has a trace: %+v", c)
		}
		if c.CallflowID != "cf-"+c.ID || c.From != "+15550001" {
			t.Fatalf("listing lost fields: %+v", c)
		}
	}
	list, err = l.ListCalls(t.Context(), "a1", 2)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := callIDs(list), []string{"c3", "c2"}; !slices.Equal(got, want) {
		t.Fatalf("limited %v, want %v", got, want)
	}

	// The default limit is 100.
	for i := range 101 {
		saveCall(t, l, call("a2", fmt.Sprintf("d%03d", i), base.Add(time.Duration(i)*time.Second)))
	}
	for _, limit := range []int{0, -5} {
		list, err = l.ListCalls(t.Context(), "a2", limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 100 || list[0].ID != "d100" {
			t.Fatalf("limit %d: %d calls, first %s", limit, len(list), list[0].ID)
		}
	}
	list, err = l.ListCalls(t.Context(), "a2", 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 101 {
		t.Fatalf("big limit: %d calls, want 101", len(list))
	}
}

func TestCallLogWebhooks(t *testing.T) {
	t.Parallel()
	l := tempCallLog(t)
	first := store.WebhookRecord{
		AccountID: "a1", CallID: "c1", Iteration: 1, Method: "POST",
		URL:            "https://example.com/hook?x=1",
		RequestHeaders: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		RequestBody:    "CallID=c1", Status: 200,
		ResponseHeaders: map[string]string{"Content-Type": "application/json"},
		ResponseBody:    `{"module":"tts"}`,
		Started:         base, Duration: 250 * time.Millisecond,
	}
	// Stored before the call's record, and out of iteration order.
	addWebhook(t, l, store.WebhookRecord{AccountID: "a1", CallID: "c1", Iteration: 2, URL: "u2a",
		Error: "connection refused", Started: base.Add(2 * time.Second)})
	addWebhook(t, l, first)
	addWebhook(t, l, store.WebhookRecord{AccountID: "a1", CallID: "c1", Iteration: 2, URL: "u2b",
		Started: base.Add(3 * time.Second)})
	addWebhook(t, l, store.WebhookRecord{AccountID: "a1", CallID: "other", Iteration: 1, URL: "o",
		Started: base})
	saveCall(t, l, call("a1", "c1", base))

	hooks, err := l.Webhooks(t.Context(), "a1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hookKeys(hooks), []string{"c1/1/" + first.URL, "c1/2/u2a", "c1/2/u2b"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if !reflect.DeepEqual(hooks[0], first) {
		t.Fatalf("got %+v\nwant %+v", hooks[0], first)
	}
	if hooks[1].Error != "connection refused" || hooks[1].Status != 0 || hooks[1].RequestHeaders != nil {
		t.Fatalf("failed exchange: %+v", hooks[1])
	}

	none, err := l.Webhooks(t.Context(), "a1", "nope")
	if err != nil || len(none) != 0 {
		t.Fatalf("unknown call: %v, %v", none, err)
	}
}

func TestCallLogWebhookCalls(t *testing.T) {
	t.Parallel()
	l := tempCallLog(t)
	// c1 oldest, c2 newest, c3 between; c4 has no webhooks; c5 has no record
	// and its exchanges are the oldest of all.
	saveCall(t, l, call("a1", "c1", base))
	saveCall(t, l, call("a1", "c2", base.Add(2*time.Minute)))
	saveCall(t, l, call("a1", "c3", base.Add(time.Minute)))
	saveCall(t, l, call("a1", "c4", base.Add(3*time.Minute)))
	for _, w := range []struct {
		call string
		iter int
		url  string
		at   time.Duration
	}{
		{"c1", 2, "c1-2", 10 * time.Second},
		{"c1", 1, "c1-1", 0},
		{"c1", 1, "c1-1b", 0},
		{"c2", 1, "c2-1", 2 * time.Minute},
		{"c3", 3, "c3-3", time.Minute},
		{"c5", 1, "c5-1", -time.Minute},
	} {
		addWebhook(t, l, store.WebhookRecord{AccountID: "a1", CallID: w.call, Iteration: w.iter,
			URL: w.url, Started: base.Add(w.at)})
	}
	addWebhook(t, l, store.WebhookRecord{AccountID: "a2", CallID: "x", Iteration: 1, URL: "x",
		Started: base.Add(time.Hour)})

	got, err := l.WebhookCalls(t.Context(), "a1", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"c2/1/c2-1", "c3/3/c3-3", "c1/1/c1-1", "c5/1/c5-1"}
	if !slices.Equal(hookKeys(got), want) {
		t.Fatalf("got %v, want %v", hookKeys(got), want)
	}
	got, err = l.WebhookCalls(t.Context(), "a1", 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hookKeys(got), want[:2]) {
		t.Fatalf("limited: got %v, want %v", hookKeys(got), want[:2])
	}
}

func TestCallLogPrune(t *testing.T) {
	t.Parallel()
	l := tempCallLog(t)
	// Account a: a0 (oldest) … a5; a1 and a2 are Debug. Account b: b0 … b2.
	for i := range 6 {
		c := call("a", fmt.Sprintf("a%d", i), base.Add(time.Duration(i)*time.Minute))
		c.Debug = i == 1 || i == 2
		saveCall(t, l, c)
		addWebhook(t, l, store.WebhookRecord{AccountID: "a", CallID: c.ID, Iteration: 1, URL: c.ID,
			Started: time.Now()})
	}
	for i := range 3 {
		c := call("b", fmt.Sprintf("b%d", i), base.Add(time.Duration(i)*time.Minute))
		saveCall(t, l, c)
		addWebhook(t, l, store.WebhookRecord{AccountID: "b", CallID: c.ID, Iteration: 1, URL: c.ID,
			Started: time.Now()})
	}

	if err := l.Prune(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if list, _ := l.ListCalls(t.Context(), "a", 0); len(list) != 6 {
		t.Fatalf("Prune(0) left %d calls of 6", len(list))
	}

	if err := l.Prune(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	for account, want := range map[string][]string{
		"a": {"a5", "a4", "a2", "a1"},
		"b": {"b2", "b1"},
	} {
		list, err := l.ListCalls(t.Context(), account, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := callIDs(list); !slices.Equal(got, want) {
			t.Fatalf("account %s kept %v, want %v", account, got, want)
		}
		hooks, err := l.WebhookCalls(t.Context(), account, 0)
		if err != nil {
			t.Fatal(err)
		}
		var hookCalls []string
		for _, w := range hooks {
			hookCalls = append(hookCalls, w.CallID)
		}
		if !slices.Equal(hookCalls, want) {
			t.Fatalf("account %s kept webhooks of %v, want %v", account, hookCalls, want)
		}
	}
	for _, id := range []string{"a0", "a3"} {
		if hooks, err := l.Webhooks(t.Context(), "a", id); err != nil || len(hooks) != 0 {
			t.Fatalf("webhooks of pruned call %s: %v, %v", id, hooks, err)
		}
	}
}

func TestCallLogPruneOrphans(t *testing.T) {
	t.Parallel()
	l := tempCallLog(t)
	now := time.Now()
	saveCall(t, l, call("a", "kept", base))
	hooks := []store.WebhookRecord{
		{AccountID: "a", CallID: "kept", Iteration: 1, Started: now.Add(-3 * time.Hour)},
		{AccountID: "a", CallID: "old", Iteration: 1, Started: now.Add(-3 * time.Hour)},
		{AccountID: "a", CallID: "old", Iteration: 2, Started: now.Add(-2 * time.Hour)},
		{AccountID: "a", CallID: "recent", Iteration: 1, Started: now.Add(-time.Minute)},
		// Long-running: an old exchange but also a recent one.
		{AccountID: "a", CallID: "long", Iteration: 1, Started: now.Add(-2 * time.Hour)},
		{AccountID: "a", CallID: "long", Iteration: 2, Started: now.Add(-time.Minute)},
	}
	for _, w := range hooks {
		addWebhook(t, l, w)
	}
	if err := l.Prune(t.Context(), 10); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int{"kept": 1, "old": 0, "recent": 1, "long": 2} {
		got, err := l.Webhooks(t.Context(), "a", id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Errorf("call %s: %d webhooks, want %d", id, len(got), want)
		}
	}
}

func TestCallLogAccountsIsolated(t *testing.T) {
	t.Parallel()
	l := tempCallLog(t)
	saveCall(t, l, call("A", "c1", base))
	addWebhook(t, l, store.WebhookRecord{AccountID: "A", CallID: "c1", Iteration: 1, Started: base})
	// B's call of the same id is another call.
	saveCall(t, l, call("B", "c2", base))

	if _, err := l.GetCall(t.Context(), "B", "c1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("B got A's call: err %v", err)
	}
	if list, err := l.ListCalls(t.Context(), "B", 0); err != nil || !slices.Equal(callIDs(list), []string{"c2"}) {
		t.Fatalf("B's calls: %v, %v", callIDs(list), err)
	}
	if hooks, err := l.Webhooks(t.Context(), "B", "c1"); err != nil || len(hooks) != 0 {
		t.Fatalf("B got A's webhooks: %v, %v", hooks, err)
	}
	if hooks, err := l.WebhookCalls(t.Context(), "B", 0); err != nil || len(hooks) != 0 {
		t.Fatalf("B's webhook calls: %v, %v", hooks, err)
	}
}

func TestCallLogInvalid(t *testing.T) {
	t.Parallel()
	l := tempCallLog(t)
	if err := l.SaveCall(t.Context(), store.CallRecord{ID: "c"}); err == nil {
		t.Error("SaveCall without account: no error")
	}
	if err := l.SaveCall(t.Context(), store.CallRecord{AccountID: "a"}); err == nil {
		t.Error("SaveCall without id: no error")
	}
	if err := l.AddWebhook(t.Context(), store.WebhookRecord{AccountID: "a"}); err == nil {
		t.Error("AddWebhook without call: no error")
	}
	if _, err := sqlite.OpenCallLog(t.Context(), "", nil); err == nil {
		t.Error("OpenCallLog(\"\"): no error")
	}
	// Odd but valid input is stored as is.
	odd := store.CallRecord{AccountID: "a'; DROP TABLE calls; --", ID: "\x00é?#%",
		Started: time.Unix(0, 0).UTC()}
	saveCall(t, l, odd)
	got, err := l.GetCall(t.Context(), odd.AccountID, odd.ID)
	if err != nil || !reflect.DeepEqual(got, odd) {
		t.Fatalf("odd call: got %+v, %v", got, err)
	}
}

func TestCallLogReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dir ?#%", "calllog.db")
	if _, err := sqlite.OpenCallLog(t.Context(), path, nil); err == nil {
		t.Fatal("open in a missing directory: no error")
	}
	path = filepath.Join(t.TempDir(), "call log ?#%.db")
	l, err := sqlite.OpenCallLog(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := call("a", "c1", base)
	c.Trace = []byte("trace")
	saveCall(t, l, c)
	addWebhook(t, l, store.WebhookRecord{AccountID: "a", CallID: "c1", Iteration: 1, Started: base})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = openCallLog(t, path)
	got, err := l.GetCall(t.Context(), "a", "c1")
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	if hooks, err := l.Webhooks(t.Context(), "a", "c1"); err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks after reopen: %v, %v", hooks, err)
	}
}

func TestCallLogConcurrent(t *testing.T) {
	t.Parallel()
	l := tempCallLog(t)
	const workers, calls = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for g := range workers {
		wg.Go(func() {
			account := fmt.Sprintf("acct%d", g%2)
			for i := range calls {
				c := call(account, fmt.Sprintf("g%d-c%d", g, i), base.Add(time.Duration(i)*time.Second))
				for _, err := range []error{
					l.SaveCall(t.Context(), c),
					l.AddWebhook(t.Context(), store.WebhookRecord{AccountID: account, CallID: c.ID,
						Iteration: 1, Started: c.Started}),
					func() error { c.Trace = []byte("done"); return l.SaveCall(t.Context(), c) }(),
				} {
					if err != nil {
						errs <- err
						return
					}
				}
				if _, err := l.ListCalls(t.Context(), account, 10); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for _, account := range []string{"acct0", "acct1"} {
		list, err := l.ListCalls(t.Context(), account, 1000)
		if err != nil {
			t.Fatal(err)
		}
		hooks, err := l.WebhookCalls(t.Context(), account, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(hooks) != len(list) {
			t.Fatalf("account %s: %d calls, %d webhook calls", account, len(list), len(hooks))
		}
		total += len(list)
	}
	if total != workers*calls {
		t.Fatalf("%d calls stored, want %d", total, workers*calls)
	}
}

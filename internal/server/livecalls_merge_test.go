package server

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/store/sqlite"
)

// TestLiveCallLogMerge: the calls in progress and the stored calls come
// out as one list in the call log's order (start, then id, newest first),
// cut at the log's limit; a call both in progress and stored (it ended
// between the two reads) is listed once, as stored; no account sees
// another's.
func TestLiveCallLogMerge(t *testing.T) {
	db, err := sqlite.OpenCallLog(t.Context(), filepath.Join(t.TempDir(), "calls.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	save := func(account, id string, start int) {
		t.Helper()
		if err := db.SaveCall(t.Context(), store.CallRecord{AccountID: account, ID: id, Started: at(start), Ended: at(start + 1), Trace: []byte("{}\n")}); err != nil {
			t.Fatal(err)
		}
	}
	live := newLiveCalls()
	running := func(account, id string, start int) {
		live.add(store.CallRecord{AccountID: account, ID: id, SIPCallID: "sip-" + id, Started: at(start).Add(123456 * time.Nanosecond)},
			call.NewTrace(nil, nil))
	}
	save("A", "a1", 1)
	save("A", "a3", 3)
	save("A", "a5", 5)
	save("B", "b4", 4)
	running("A", "a2", 2)
	running("A", "a6", 6)
	running("A", "a4x", 4)
	running("A", "a4y", 4) // same millisecond as a4x: the greater id first
	running("A", "a5", 5)  // ended and stored, not yet off the live list
	running("B", "b7", 7)
	l := liveCallLog{CallLog: db, live: live}

	ids := func(rs []store.CallRecord) []string {
		var out []string
		for _, r := range rs {
			s := r.ID
			if r.Ended.IsZero() {
				s += "*"
			}
			out = append(out, s)
		}
		return out
	}
	for _, tc := range []struct {
		account string
		limit   int
		want    []string
	}{
		{"A", 0, []string{"a6*", "a5", "a4y*", "a4x*", "a3", "a2*", "a1"}},
		{"A", 3, []string{"a6*", "a5", "a4y*"}},
		{"B", 10, []string{"b7*", "b4"}},
		{"C", 10, nil},
	} {
		got, err := l.ListCalls(t.Context(), tc.account, tc.limit)
		if err != nil || !slices.Equal(ids(got), tc.want) {
			t.Errorf("ListCalls(%s, %d) = %v %v, want %v", tc.account, tc.limit, ids(got), err, tc.want)
		}
		for _, r := range got {
			if r.AccountID != tc.account {
				t.Errorf("ListCalls(%s) has %s's call %s", tc.account, r.AccountID, r.ID)
			}
		}
	}
	if r, err := l.GetCall(t.Context(), "A", "sip-a2"); err != nil || r.ID != "a2" || !r.Ended.IsZero() || r.Started.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("GetCall by SIP Call-ID: %+v %v", r, err)
	}
	for _, id := range []string{"a2", "sip-a2", "a1"} {
		if _, err := l.GetCall(t.Context(), "B", id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B got A's call %s: %v", id, err)
		}
	}
	for _, id := range []string{"a2", "a6", "a4x", "a4y", "a5"} {
		live.remove("A", id)
	}
	live.remove("B", "b7")
	live.remove("B", "none")
	if n := live.count(); n != 0 || len(live.byAccount) != 0 {
		t.Errorf("%d calls, %d accounts left", n, len(live.byAccount))
	}
}

// BenchmarkLiveCalls: what listing a call in progress costs a call (add
// and remove), with as many others running.
func BenchmarkLiveCalls(b *testing.B) {
	live := newLiveCalls()
	tr := call.NewTrace(nil, nil)
	for i := range 2000 {
		live.add(store.CallRecord{AccountID: "A", ID: fmt.Sprint("other", i)}, tr)
	}
	rec := store.CallRecord{AccountID: "A", ID: "c", Started: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		live.add(rec, tr)
		live.remove("A", "c")
	}
}

// TestLiveCallsDue: the sweep takes each call older than the cutoff once,
// never one whose final row is being written; a call's end returns the
// channel of its row being written, so that the final row waits for it.
func TestLiveCallsDue(t *testing.T) {
	live := newLiveCalls()
	t0 := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	for i, id := range []string{"old", "ending", "young"} {
		live.add(store.CallRecord{AccountID: "A", ID: id, Started: t0.Add(time.Duration(i) * time.Second)}, call.NewTrace(nil, nil))
	}
	if ch := live.end("A", "ending"); ch != nil {
		t.Fatalf("end of an unmarked call: %v", ch)
	}
	due := live.due(t0.Add(1500 * time.Millisecond))
	if len(due) != 1 || due[0].rec.ID != "old" {
		t.Fatalf("due %v", due)
	}
	if again := live.due(t0.Add(time.Hour)); len(again) != 1 || again[0].rec.ID != "young" {
		t.Fatalf("second sweep %v", again)
	}
	marked := live.end("A", "old")
	if marked == nil {
		t.Fatal("end of a call being marked: no channel to wait on")
	}
	select {
	case <-marked:
		t.Fatal("marked before its row was written")
	default:
	}
	close(due[0].marked)
	<-marked
	if live.end("B", "old") != nil || live.end("A", "none") != nil {
		t.Error("end of another account's or an unknown call")
	}
}

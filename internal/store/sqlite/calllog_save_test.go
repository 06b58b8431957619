package sqlite_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

// TestCallLogEveryFieldBack: a call saved as the server saves it comes back
// field by field, trace included, by its CallSid and by its SIP Call-ID
// (the newest call of that Call-ID), and the listing has it without its
// trace.
func TestCallLogEveryFieldBack(t *testing.T) {
	t.Parallel()
	l := tempCallLog(t)
	want := store.CallRecord{
		ID: "CA0123456789abcdef0123456789abcdef", SIPCallID: "3f2a9c@127.0.0.1", AccountID: "acct",
		CallflowID: "cf1", From: "sipp", To: "1000", Started: base, Ended: base.Add(1002 * time.Millisecond),
		HangupCause: "NORMAL_CLEARING", HangupBy: "switchboard", Debug: true,
		Trace: []byte(`{"op":"route","t_ms":0,"number":"1000","callflow_id":"cf1","pattern":""}
{"op":"answer","t_ms":1}
{"op":"play","t_ms":1,"url":"/tmp/prompt1s.wav","loop":1}
{"op":"hangup","t_ms":1002,"cause":"NORMAL_CLEARING","by":"switchboard"}
`),
	}
	older := want
	older.ID, older.Started, older.Ended, older.Trace = "CAolder", base.Add(-time.Hour), base.Add(-time.Hour), []byte("x\n")
	saveCall(t, l, older)
	saveCall(t, l, want)
	for _, key := range []string{want.ID, want.SIPCallID} {
		got, err := l.GetCall(t.Context(), "acct", key)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("get %s:\n got %+v\nwant %+v", key, got, want)
		}
	}
	list, err := l.ListCalls(t.Context(), "acct", 0)
	if err != nil {
		t.Fatal(err)
	}
	noTrace := want
	noTrace.Trace = nil
	if len(list) != 2 || !reflect.DeepEqual(list[0], noTrace) {
		t.Errorf("listed %+v\nwant first %+v", list, noTrace)
	}
}

// TestCallLogPruneTies: calls that started in the same millisecond are
// kept or pruned by id (the listing's order), Debug calls stay, and an
// account without exchanges is pruned like one with them.
func TestCallLogPruneTies(t *testing.T) {
	t.Parallel()
	l := tempCallLog(t)
	// Four calls a second, twelve in all: c00 … c11, c05 Debug.
	for i := range 12 {
		c := call("a", fmt.Sprintf("c%02d", i), base.Add(time.Duration(i/4)*time.Second))
		c.Debug = i == 5
		saveCall(t, l, c)
	}
	if err := l.Prune(t.Context(), 6); err != nil {
		t.Fatal(err)
	}
	list, err := l.ListCalls(t.Context(), "a", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"c11", "c10", "c09", "c08", "c07", "c06", "c05"}
	if got := callIDs(list); !slices.Equal(got, want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
	// Pruning again changes nothing.
	if err := l.Prune(t.Context(), 6); err != nil {
		t.Fatal(err)
	}
	if list, _ := l.ListCalls(t.Context(), "a", 0); !slices.Equal(callIDs(list), want) {
		t.Fatalf("second prune kept %v, want %v", callIDs(list), want)
	}
}

// TestCallLogNoSIPCallIDIndex: migration 0003 drops the index no query
// used.
func TestCallLogNoSIPCallIDIndex(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "calllog.db")
	l := openCallLog(t, path)
	saveCall(t, l, call("a", "c1", base))
	var n int
	if err := raw(t, path).QueryRowContext(t.Context(),
		`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'calls_sip_call_id'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("calls_sip_call_id still there")
	}
}

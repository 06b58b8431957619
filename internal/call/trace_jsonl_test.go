package call_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/switchboard/switchboard/internal/call"
)

// TestJSONLIsEachEventsJSON: the call log's JSONL is each event's own
// JSON (MarshalJSON, no HTML escaping), one a line, whatever the fields
// hold: nested values, HTML characters, an op that needs escaping, none.
func TestJSONLIsEachEventsJSON(t *testing.T) {
	tr := call.NewTrace(nil, nil)
	tr.Add("route", "number", "1000", "callflow_id", "abc", "pattern", "")
	tr.Add("answer")
	tr.Add("say", "text", `<Say> & "quotes" \ é 😀`, "voice", "woman")
	tr.AddFields("gather", map[string]any{"n": 3, "ok": true, "list": []any{1, "a", nil}, "nested": map[string]any{"b": 2, "a": 1}})
	tr.Add("Weird<op>")
	tr.Add("hangup", "cause", "NORMAL_CLEARING", "by", "switchboard")
	var want bytes.Buffer
	for _, e := range tr.Events() {
		var line bytes.Buffer
		enc := json.NewEncoder(&line)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
		want.Write(line.Bytes())
	}
	if got := tr.JSONL(); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("JSONL:\n%s\nwant:\n%s", got, want.Bytes())
	}
}

// FuzzJSONLField: whatever a string field or key holds (control bytes,
// invalid UTF-8, U+2028, HTML, quotes), JSONL writes what encoding/json
// writes for the event, and the line reads back to the same value.
func FuzzJSONLField(f *testing.F) {
	for _, s := range []string{"", "plain", "a\"b", `back\slash`, "tab\there", "nl\n", "\x00\x1f\x7f", "é", "\u2028\u2029", "\xff\xfe", "<&>", "😀"} {
		f.Add(s, s+"k", int64(len(s)))
	}
	f.Fuzz(func(t *testing.T, v, k string, n int64) {
		tr := call.NewTrace(nil, nil)
		tr.AddFields("say", map[string]any{"text": v, k: n, "b": n%2 == 0, "f": float64(n) / 3, "u": uint8(n), "nil": nil})
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		for _, e := range tr.Events() {
			if err := enc.Encode(e); err != nil {
				t.Fatal(err)
			}
		}
		got := tr.JSONL()
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("JSONL:\n%q\nwant:\n%q", got, want.Bytes())
		}
		var e call.Event
		if err := json.Unmarshal(bytes.TrimSpace(got), &e); err != nil {
			t.Fatalf("line %q does not read back: %v", got, err)
		}
	})
}

// TestJSONLAllocs: the call log's JSONL of a typical call costs a few
// allocations, not a few per line.
func TestJSONLAllocs(t *testing.T) {
	tr := call.NewTrace(nil, nil)
	tr.Add("route", "number", "1000", "callflow_id", "0123456789abcdef", "pattern", "")
	tr.Add("answer")
	tr.Add("play", "media", "/tmp/prompt.wav", "loop", 1, "duration", 1.02)
	tr.Add("hangup", "cause", "NORMAL_CLEARING", "by", "switchboard")
	if n := testing.AllocsPerRun(50, func() { tr.JSONL() }); n > 12 {
		t.Errorf("JSONL: %.0f allocations, want at most 12", n)
	}
}

package call_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

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

// TestTraceCompactLines: lines added as strings, as key/value pairs and
// as maps read back the same through Events, JSONL and the last-line
// helpers; a key given twice keeps its last value, as a map does.
func TestTraceCompactLines(t *testing.T) {
	tr := call.NewTrace(nil, nil)
	tr.AddStrings("route", "number", "1000", "callflow_id", "abc", "pattern", "")
	tr.Add("module", "node", "flow", "module", "play", "node", "flow.children._")
	tr.Add("play", "loop", 1, "url", "/p.wav", "seconds", 1.5, "n", int64(3), "u", uint8(2), "named", time.Second)
	tr.AddStrings("odd", "key")
	for i := range 20 { // past the inline room
		tr.Add("set", "key", "k", "value", strconv.Itoa(i))
	}
	tr.AddStrings("hangup", "cause", "NORMAL_CLEARING", "by", "switchboard")
	tr.AddStrings("after", "x", "y") // dropped: hangup is the last line
	ev := tr.Events()
	if len(ev) != 25 || tr.Len() != 25 {
		t.Fatalf("%d events (Len %d), want 25", len(ev), tr.Len())
	}
	want := map[string]any{"loop": 1, "url": "/p.wav", "seconds": 1.5, "n": int64(3), "u": uint8(2), "named": time.Second}
	if !reflect.DeepEqual(ev[2].Fields, want) {
		t.Errorf("play fields %#v, want %#v", ev[2].Fields, want)
	}
	if got := ev[1].Fields; !reflect.DeepEqual(got, map[string]any{"module": "play", "node": "flow.children._"}) {
		t.Errorf("module fields %v: the last value of a key given twice wins", got)
	}
	if got := ev[3].Fields; got == nil || len(got) != 0 {
		t.Errorf("a line with no fields has %#v, want an empty map", got)
	}
	if got := ev[23].Fields["value"]; got != "19" {
		t.Errorf("set line 20 value %v", got)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, e := range ev {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	if got := tr.JSONL(); !bytes.Equal(got, buf.Bytes()) {
		t.Errorf("JSONL:\n%s\nwant:\n%s", got, buf.Bytes())
	}
	if v, ok := tr.LastField("cause"); !ok || v != "NORMAL_CLEARING" {
		t.Errorf("LastField(cause) = %v, %v", v, ok)
	}
	if _, ok := tr.LastField("nope"); ok {
		t.Error("LastField found a key the line lacks")
	}
	if tr.LastTMS() != ev[len(ev)-1].TMS {
		t.Errorf("LastTMS %d, want %d", tr.LastTMS(), ev[len(ev)-1].TMS)
	}
	ops, n := tr.OpsSince(23)
	if n != 25 || !reflect.DeepEqual(ops, []string{"set", "hangup"}) {
		t.Errorf("OpsSince(23) = %v, %d", ops, n)
	}
	if ops, n := tr.OpsSince(99); n != 25 || len(ops) != 0 {
		t.Errorf("OpsSince(99) = %v, %d", ops, n)
	}
}

// TestTraceAllocs: a short call's trace (route, module, answer, play,
// hangup) and its JSONL cost a few allocations, not a map per line.
func TestTraceAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("instrumented builds allocate more")
	}
	number, flow, module, node, cause := "1000", "0123456789abcdef", "play", "flow", "NORMAL_CLEARING"
	n := testing.AllocsPerRun(100, func() {
		tr := call.NewTrace(nil, nil)
		tr.AddStrings("route", "number", number, "callflow_id", flow, "pattern", "")
		tr.AddStrings("module", "module", module, "node", node)
		tr.AddStrings("answer")
		tr.AddStrings("play", "url", "/tmp/prompt.wav")
		tr.AddStrings("hangup", "cause", cause, "by", call.HangupBySwitchboard)
		tr.JSONL()
	})
	if n > 3 {
		t.Errorf("a short call's trace: %.0f allocations, want at most 3", n)
	}
}

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

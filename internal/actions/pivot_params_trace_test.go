package actions

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/switchboard/switchboard/internal/pivot"
)

// oldParamsObject is the map the webhook line's params were before
// tracedParams: the reference its encoding is held to.
func oldParamsObject(ps pivot.Params) map[string]any {
	out := make(map[string]any, len(ps))
	for _, p := range ps {
		if p.Value != nil {
			out[p.Key] = p.Value
		}
	}
	return out
}

type stringer struct{ S string }

func (s stringer) String() string { return s.S }

// A webhook line's params encode byte for byte as the map they replace
// did, with HTML escaping on and off: repeated keys (the last wins), nil
// values, nested maps, HTML and non-ASCII text, numbers, booleans,
// Stringers, and a value encoding/json cannot encode.
func TestTracedParamsMatchMap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	keys := []string{"CallSid", "From", "Digits", "Digits[pin]", "<b>&", "é", "", "To", "ApiVersion"}
	vals := []any{"", "+15555550100", "<script>&amp;", "é\u2028\x01", 7, int64(-3), 2.5, true, nil,
		map[string]any{"pin": "1234", "x": nil, "<": 1}, map[string]string{"X-Ticket": "T-42"}, json.Number("12"), stringer{"s"}}
	for i := range 3000 {
		var ps pivot.Params
		for range r.IntN(25) {
			ps = append(ps, pivot.Param{Key: keys[r.IntN(len(keys))], Value: vals[r.IntN(len(vals))]})
		}
		for _, html := range []bool{false, true} {
			got, gerr := encodeEscaped(paramsObject(ps), html)
			want, werr := encodeEscaped(oldParamsObject(ps), html)
			if got != want || (gerr == nil) != (werr == nil) {
				t.Fatalf("case %d (html %v) %v:\n got %s (%v)\nwant %s (%v)", i, html, ps, got, gerr, want, werr)
			}
		}
	}
	if _, err := json.Marshal(paramsObject(pivot.Params{{Key: "C", Value: make(chan int)}})); err == nil {
		t.Error("a value json cannot encode: no error")
	}
}

func encodeEscaped(v any, html bool) (string, error) {
	b, err := json.Marshal(map[string]any{"params": v})
	if !html {
		var buf jsonBuffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		err = enc.Encode(map[string]any{"params": v})
		b = buf.b
	}
	return string(b), err
}

type jsonBuffer struct{ b []byte }

func (j *jsonBuffer) Write(p []byte) (int, error) { j.b = append(j.b, p...); return len(p), nil }

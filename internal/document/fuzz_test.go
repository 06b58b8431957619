package document_test

import (
	"bytes"
	"testing"

	"github.com/switchboard/switchboard/internal/document"
)

// FuzzPrepare feeds any body to any kind: it never panics, and what it
// stores prepares again to the same bytes (so a GET, edit, POST round
// trip, an export and an import change nothing by themselves). The seed
// corpus is in testdata/fuzz/FuzzPrepare.
func FuzzPrepare(f *testing.F) {
	kinds := document.Kinds()
	for i, k := range kinds {
		for _, b := range fixtures(f)[k.Name] {
			f.Add(byte(i), b)
		}
	}
	f.Fuzz(func(t *testing.T, which byte, body []byte) {
		k := kinds[int(which)%len(kinds)]
		c := &document.Context{AccountID: "acct"}
		w, err := k.Prepare(c, body, "doc1")
		if err != nil {
			return
		}
		prev, err := document.Decode(w.Body)
		if err != nil {
			t.Fatalf("%s: stored body does not decode: %v\n%s", k.Name, err, w.Body)
		}
		again, err := k.Prepare(&document.Context{AccountID: "acct", Previous: prev}, w.Body, "doc1")
		if err != nil {
			t.Fatalf("%s: stored body refused on a second save: %v\n%s", k.Name, err, w.Body)
		}
		if !bytes.Equal(again.Body, w.Body) {
			t.Fatalf("%s: second save changed the document:\n%s\n%s", k.Name, w.Body, again.Body)
		}
		_ = k.Answer(w.Body)
		_ = k.Row(again.Doc)
	})
}

package server_test

import (
	"testing"

	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/servertest"
	"github.com/switchboard/switchboard/internal/store"
)

// TestIndexesFollowStoreWrites: a flow written straight to the store (as
// an import does) is routed and compiled at once, and forgotten when
// deleted, with no API call in between and no read per call.
func TestIndexesFollowStoreWrites(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	docs := s.Server.Store().(store.Documents)
	k, _ := document.Lookup("callflows")
	w, err := k.Prepare(&document.Context{AccountID: s.AccountID}, []byte(`{"name":"direct","numbers":["7070"],"flow":{"module":"tts","data":{"text":"hi"}}}`), "direct1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := docs.ApplyDocs(t.Context(), []store.DocWrite{w}); err != nil {
		t.Fatal(err)
	}
	m, ok := s.Server.Router().Route(s.AccountID, "7070")
	if !ok || m.CallflowID != "direct1" {
		t.Fatalf("route after the write: %+v %v", m, ok)
	}
	if _, err := docs.DeleteDoc(t.Context(), "callflows", s.AccountID, "direct1", "", false); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Server.Router().Route(s.AccountID, "7070"); ok {
		t.Error("still routed after the delete")
	}
}

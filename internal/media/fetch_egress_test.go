package media

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/switchboard/switchboard/internal/egress"
)

// TestFetchUnderEgressPolicy: a tenant's <Play> of a loopback URL is
// refused, even when the operator's account fetched the same URL a moment
// before (the cache is kept per policy class), and the operator's still
// plays.
func TestFetchUnderEgressPolicy(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "audio/x-wav")
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(tone(0.2))
	}))
	defer srv.Close()
	pol := egress.New(egress.Config{DefaultAccount: "op"})
	m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: 20000, PortMax: 29999, Egress: pol}, nil)
	if err != nil {
		t.Fatal(err)
	}
	as := func(account string) context.Context { return egress.WithAccount(t.Context(), account) }
	if _, err := m.fetch(as("op"), srv.URL+"/secret.wav"); err != nil {
		t.Fatalf("operator: %v", err)
	}
	for range 2 {
		if _, err := m.fetch(as("tenant"), srv.URL+"/secret.wav"); !errors.Is(err, egress.ErrRefused) {
			t.Errorf("tenant: %v, want refused by the egress policy", err)
		}
	}
	if _, err := m.fetch(as("op"), srv.URL+"/secret.wav"); err != nil {
		t.Fatalf("operator again: %v", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d requests reached the server, want the operator's one (then its cache)", n)
	}
}

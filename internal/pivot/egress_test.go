package pivot

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/egress"
)

// TestRefusedByEgressPolicy: a target the account may not reach fails at
// once with 11200 naming the policy, is never retried, and keeps no
// answer; the operator's account reaches it through the same client.
func TestRefusedByEgressPolicy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte("<Response><Say>secret</Say></Response>"))
	}))
	defer srv.Close()
	c := NewClient(Config{Transport: egress.New(egress.Config{DefaultAccount: "op"}).Transport(nil)})
	r := Request{URL: strings.Replace(srv.URL, "http://", "http://bob:pw@", 1), Method: "POST", Retries: 3}

	resp, ex, err := c.Do(egress.WithAccount(context.Background(), "tenant"), r)
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != CodeRefused || !errors.Is(err, egress.ErrRefused) {
		t.Fatalf("tenant: %v, want 11200 refused by the egress policy", err)
	}
	if resp != nil || ex.Attempts != 1 || ex.ResponseBody != "" || strings.Contains(ex.URL+ex.Err, "pw@") {
		t.Errorf("tenant: resp %v, exchange %+v", resp, ex)
	}
	if resp, _, err := c.Do(egress.WithAccount(context.Background(), "op"), r); err != nil || !strings.Contains(string(resp.Body), "secret") {
		t.Errorf("operator: %v", err)
	}
}

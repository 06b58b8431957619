package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

// The endpoint tests are tables of servertest.APIScenario, one file per
// endpoint file (callflows_test.go beside callflows.go …); this file holds
// their shared fixtures and the routes of api.go itself.

// data wraps a document in Kazoo's request envelope.
func data(v map[string]any) map[string]any { return map[string]any{"data": v} }

// pivotFlow is a call flow of one pivot node answering numbers.
func pivotFlow(name string, numbers ...string) map[string]any {
	return data(map[string]any{
		"name":    name,
		"numbers": numbers,
		"flow": map[string]any{
			"module": "pivot",
			"data":   map[string]any{"voice_url": "https://example.com/voice", "method": "POST", "req_format": "twiml"},
		},
	})
}

// create stores a call flow of the default account and returns the answer.
func create(t testing.TB, s *servertest.Server, body any) map[string]any {
	t.Helper()
	status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, body)
	if status != http.StatusCreated {
		t.Fatalf("create: status %d: %v", status, env)
	}
	return env
}

// errorAt reports whether an error answer names rule at path.
func errorAt(env map[string]any, path, rule string) bool {
	d, _ := env["data"].(map[string]any)
	rules, _ := d[path].(map[string]any)
	_, ok := rules[rule]
	return ok
}

// listLen checks the length of an answer's data list.
func listLen(want int) func(t testing.TB, s *servertest.Server, r servertest.Response) {
	return func(t testing.TB, s *servertest.Server, r servertest.Response) {
		t.Helper()
		if items, _ := r.Get(t, "data").([]any); len(items) != want {
			t.Errorf("%d items, want %d: %s", len(items), want, r.Body)
		}
	}
}

// withRevision is body with the revision it was based on.
func withRevision(body map[string]any, rev string) map[string]any {
	out := map[string]any{"revision": rev}
	for k, v := range body {
		out[k] = v
	}
	return out
}

// stringAt checks that a path of the answer prints as want.
func stringAt(t testing.TB, r servertest.Response, path, want string) {
	t.Helper()
	if got := fmt.Sprint(r.Get(t, path)); got != want {
		t.Errorf("%s = %s, want %s: %s", path, got, want, r.Body)
	}
}

// equalAt checks the JSON value at a path of the answer (numbers are
// float64, as encoding/json decodes them).
func equalAt(t testing.TB, r servertest.Response, path string, want any) {
	t.Helper()
	if got := r.Get(t, path); got != want {
		t.Errorf("%s = %v, want %v: %s", path, got, want, r.Body)
	}
}

func TestServiceRoutes(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "health needs no token", Method: "GET", URL: "/healthz", Token: "-", ExpectedStatus: 200,
			ExpectedContent: []string{`"ok":true`, `"status":"success"`}},
		{Name: "openapi needs no token", Method: "GET", URL: "/v2/openapi.json", Token: "-", ExpectedStatus: 200,
			ExpectedContent: []string{`"openapi"`}},
		{Name: "unknown path", Method: "GET", URL: "/v2/nothing", Token: "-", ExpectedStatus: 404,
			ExpectedContent: []string{`"status":"error"`}},
		{Name: "verb tunnelling", Method: "POST", URL: "/v2/accounts/{account}/callflows?verb=GET", ExpectedStatus: 200,
			ExpectedContent: []string{`"data":[]`}},
	})
}

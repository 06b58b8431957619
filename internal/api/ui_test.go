package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

// hasHeaders checks the security headers every answer carries; csp is a
// part of the Content-Security-Policy it must hold.
func hasHeaders(csp string) func(t testing.TB, s *servertest.Server, r servertest.Response) {
	return func(t testing.TB, s *servertest.Server, r servertest.Response) {
		t.Helper()
		for k, want := range map[string]string{
			"X-Frame-Options":        "DENY",
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
		} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("%s: %q, want %q", k, got, want)
			}
		}
		got := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(got, csp) || !strings.Contains(got, "frame-ancestors 'none'") || strings.Contains(got, "unsafe-inline") {
			t.Errorf("Content-Security-Policy %q: want %q, frame-ancestors 'none', no unsafe-inline", got, csp)
		}
	}
}

// TestFrontDoor: the configurator and the API answer with headers that
// stop framing, sniffing and referrer leaks; a path that is neither API
// nor UI is a 404, not the UI page (issue 12: /metrics and /debug/pprof/
// answered 200).
func TestFrontDoor(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	const page = "<sb-app>"
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "the UI page", Method: "GET", URL: "/", Token: "-", ExpectedStatus: 200, ExpectedContent: []string{page},
			After: hasHeaders("script-src 'self'")},
		{Name: "a call flow's page", Method: "GET", URL: "/callflows/0123abcd", Token: "-", ExpectedStatus: 200,
			ExpectedContent: []string{page}, After: hasHeaders("script-src 'self'")},
		{Name: "a new call flow's page", Method: "GET", URL: "/callflows/new", Token: "-", ExpectedStatus: 200, ExpectedContent: []string{page}},
		{Name: "a script", Method: "GET", URL: "/js/main.js", Token: "-", ExpectedStatus: 200, ExpectedContent: []string{"import"},
			After: hasHeaders("default-src 'none'")},
		{Name: "the style sheet", Method: "GET", URL: "/app.css", Token: "-", ExpectedStatus: 200, After: hasHeaders("default-src 'none'")},
		{Name: "an API answer", Method: "GET", URL: "/v2/accounts/{account}", ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				hasHeaders("default-src 'none'")(t, s, r)
				if got := r.Header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control %q, want no-store", got)
				}
			}},
		{Name: "a token is never cached", Method: "PUT", URL: apiAuth, Token: "-", Body: data(map[string]any{"api_key": servertest.AdminKey}), ExpectedStatus: 201,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				if got := r.Header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control %q, want no-store", got)
				}
			}},
		{Name: "an API error", Method: "GET", URL: "/v2/accounts/{account}", Token: "-", ExpectedStatus: 401, After: hasHeaders("default-src 'none'")},
		{Name: "health", Method: "GET", URL: "/healthz", Token: "-", ExpectedStatus: 200, After: hasHeaders("default-src 'none'")},
		{Name: "metrics only to the operator, never the UI page", Method: "GET", URL: "/metrics", Token: "-", ExpectedStatus: 401, NotExpectedContent: []string{page},
			After: hasHeaders("default-src 'none'")},
		{Name: "nor the profiler", Method: "GET", URL: "/debug/pprof/", Token: "-", ExpectedStatus: 404, NotExpectedContent: []string{page}},
		{Name: "nor a dot file", Method: "GET", URL: "/.env", Token: "-", ExpectedStatus: 404, NotExpectedContent: []string{page}},
		{Name: "nor a deeper UI-looking path", Method: "GET", URL: "/callflows/x/y", Token: "-", ExpectedStatus: 404, NotExpectedContent: []string{page}},
		{Name: "no directory listing", Method: "GET", URL: "/js/", Token: "-", ExpectedStatus: 404, NotExpectedContent: []string{"main.js"}},
		{Name: "no write to the UI", Method: "POST", URL: "/", Token: "-", Body: "x", ExpectedStatus: http.StatusMethodNotAllowed},
	})
}

// TestUIAssetsCompressedAndCached: the configurator's files go gzip'd to a
// browser that accepts it, carry an ETag, and a repeat visit with that tag
// costs a 304 without a body; the directory pages are the app's own.
func TestUIAssetsCompressedAndCached(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	gz := http.Header{"Accept-Encoding": {"gzip, br"}}
	r := s.DoResponse("GET", "/js/editor.js", "-", nil, gz)
	if r.Status != 200 || r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("status %d, Content-Encoding %q, Vary %q: want 200 gzip", r.Status, r.Header.Get("Content-Encoding"), r.Header.Get("Vary"))
	}
	if len(r.Body) < 2 || r.Body[0] != 0x1f || r.Body[1] != 0x8b {
		t.Fatal("body is not gzip")
	}
	etag := r.Header.Get("ETag")
	if etag == "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("ETag %q, Content-Type %q", etag, r.Header.Get("Content-Type"))
	}
	plain := s.DoResponse("GET", "/js/editor.js", "-", nil, http.Header{"Accept-Encoding": {"identity"}})
	if plain.Header.Get("Content-Encoding") != "" || !strings.Contains(string(plain.Body), "import") {
		t.Fatalf("without gzip: Content-Encoding %q", plain.Header.Get("Content-Encoding"))
	}
	again := s.DoResponse("GET", "/js/editor.js", "-", nil, http.Header{"If-None-Match": {etag}})
	if again.Status != http.StatusNotModified || len(again.Body) != 0 {
		t.Fatalf("revalidation: %d with %d bytes, want 304 and none", again.Status, len(again.Body))
	}
	for _, p := range []string{"/users", "/media/abc", "/calls", "/calls/x1", "/numbers", "/temporal_rules", "/trunks", "/resources"} {
		if r := s.DoResponse("GET", p, "-", nil, nil); r.Status != 200 || !strings.Contains(string(r.Body), "<sb-app>") {
			t.Errorf("%s: %d, want the app's page", p, r.Status)
		}
	}
}

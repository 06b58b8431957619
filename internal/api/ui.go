package api

import (
	"io/fs"
	"net/http"
	"regexp"
	"strings"

	"github.com/switchboard/switchboard/web"
)

// The headers every answer carries, so neither the configurator nor an API
// answer can be framed (clickjacking), sniffed into another type, or leak
// its URL (which may hold ids) to another site.
const (
	// uiCSP is the configurator's policy: its own scripts, styles, images
	// and API only; no inline script or style attribute, no plugin, no
	// framing. The UI is written to pass it (a browser test holds it).
	uiCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; media-src 'self'; manifest-src 'self'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	// apiCSP is for everything else: JSON and errors load nothing.
	apiCSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

func setSecurityHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// clientRoute matches the configurator's own paths, which the single-page
// app routes itself: "/" and "/callflows/{id}" (or "/callflows/new").
var clientRoute = regexp.MustCompile(`^/(callflows/[^/]+)?$`)

// uiHandler serves the configurator: its files as they are, index.html for
// the app's own routes, and 404 for anything else (so /metrics or
// /debug/pprof/ never look served, and no directory is listed).
func uiHandler() http.Handler {
	files := web.FS()
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header(), uiCSP)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := strings.TrimPrefix(r.URL.Path, "/")
		if p != "" {
			info, err := fs.Stat(files, p)
			switch {
			case err == nil && !info.IsDir():
			case clientRoute.MatchString(r.URL.Path):
				r = r.Clone(r.Context())
				r.URL.Path = "/"
			default:
				http.NotFound(w, r)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})
}

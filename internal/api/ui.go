package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

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
		"connect-src 'self'; font-src 'self'; media-src 'self' blob:; manifest-src 'self'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	// apiCSP is for everything else: JSON and errors load nothing.
	apiCSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

// SetAPIHeaders gives an answer that is not the API's own (the server's
// /metrics) the headers every API answer carries: a CSP that loads
// nothing, no framing, no sniffing, no referrer, no caching.
func SetAPIHeaders(h http.Header) {
	setSecurityHeaders(h, apiCSP)
	h.Set("Cache-Control", "no-store")
}

func setSecurityHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// clientRoute matches the configurator's own paths, which the single-page
// app routes itself: "/", "/callflows/{id}" (or "/callflows/new"), the
// directory pages ("/users", "/media" …, "/users/{id}") and the call log
// ("/calls", "/calls/{id}").
var clientRoute = regexp.MustCompile(`^/((callflows|users|devices|groups|media|vmboxes|conferences|temporal_rules|numbers|trunks|resources|calls)(/[^/]+)?)?$`)

// asset is one configurator file, read once from the embedded tree: its
// bytes, their gzip form when that is smaller, and a strong ETag of the
// content, so a browser revalidates with a 304 instead of loading again.
type asset struct {
	body, gz []byte
	etag     string
	ctype    string
}

// uiAssets are the configurator's files by path ("index.html", "js/app.js"),
// compressed and hashed on first use.
var uiAssets = sync.OnceValue(func() map[string]*asset {
	files := web.FS()
	out := map[string]*asset{}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a := &asset{body: b, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		a.ctype = mime.TypeByExtension(path.Ext(p))
		if a.ctype == "" {
			a.ctype = http.DetectContentType(b)
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		if buf.Len() < len(b) {
			a.gz = buf.Bytes()
		}
		out[p] = a
		return nil
	})
	return out
})

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0"
		}
	}
	return false
}

// etagMatches reports whether an If-None-Match header names etag (or *).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// uiHandler serves the configurator: its files as they are (gzip'd when the
// browser accepts it, with an ETag and revalidation), index.html for the
// app's own routes, and 404 for anything else (so /metrics or /debug/pprof/
// never look served, and no directory is listed).
func uiHandler() http.Handler {
	assets := uiAssets()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header(), uiCSP)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := strings.TrimPrefix(r.URL.Path, "/")
		a, ok := assets[p]
		if !ok {
			if !clientRoute.MatchString(r.URL.Path) {
				http.NotFound(w, r)
				return
			}
			a = assets["index.html"]
		}
		h := w.Header()
		// Files keep their names across versions (no build step), so the
		// browser keeps them but asks each time: a 304 costs no body.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		h.Set("Vary", "Accept-Encoding")
		h.Set("Content-Type", a.ctype)
		if etagMatches(r.Header.Get("If-None-Match"), a.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := a.body
		if a.gz != nil && acceptsGzip(r) {
			body = a.gz
			h.Set("Content-Encoding", "gzip")
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}

package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/wav"
)

// fetchManager is a Manager with only what fetch uses.
func fetchManager(client *http.Client, bytes int64, entries int) *Manager {
	if client == nil {
		client = defaultHTTPClient()
	}
	return &Manager{log: slog.New(slog.DiscardHandler), http: client, urls: newURLCache(bytes, entries, 0)}
}

// tone is n seconds of 8 kHz 16-bit WAV.
func tone(seconds float64) []byte {
	pcm := make([]int16, int(seconds*codec.Rate))
	for i := range pcm {
		pcm[i] = int16(i%40*400 - 8000)
	}
	return wav.Encode(pcm, codec.Rate)
}

func readAudio(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "audio", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFetchFormats(t *testing.T) {
	t.Parallel()
	mp3 := readAudio(t, "tone-1000hz-44100-mono-id3.mp3")
	files := map[string]struct {
		ct   string
		body []byte
	}{
		"/a.mp3":       {"audio/mpeg", mp3},
		"/sniffed.mp3": {"application/octet-stream", mp3},
		"/none":        {"", mp3},
		"/mislabel":    {"audio/mpeg", tone(0.5)},
		"/a.wav":       {"audio/x-wav", tone(0.5)},
		"/ulaw":        {"audio/basic; rate=8000", nil},
		"/html":        {"text/html; charset=utf-8", []byte("<html>Oops</html>")},
		"/aiff":        {"audio/aiff", []byte("FORM\x00\x00\x00\x04AIFF")},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if r.URL.Path == "/500" {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header()["Content-Type"] = []string{f.ct}
		w.Write(f.body)
	}))
	t.Cleanup(srv.Close)
	m := fetchManager(nil, 0, 0)
	for _, c := range []struct {
		path string
		secs float64 // decoded length, about
		err  error
		code int
	}{
		{"/a.mp3", 1, nil, 0},
		{"/sniffed.mp3", 1, nil, 0},
		{"/none", 1, nil, 0},
		{"/mislabel", 0.5, nil, 0},
		{"/a.wav", 0.5, nil, 0},
		{"/ulaw", 0, ErrUnsupportedFormat, CodeUnsupportedFormat}, // empty body
		{"/html", 0, ErrUnsupportedFormat, CodeUnsupportedFormat},
		{"/aiff", 0, ErrUnsupportedFormat, CodeUnsupportedFormat},
		{"/missing", 0, ErrNotFound, CodeFetchFailed},
		{"/500", 0, ErrFetch, CodeFetchFailed},
	} {
		p, err := m.fetch(t.Context(), srv.URL+c.path)
		if c.err != nil {
			if !errors.Is(err, c.err) || ErrorCode(err) != c.code {
				t.Errorf("%s: %v (code %d), want %v, code %d", c.path, err, ErrorCode(err), c.err, c.code)
			}
			if c.code/100 == 112 && !errors.Is(err, ErrFetch) {
				t.Errorf("%s: %v does not wrap ErrFetch", c.path, err)
			}
			if !strings.Contains(err.Error(), srv.URL+c.path) {
				t.Errorf("%s: %q does not name the URL", c.path, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if got := float64(len(p.pcm)) / codec.Rate; got < c.secs-0.01 || got > c.secs+0.1 {
			t.Errorf("%s: %.3f s decoded, want %.1f", c.path, got, c.secs)
		}
	}
}

func TestFetchNetworkErrorCodes(t *testing.T) {
	t.Parallel()
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/x.wav"
	ln.Close()
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
	}))
	t.Cleanup(loop.Close)
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler()) // a certificate nobody trusts
	t.Cleanup(tlsSrv.Close)
	m := fetchManager(nil, 0, 0)
	for _, c := range []struct {
		url  string
		code int
	}{
		{closed, CodeConnectionFailed},
		{loop.URL + "/r", CodeTooManyRedirects},
		{"http://no-such-host.invalid/x.mp3", CodeBadHost},
		{"http://[::1", CodeBadURL},
		{tlsSrv.URL + "/x.mp3", CodeTLSFailed},
	} {
		_, err := m.fetch(t.Context(), c.url)
		if !errors.Is(err, ErrFetch) || ErrorCode(err) != c.code {
			t.Errorf("%s: %v (code %d), want ErrFetch, code %d", c.url, err, ErrorCode(err), c.code)
		}
	}
}

// server is an httptest server for one media URL whose answers a test
// sets, counting requests and full bodies sent.
type server struct {
	*httptest.Server
	mu      sync.Mutex
	header  http.Header // sent with 200s and 304s
	body    []byte
	etag    string // answers a matching If-None-Match with 304
	lastMod string // answers a matching If-Modified-Since with 304
	gets    atomic.Int32
	bodies  atomic.Int32
	lastReq http.Header
}

func newServer(t *testing.T) *server {
	s := &server{header: http.Header{}, body: tone(0.25)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.gets.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.lastReq = r.Header.Clone()
		for k, v := range s.header {
			w.Header()[k] = v
		}
		if s.etag != "" {
			w.Header().Set("ETag", s.etag)
		}
		if s.lastMod != "" {
			w.Header().Set("Last-Modified", s.lastMod)
		}
		if (s.etag != "" && r.Header.Get("If-None-Match") == s.etag) ||
			(s.etag == "" && s.lastMod != "" && r.Header.Get("If-Modified-Since") == s.lastMod) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		s.bodies.Add(1)
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) set(f func(s *server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// clock is a settable time for the cache.
type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }

func cachedManager(t *testing.T) (*Manager, *clock) {
	m := fetchManager(nil, 0, 0)
	c := &clock{}
	c.t.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	m.urls.now = c.now
	return m, c
}

func fetchN(t *testing.T, m *Manager, url string, n int) *prompt {
	t.Helper()
	var p *prompt
	for range n {
		var err error
		if p, err = m.fetch(t.Context(), url); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestCacheControl(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name         string
		header       string
		wait         time.Duration
		gets, bodies int32
		entries      int
	}{
		{"max-age fresh", "public, max-age=60", 59 * time.Second, 1, 1, 1},
		{"max-age stale", "max-age=60", 61 * time.Second, 2, 2, 1},
		{"age counts", "max-age=60", 0, 1, 1, 1},
		{"no-store", "no-store", 0, 2, 2, 0},
		{"no-cache", "no-cache", 0, 2, 2, 1},
		{"s-maxage wins", "max-age=10, s-maxage=100", 50 * time.Second, 1, 1, 1},
		{"default ttl", "", DefaultMediaCacheTTL - time.Second, 1, 1, 1},
		{"default ttl over", "", DefaultMediaCacheTTL, 2, 2, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t)
			if c.header != "" {
				s.header.Set("Cache-Control", c.header)
			}
			if c.name == "age counts" {
				s.header.Set("Age", "60")
				c.gets, c.bodies = 2, 2
			}
			m, clk := cachedManager(t)
			fetchN(t, m, s.URL, 1)
			clk.advance(c.wait)
			fetchN(t, m, s.URL, 1)
			if s.gets.Load() != c.gets || s.bodies.Load() != c.bodies {
				t.Errorf("%d requests, %d bodies; want %d, %d", s.gets.Load(), s.bodies.Load(), c.gets, c.bodies)
			}
			if n, _ := m.MediaCacheStats(); n != c.entries {
				t.Errorf("%d entries, want %d", n, c.entries)
			}
		})
	}
}

func TestCacheExpires(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	date := time.Date(2020, 5, 1, 12, 0, 0, 0, time.UTC)
	s.header.Set("Date", date.Format(http.TimeFormat))
	s.header.Set("Expires", date.Add(10*time.Minute).Format(http.TimeFormat))
	m, clk := cachedManager(t)
	fetchN(t, m, s.URL, 2)
	clk.advance(9 * time.Minute) // relative to Date, not to our clock
	fetchN(t, m, s.URL, 1)
	if s.gets.Load() != 1 {
		t.Fatalf("%d requests within Expires, want 1", s.gets.Load())
	}
	clk.advance(2 * time.Minute)
	fetchN(t, m, s.URL, 1)
	if s.gets.Load() != 2 {
		t.Fatalf("%d requests after Expires, want 2", s.gets.Load())
	}
}

func TestCacheRevalidation(t *testing.T) {
	t.Parallel()
	t.Run("etag", func(t *testing.T) {
		t.Parallel()
		s := newServer(t)
		s.header.Set("Cache-Control", "no-cache")
		s.etag = `"v1"`
		m, _ := cachedManager(t)
		first := fetchN(t, m, s.URL, 3)
		if s.gets.Load() != 3 || s.bodies.Load() != 1 {
			t.Fatalf("%d requests, %d bodies; want 3 requests (2 revalidations), 1 body", s.gets.Load(), s.bodies.Load())
		}
		if got := s.lastReq.Get("If-None-Match"); got != `"v1"` {
			t.Errorf("If-None-Match %q", got)
		}
		// A new version replaces the entry.
		s.set(func(s *server) { s.etag, s.body = `"v2"`, tone(0.5) })
		p := fetchN(t, m, s.URL, 1)
		if p == first || len(p.pcm) != codec.Rate/2 {
			t.Errorf("changed media not replaced: %d samples", len(p.pcm))
		}
		if n, size := m.MediaCacheStats(); n != 1 || size != p.size() {
			t.Errorf("%d entries, %d bytes after replacement", n, size)
		}
	})
	t.Run("last-modified", func(t *testing.T) {
		t.Parallel()
		s := newServer(t)
		s.header.Set("Cache-Control", "max-age=0")
		s.lastMod = "Wed, 01 Jan 2025 00:00:00 GMT"
		m, _ := cachedManager(t)
		fetchN(t, m, s.URL, 2)
		if s.gets.Load() != 2 || s.bodies.Load() != 1 {
			t.Fatalf("%d requests, %d bodies; want 2, 1", s.gets.Load(), s.bodies.Load())
		}
		if got := s.lastReq.Get("If-Modified-Since"); got != s.lastMod {
			t.Errorf("If-Modified-Since %q", got)
		}
	})
	t.Run("304 refreshes max-age", func(t *testing.T) {
		t.Parallel()
		s := newServer(t)
		s.header.Set("Cache-Control", "max-age=10")
		s.etag = `"x"`
		m, clk := cachedManager(t)
		fetchN(t, m, s.URL, 1)
		clk.advance(11 * time.Second)
		fetchN(t, m, s.URL, 1) // 304, fresh for 10 s more
		clk.advance(5 * time.Second)
		fetchN(t, m, s.URL, 1)
		if s.gets.Load() != 2 || s.bodies.Load() != 1 {
			t.Fatalf("%d requests, %d bodies; want 2, 1", s.gets.Load(), s.bodies.Load())
		}
	})
	t.Run("stale on error", func(t *testing.T) {
		t.Parallel()
		s := newServer(t)
		s.header.Set("Cache-Control", "max-age=1")
		m, clk := cachedManager(t)
		first := fetchN(t, m, s.URL, 1)
		s.Close()
		clk.advance(time.Minute)
		if p := fetchN(t, m, s.URL, 1); p != first {
			t.Error("stale copy not played while the server is down")
		}
	})
	t.Run("must-revalidate on error", func(t *testing.T) {
		t.Parallel()
		s := newServer(t)
		s.header.Set("Cache-Control", "max-age=1, must-revalidate")
		m, clk := cachedManager(t)
		fetchN(t, m, s.URL, 1)
		s.Close()
		clk.advance(time.Minute)
		if _, err := m.fetch(t.Context(), s.URL); ErrorCode(err) != CodeConnectionFailed {
			t.Errorf("err = %v, want a connection failure", err)
		}
	})
}

func TestCacheEviction(t *testing.T) {
	t.Parallel()
	s := newServer(t) // every path: 0.25 s, 8 kB of prompt
	one := int64(codec.Rate / 4 * 4)
	t.Run("entries", func(t *testing.T) {
		m := fetchManager(nil, 0, 2)
		fetchN(t, m, s.URL+"/a", 1)
		fetchN(t, m, s.URL+"/b", 1)
		fetchN(t, m, s.URL+"/a", 1) // a is now the most recent
		fetchN(t, m, s.URL+"/c", 1) // evicts b
		before := s.gets.Load()
		fetchN(t, m, s.URL+"/a", 1)
		fetchN(t, m, s.URL+"/c", 1)
		if s.gets.Load() != before {
			t.Errorf("a or c was evicted")
		}
		fetchN(t, m, s.URL+"/b", 1)
		if s.gets.Load() != before+1 {
			t.Errorf("b was not evicted")
		}
		if n, size := m.MediaCacheStats(); n != 2 || size != 2*one {
			t.Errorf("%d entries, %d bytes; want 2, %d", n, size, 2*one)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		m := fetchManager(nil, 3*one, 0)
		for _, p := range []string{"/a", "/b", "/c", "/d"} {
			fetchN(t, m, s.URL+p, 1)
		}
		if n, size := m.MediaCacheStats(); n != 3 || size != 3*one {
			t.Errorf("%d entries, %d bytes; want 3, %d", n, size, 3*one)
		}
		before := s.gets.Load()
		fetchN(t, m, s.URL+"/a", 1)
		if s.gets.Load() != before+1 {
			t.Errorf("the oldest was not evicted")
		}
	})
	t.Run("too big for the cache", func(t *testing.T) {
		m := fetchManager(nil, one-1, 0)
		fetchN(t, m, s.URL+"/big", 1)
		if n, _ := m.MediaCacheStats(); n != 0 {
			t.Errorf("%d entries", n)
		}
	})
}

// roundTripFunc fakes the network inside a synctest bubble.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestFetchCoalesces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var requests atomic.Int32
		release := make(chan struct{})
		body := tone(0.25)
		client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			requests.Add(1)
			<-release
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"audio/wav"}},
				Body: io.NopCloser(strings.NewReader(string(body))), Request: r}, nil
		})}
		m := fetchManager(client, 0, 0)
		const callers = 8
		var wg sync.WaitGroup
		results := make([]*prompt, callers)
		for i := range callers {
			wg.Go(func() {
				p, err := m.fetch(t.Context(), "http://media.test/hold.wav")
				if err != nil {
					t.Error(err)
				}
				results[i] = p
			})
		}
		// A caller who hangs up stops waiting; the fetch goes on for the others.
		ctx, cancel := context.WithCancelCause(t.Context())
		hungUp := make(chan error, 1)
		go func() { _, err := m.fetch(ctx, "http://media.test/hold.wav"); hungUp <- err }()
		synctest.Wait() // every caller is waiting on the one request
		cancel(errors.New("caller hung up"))
		if err := <-hungUp; err == nil || !strings.Contains(err.Error(), "hung up") {
			t.Errorf("hung-up caller: %v", err)
		}
		close(release)
		wg.Wait()
		if n := requests.Load(); n != 1 {
			t.Errorf("%d requests for %d concurrent plays, want 1", n, callers)
		}
		for i, p := range results {
			if p != results[0] {
				t.Errorf("caller %d got another prompt", i)
			}
		}
	})
}

func TestRemoveLegacyCache(t *testing.T) {
	dir := t.TempDir()
	legacy := filepath.Join(dir, "cache", fmt.Sprintf("%064x.wav", 1))
	tts := filepath.Join(dir, "cache", "tts", fmt.Sprintf("%064x.wav", 2))
	for _, p := range []string{legacy, tts} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, tone(0.1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removeLegacyCache(dir)
	if _, err := os.Stat(legacy); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("legacy cache file kept: %v", err)
	}
	if _, err := os.Stat(tts); err != nil {
		t.Errorf("tts file: %v", err)
	}
}

func TestParsePolicy(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		h          http.Header
		fresh      time.Duration
		store, rev bool // kept; must revalidate when stale
	}{
		{http.Header{"Cache-Control": {"max-age=30"}}, 30 * time.Second, true, false},
		{http.Header{"Cache-Control": {"max-age=0", "s-maxage=100"}}, 100 * time.Second, true, false},
		{http.Header{"Cache-Control": {`no-cache="Set-Cookie", max-age=100`}}, 0, true, true},
		{http.Header{"Cache-Control": {"MAX-AGE=9999999999999999999"}}, DefaultMediaCacheTTL, true, false},
		{http.Header{"Cache-Control": {"max-age=99999999999"}}, maxFreshSeconds * time.Second, true, false},
		{http.Header{"Cache-Control": {"max-age=60, must-revalidate"}, "Age": {"-5"}}, time.Minute, true, true},
		{http.Header{"Cache-Control": {"private, no-store"}}, DefaultMediaCacheTTL, false, false},
		{http.Header{"Expires": {"0"}}, 0, true, false},
		{http.Header{"Expires": {"Sun, 01 Mar 2026 00:10:00 GMT"}}, 10 * time.Minute, true, false},
		{http.Header{"Pragma": {"no-cache"}}, DefaultMediaCacheTTL, true, false},
	} {
		p := parsePolicy(c.h, now, DefaultMediaCacheTTL)
		if got := p.expires.Sub(now); got != c.fresh || p.noStore == c.store || p.mustRevalidate != c.rev {
			t.Errorf("%v: fresh %v, noStore %v, mustRevalidate %v; want %v, %v, %v",
				c.h, got, p.noStore, p.mustRevalidate, c.fresh, !c.store, c.rev)
		}
	}
}

package media

import (
	"container/list"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the URL media cache (Config.MediaCache*).
const (
	// DefaultMediaCacheBytes is 64 MB of decoded audio: prompts cost 4
	// bytes a sample (PCM and both G.711 encodings), so about 35 minutes.
	DefaultMediaCacheBytes = 64 << 20
	// DefaultMediaCacheEntries is 1000 URLs.
	DefaultMediaCacheEntries = 1000
	// DefaultMediaCacheTTL is how long a response with no max-age or
	// Expires is used before it is revalidated.
	DefaultMediaCacheTTL = time.Hour
)

// urlCache keeps media fetched by URL, decoded, least recently used out
// first once over its bytes or entries, and fresh as the server's
// Cache-Control, Expires, ETag and Last-Modified say (as Twilio documents
// for <Play>).
type urlCache struct {
	maxBytes   int64
	maxEntries int
	ttl        time.Duration
	now        func() time.Time
	fetches    flights[*prompt]

	mu      sync.Mutex
	bytes   int64
	lru     *list.List // of *urlEntry, most recent first
	entries map[string]*list.Element

	hits, misses atomic.Uint64 // fresh entries played unchecked, and the rest (for /metrics)
}

// urlEntry is one cached URL; policy changes under the cache's lock.
type urlEntry struct {
	url    string
	p      *prompt
	policy cachePolicy
}

// cachePolicy is what a response's headers allow.
type cachePolicy struct {
	noStore        bool      // never keep it
	mustRevalidate bool      // no-cache or must-revalidate: never play it unchecked when stale
	expires        time.Time // fresh until
	etag           string
	lastModified   string
}

func newURLCache(maxBytes int64, maxEntries int, ttl time.Duration) *urlCache {
	if maxBytes <= 0 {
		maxBytes = DefaultMediaCacheBytes
	}
	if maxEntries <= 0 {
		maxEntries = DefaultMediaCacheEntries
	}
	if ttl <= 0 {
		ttl = DefaultMediaCacheTTL
	}
	return &urlCache{maxBytes: maxBytes, maxEntries: maxEntries, ttl: ttl, now: time.Now,
		lru: list.New(), entries: map[string]*list.Element{}}
}

// maxFreshSeconds caps max-age and Age (a year), so that no header can
// overflow a time.Duration.
const maxFreshSeconds = 365 * 24 * 3600

// parsePolicy reads Cache-Control (no-store, no-cache, must-revalidate,
// s-maxage, max-age, less Age), else Expires (against Date), else gives
// ttl; plus the validators. Unknown directives are ignored.
func parsePolicy(h http.Header, now time.Time, ttl time.Duration) cachePolicy {
	p := cachePolicy{etag: h.Get("ETag"), lastModified: h.Get("Last-Modified")}
	maxAge, sMaxAge, noCache := -1, -1, false
	for _, d := range strings.Split(strings.Join(h.Values("Cache-Control"), ","), ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		val = strings.Trim(strings.TrimSpace(val), `"`)
		switch strings.ToLower(name) {
		case "no-store":
			p.noStore = true
		case "no-cache":
			noCache, p.mustRevalidate = true, true
		case "must-revalidate", "proxy-revalidate":
			p.mustRevalidate = true
		case "max-age":
			if n, err := strconv.Atoi(val); err == nil {
				maxAge = max(n, 0)
			}
		case "s-maxage":
			if n, err := strconv.Atoi(val); err == nil {
				sMaxAge = max(n, 0)
			}
		}
	}
	switch {
	case noCache:
		maxAge = 0
	case sMaxAge >= 0: // we are a shared cache: s-maxage wins
		maxAge = sMaxAge
	}
	switch {
	case maxAge >= 0:
		age, _ := strconv.Atoi(h.Get("Age"))
		maxAge = min(maxAge, maxFreshSeconds) - min(max(age, 0), maxFreshSeconds)
		p.expires = now.Add(time.Duration(maxAge) * time.Second)
	case h.Get("Expires") != "":
		exp, err := http.ParseTime(h.Get("Expires"))
		if err != nil { // "0" or garbage: already expired
			p.expires = now
			break
		}
		date, err := http.ParseTime(h.Get("Date"))
		if err != nil {
			date = now
		}
		p.expires = now.Add(exp.Sub(date))
	default:
		p.expires = now.Add(ttl)
	}
	return p
}

// lookup finds url's entry and says whether it may be played unchecked.
func (c *urlCache) lookup(url string) (e *urlEntry, fresh bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[url]
	if !ok {
		c.misses.Add(1)
		return nil, false
	}
	c.lru.MoveToFront(el)
	e = el.Value.(*urlEntry)
	// A copy, so the fetch reads its validators without the lock.
	cp := *e
	fresh = c.now().Before(e.policy.expires)
	if fresh {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return &cp, fresh
}

// refresh applies a 304's headers to the entry for e.url.
func (c *urlCache) refresh(e *urlEntry, p cachePolicy) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[e.url]
	if !ok {
		return // evicted meanwhile: the next play fetches it again
	}
	cur := el.Value.(*urlEntry)
	if p.noStore {
		c.removeLocked(el)
		return
	}
	// A 304 may omit the validators; keep the ones we have.
	if p.etag == "" {
		p.etag = cur.policy.etag
	}
	if p.lastModified == "" {
		p.lastModified = cur.policy.lastModified
	}
	cur.policy = p
	c.lru.MoveToFront(el)
}

// store keeps p for url unless the policy forbids it or it alone is over
// the byte bound, replacing an older entry, then evicts the least recently
// used entries over either bound.
func (c *urlCache) store(url string, p *prompt, pol cachePolicy) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[url]; ok {
		c.removeLocked(el)
	}
	if pol.noStore || p.size() > c.maxBytes {
		return
	}
	e := &urlEntry{url: url, p: p, policy: pol}
	c.entries[url] = c.lru.PushFront(e)
	c.bytes += p.size()
	for c.bytes > c.maxBytes || c.lru.Len() > c.maxEntries {
		c.removeLocked(c.lru.Back())
	}
}

func (c *urlCache) removeLocked(el *list.Element) {
	e := el.Value.(*urlEntry)
	c.lru.Remove(el)
	delete(c.entries, e.url)
	c.bytes -= e.p.size()
}

// MediaCacheStats is how many URLs the media cache holds and their
// decoded size in bytes, for metrics and tests of its bounds.
func (m *Manager) MediaCacheStats() (entries int, bytes int64) {
	c := m.urls
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}

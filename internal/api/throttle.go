package api

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// loginThrottle slows down guessing of API keys on PUT /v2/api_auth: it
// counts failed sign-ins per source, lets a few through, then refuses the
// source for a time that doubles with each further failure. A success
// resets the source. It is in memory, bounded (least recently used
// sources are forgotten first, idle ones expire) and safe for concurrent
// use.
type loginThrottle struct {
	free  int           // failures allowed before the first lock
	base  time.Duration // the first lock; each further failure doubles it
	limit time.Duration // the longest lock
	idle  time.Duration // a source with no failure for this long is forgotten
	max   int           // sources remembered at most

	mu      sync.Mutex
	sources map[string]*list.Element // of *throttleEntry
	lru     list.List                // front: most recently used
}

type throttleEntry struct {
	key      string
	failures int       // consecutive failed sign-ins
	inflight int       // sign-ins being checked now
	until    time.Time // refused until then
	last     time.Time // the last failure
	refused  int       // refused since the last failure was logged
	noted    bool      // the current lock's first refusal was reported
}

func newLoginThrottle(c Config) *loginThrottle {
	return &loginThrottle{free: c.LoginFailuresFree, base: time.Second, limit: c.LoginMaxLockout,
		idle: max(time.Hour, c.LoginMaxLockout), max: c.LoginSources, sources: map[string]*list.Element{}}
}

// begin asks whether a sign-in from key may be checked now. When not, it
// says how long to wait, and first is true for the first refusal since
// the source's last failure (to log once per lock, not per attempt). Once
// a source has used its free failures, only one of its attempts is
// checked at a time, so parallel requests cannot slip past the lock.
func (t *loginThrottle) begin(key string, now time.Time) (ok bool, wait time.Duration, first bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entryLocked(key, now)
	switch {
	case now.Before(e.until):
		wait = e.until.Sub(now)
	case e.failures+e.inflight >= t.free && e.inflight > 0:
		wait = t.base
	default:
		e.inflight++
		return true, 0, false
	}
	e.refused++
	first, e.noted = !e.noted, true
	return false, wait, first
}

// fail records a failed sign-in begun with begin and returns the source's
// failures in a row, the lock it now has (0 when none) and how many of its
// attempts were refused since its last failure.
func (t *loginThrottle) fail(key string, now time.Time) (failures int, lock time.Duration, refused int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entryLocked(key, now)
	e.inflight = max(0, e.inflight-1)
	e.failures++
	e.last = now
	if over := e.failures - t.free; over > 0 {
		lock = t.limit
		if over < 32 {
			lock = min(t.base<<(over-1), t.limit)
		}
		e.until = now.Add(lock)
	}
	refused, e.refused, e.noted = e.refused, 0, false
	return e.failures, lock, refused
}

// succeed forgets the source's failures: the right key was found.
func (t *loginThrottle) succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.sources[key]; ok {
		t.lru.Remove(el)
		delete(t.sources, key)
	}
}

// done ends an attempt that neither failed nor succeeded (a bad request or
// an internal error).
func (t *loginThrottle) done(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.sources[key]; ok {
		e := el.Value.(*throttleEntry)
		e.inflight = max(0, e.inflight-1)
	}
}

// entryLocked finds or makes the entry of key, expiring idle entries and
// evicting the least recently used when full.
func (t *loginThrottle) entryLocked(key string, now time.Time) *throttleEntry {
	for el := t.lru.Back(); el != nil; {
		e := el.Value.(*throttleEntry)
		if e.inflight > 0 || now.Sub(e.last) < t.idle || now.Before(e.until) {
			break
		}
		prev := el.Prev()
		t.lru.Remove(el)
		delete(t.sources, e.key)
		el = prev
	}
	if el, ok := t.sources[key]; ok {
		t.lru.MoveToFront(el)
		return el.Value.(*throttleEntry)
	}
	for t.lru.Len() >= t.max {
		old := t.lru.Back()
		t.lru.Remove(old)
		delete(t.sources, old.Value.(*throttleEntry).key)
	}
	e := &throttleEntry{key: key, last: now}
	t.sources[key] = t.lru.PushFront(e)
	return e
}

// sourceOf is the throttling key of a request: the peer's IP address, and
// for IPv6 its /64, since one host usually holds a whole /64.
func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

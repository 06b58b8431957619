package sip

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"
)

// Digest authentication of phones (RFC 3261 §22, RFC 7616 algorithms as
// RFC 8760 brings them to SIP). Nonces are stateless: a time, a random
// part and an HMAC over both and the realm, so a nonce made for one realm
// is refused in another and one older than the nonce lifetime is stale
// (the phone retries with the fresh nonce we send, without asking its
// user again).

// nonces makes and checks the nonces of one server.
type nonces struct {
	key  []byte
	ttl  time.Duration
	algs []string
}

func newNonces(ttl time.Duration, algs []string) *nonces {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand never fails on Linux
	return &nonces{key: key, ttl: ttl, algs: algs}
}

func (n *nonces) mac(realm string, head []byte) []byte {
	m := hmac.New(sha256.New, n.key)
	m.Write([]byte(realm))
	m.Write([]byte{0})
	m.Write(head)
	return m.Sum(nil)[:16]
}

// make is a fresh nonce for realm.
func (n *nonces) make(realm string, now time.Time) string {
	head := make([]byte, 16)
	binary.BigEndian.PutUint64(head, uint64(now.UnixNano()))
	_, _ = rand.Read(head[8:])
	return base64.RawURLEncoding.EncodeToString(append(head, n.mac(realm, head)...))
}

// nonceCheck is what a nonce is worth.
type nonceCheck int

const (
	nonceBad   nonceCheck = iota // not ours, or not for this realm
	nonceStale                   // ours but expired
	nonceGood
)

func (n *nonces) check(realm, nonce string, now time.Time) nonceCheck {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 32 {
		return nonceBad
	}
	if !hmac.Equal(b[16:], n.mac(realm, b[:16])) {
		return nonceBad
	}
	made := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	if now.Sub(made) > n.ttl || made.After(now.Add(time.Minute)) {
		return nonceStale
	}
	return nonceGood
}

// challenges are the WWW-Authenticate (or Proxy-Authenticate) values for
// realm, one per configured algorithm (RFC 8760).
func (n *nonces) challenges(realm string, stale bool, now time.Time) []string {
	nonce := n.make(realm, now)
	out := make([]string, 0, len(n.algs))
	for _, alg := range n.algs {
		c := digest.Challenge{Realm: realm, Nonce: nonce, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		out = append(out, c.String())
	}
	return out
}

// digestHash is the hash an algorithm names; nil for one we do not know.
func digestHash(alg string) func() hash.Hash {
	switch strings.ToUpper(alg) {
	case "", "MD5":
		return md5.New
	case "SHA-256":
		return sha256.New
	}
	return nil
}

func hexHash(h func() hash.Hash, parts ...string) string {
	w := h()
	w.Write([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(w.Sum(nil))
}

// digestValid reports whether cred answers its challenge for method with
// the stored HA1 of the algorithm it used.
func digestValid(cred *digest.Credentials, method, ha1 string) bool {
	h := digestHash(cred.Algorithm)
	if h == nil || ha1 == "" {
		return false
	}
	ha2 := hexHash(h, method, cred.URI)
	var want string
	switch cred.QOP {
	case "auth":
		want = hexHash(h, ha1, cred.Nonce, fmt.Sprintf("%08x", cred.Nc), cred.Cnonce, cred.QOP, ha2)
	case "":
		want = hexHash(h, ha1, cred.Nonce, ha2)
	default:
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(cred.Response))) == 1
}

// throttle counts authentication failures per source address: past max
// failures within window, the source is refused without a challenge
// until the window has passed since its last failure, so a password
// cannot be guessed at line rate.
type throttle struct {
	max    int
	window time.Duration

	mu    sync.Mutex
	seen  map[string]*failures
	swept time.Time
}

type failures struct {
	n    int
	last time.Time
}

func newThrottle(max int, window time.Duration) *throttle {
	return &throttle{max: max, window: window, seen: map[string]*failures{}}
}

// blocked reports whether src failed too often lately.
func (t *throttle) blocked(src string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.seen[src]
	if f == nil {
		return false
	}
	if now.Sub(f.last) > t.window {
		delete(t.seen, src)
		return false
	}
	return f.n >= t.max
}

// fail records a failure of src.
func (t *throttle) fail(src string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.swept) > t.window { // bounded: forget quiet sources
		for k, f := range t.seen {
			if now.Sub(f.last) > t.window {
				delete(t.seen, k)
			}
		}
		t.swept = now
	}
	f := t.seen[src]
	if f == nil {
		if len(t.seen) >= 100000 {
			return
		}
		f = &failures{}
		t.seen[src] = f
	}
	f.n++
	f.last = now
}

// succeed forgets the failures of src.
func (t *throttle) succeed(src string) {
	t.mu.Lock()
	delete(t.seen, src)
	t.mu.Unlock()
}

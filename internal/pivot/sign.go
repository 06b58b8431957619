package pivot

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TwilioSignature computes X-Twilio-Signature as Twilio does
// (twilio-python RequestValidator.compute_signature): the full URL as
// requested, then for each parameter name in byte-wise order, each of its
// distinct values in order, name+value with no separator; HMAC-SHA1 keyed with
// the auth token, base64 (standard, padded).
//
// For GET requests pass form = nil: the parameters are already in the URL.
// For JSON bodies the URL carries bodySHA256=<hex sha256 of the body> and form
// is nil.
func TwilioSignature(authToken, url string, form url.Values) string {
	var fields []pair
	for k, vs := range form {
		for _, v := range vs {
			fields = append(fields, pair{k, v})
		}
	}
	return twilioSignature(authToken, url, signPairs(fields))
}

// signPairs orders form fields as Twilio signs them: by name, then value
// (byte-wise), each identical pair once. It sorts fields in place (the
// callers are done with their order) and returns them.
func signPairs(fields []pair) []pair {
	out := fields
	slices.SortFunc(out, func(a, b pair) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	return slices.Compact(out)
}

// twilioSignature signs the URL and fields already in signPairs order,
// without building a url.Values per request.
func twilioSignature(authToken, url string, sorted []pair) string {
	m := getMAC(&sha1MACs, sha1.New, authToken)
	defer m.put(&sha1MACs)
	b := append(m.buf[:0], url...)
	for _, p := range sorted {
		b = append(b, p.key...)
		b = append(b, p.value...)
	}
	m.buf = b
	m.mac.Write(b)
	m.sum = m.mac.Sum(m.sum[:0])
	var out [28]byte // base64 of 20 bytes
	base64.StdEncoding.Encode(out[:], m.sum)
	return string(out[:])
}

// keyedMAC is an HMAC keyed once and reset for each message, with the
// buffer the message is gathered in: signing a webhook request then
// allocates nothing but its header value. Each is one goroutine's at a
// time, through its pool.
type keyedMAC struct {
	key string
	mac hash.Hash
	buf []byte
	sum []byte // the MAC's Sum, which escapes through the interface
}

// The pools of keyed HMACs. A MAC taken for another key is keyed again.
var sha1MACs, sha256MACs sync.Pool

func getMAC(pool *sync.Pool, h func() hash.Hash, key string) *keyedMAC {
	m, _ := pool.Get().(*keyedMAC)
	if m == nil {
		m = &keyedMAC{}
	}
	if m.mac == nil || m.key != key {
		m.key, m.mac = key, hmac.New(h, []byte(key))
	} else {
		m.mac.Reset()
	}
	return m
}

func (m *keyedMAC) put(pool *sync.Pool) {
	if cap(m.buf) > 16<<10 {
		m.buf = nil // one large message does not stay in the pool
	}
	pool.Put(m)
}

// SwitchboardSignature computes the X-Switchboard-Signature header.
//
// Scheme (version 1). Every webhook request signed for an account carries
//
//	X-Switchboard-Timestamp: <unix seconds when the request was made>
//	X-Switchboard-Signature: v1=<hex HMAC-SHA256(secret, message)>
//
// where message is
//
//	<timestamp> "." <METHOD> " " <full URL as requested> "\n" <raw body>
//
// METHOD is GET or POST; the URL is scheme://host[:port]/path?query exactly as
// requested (GET parameters included, no fragment, no user:password); the body
// is the raw bytes sent (empty for GET). Unlike X-Twilio-Signature it covers
// the body byte for byte and the method, and the timestamp lets a server
// reject replays: refuse requests whose timestamp is more than a few minutes
// off its own clock. A receiver should accept any of several comma-separated
// v1= values, which allows a key rotation to sign with both keys.
func SwitchboardSignature(key string, ts int64, method, url string, body []byte) string {
	return switchboardSignature(key, ts, method, url, body)
}

// switchboardSignature is SwitchboardSignature over a body of either
// type: the client sends a string.
func switchboardSignature[B []byte | string](key string, ts int64, method, url string, body B) string {
	m := getMAC(&sha256MACs, sha256.New, key)
	defer m.put(&sha256MACs)
	b := strconv.AppendInt(m.buf[:0], ts, 10)
	b = append(b, '.')
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, url...)
	b = append(b, '\n')
	b = append(b, body...)
	m.buf = b
	m.mac.Write(b)
	m.sum = m.mac.Sum(m.sum[:0])
	var out [3 + 2*sha256.Size]byte
	copy(out[:], "v1=")
	hex.Encode(out[3:], m.sum)
	return string(out[:])
}

// VerifySwitchboardSignature checks a request received by a customer's server
// against the scheme of SwitchboardSignature: header is the
// X-Switchboard-Signature value (one or more comma-separated "v1=<hex>"),
// tsHeader the X-Switchboard-Timestamp value, method/url/body the request as
// received. When maxSkew > 0 the timestamp must be within maxSkew of now. The
// comparison is constant-time.
func VerifySwitchboardSignature(key string, header, tsHeader, method, url string, body []byte, now time.Time, maxSkew time.Duration) bool {
	ts, err := strconv.ParseInt(strings.TrimSpace(tsHeader), 10, 64)
	if err != nil || header == "" {
		return false
	}
	if maxSkew > 0 {
		d := now.Sub(time.Unix(ts, 0))
		if d < 0 {
			d = -d
		}
		if d > maxSkew {
			return false
		}
	}
	want := []byte(SwitchboardSignature(key, ts, strings.ToUpper(method), url, body))
	ok := false
	for part := range strings.SplitSeq(header, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(part)), want) {
			ok = true
		}
	}
	return ok
}

// bodySHA256 is Twilio's query parameter for signed JSON bodies.
func bodySHA256(body []byte) string {
	s := sha256.Sum256(body)
	return hex.EncodeToString(s[:])
}

// ValidTwilioSignature checks an X-Twilio-Signature header as the twilio
// libraries' validateRequest does, against each of tokens (an account's
// current auth token and, during a rotation's grace period, the previous
// one: store.Account.AuthTokens), with and without the default port in
// the URL. form is the POST form (nil for GET). Constant-time.
func ValidTwilioSignature(tokens []string, rawURL string, form url.Values, signature string) bool {
	urls := []string{rawURL}
	if u, err := url.Parse(rawURL); err == nil {
		switch {
		case u.Port() == "" && (u.Scheme == "https" || u.Scheme == "http"):
			port := "443"
			if u.Scheme == "http" {
				port = "80"
			}
			v := *u
			v.Host = u.Host + ":" + port
			urls = append(urls, v.String())
		case u.Scheme == "https" && u.Port() == "443", u.Scheme == "http" && u.Port() == "80":
			v := *u
			v.Host = u.Hostname()
			urls = append(urls, v.String())
		}
	}
	ok := false
	for _, tok := range tokens {
		if tok == "" {
			continue
		}
		for _, u := range urls {
			if hmac.Equal([]byte(TwilioSignature(tok, u, form)), []byte(signature)) {
				ok = true
			}
		}
	}
	return ok
}

package pivot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

// The form encoder escapes values byte for byte as url.QueryEscape does:
// every byte value, and random strings of them.
func TestQueryEscapeMatchesNetURL(t *testing.T) {
	for c := range 256 {
		s := string([]byte{byte(c)})
		if got, want := string(appendQueryEscape(nil, s)), url.QueryEscape(s); got != want {
			t.Errorf("byte %#x: %q, net/url %q", c, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		if got, want := string(appendQueryEscape([]byte("x="), string(b))), "x="+url.QueryEscape(string(b)); got != want {
			t.Fatalf("%q: %q, net/url %q", b, got, want)
		}
	}
}

// dedupe keeps the first position and the last value of a repeated key and
// drops nils, with the short lists searched in place and the long ones
// through a map; a clean list comes back as it is.
func TestDedupe(t *testing.T) {
	clean := Params{{"A", "1"}, {"B", "2"}}
	if got := dedupe(clean); &got[0] != &clean[0] {
		t.Error("a clean list was copied")
	}
	for _, n := range []int{3, 31, 32, 33, 80} {
		var ps Params
		for i := range n {
			ps = append(ps, Param{Key: "K" + strconv.Itoa(i), Value: strconv.Itoa(i)})
		}
		ps = append(ps, Param{Key: "K1", Value: "again"}, Param{Key: "K2", Value: nil}, Param{Key: "N", Value: nil},
			Param{Key: "K0", Value: "last"}, Param{Key: "Z", Value: "z"})
		got := dedupe(ps)
		if len(got) != n+1 || got[0].Value != "last" || got[1].Value != "again" || got[2].Value != "2" || got[n].Key != "Z" {
			t.Errorf("n=%d: %v", n, got)
		}
		for i := 3; i < n; i++ {
			if got[i].Key != "K"+strconv.Itoa(i) || got[i].Value != strconv.Itoa(i) {
				t.Fatalf("n=%d: position %d is %v", n, i, got[i])
			}
		}
	}
}

// readBody reads to the limit and one byte beyond it whatever size the
// answer announces, true or not, in one read or byte by byte.
func TestReadBody(t *testing.T) {
	const limit = 100
	for _, size := range []int{0, 1, 99, 100, 101, 102, 5000} {
		body := bytes.Repeat([]byte("x"), size)
		want := body[:min(size, limit+1)]
		for _, announced := range []int64{-1, int64(size), int64(size) - 1, int64(size) + 7, limit, limit + 1} {
			for _, one := range []bool{false, true} {
				var r io.Reader = bytes.NewReader(body)
				if one {
					r = iotest.OneByteReader(r)
				}
				got, err := readBody(r, limit, announced)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("size %d announced %d one-byte %v: %d bytes, err %v; want %d", size, announced, one, len(got), err, len(want))
				}
			}
		}
	}
	if _, err := readBody(iotest.ErrReader(io.ErrUnexpectedEOF), limit, 10); err != io.ErrUnexpectedEOF {
		t.Errorf("a failing read: %v", err)
	}
}

// The pooled, keyed MACs sign as a fresh HMAC does, with keys changing
// from request to request and from goroutine to goroutine.
func TestPooledSignaturesMatchFreshHMAC(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 300 {
				key := fmt.Sprint("key-", (g+i)%3)
				u := fmt.Sprint("https://example.com/voice?i=", i)
				fields := []pair{{"A", strconv.Itoa(i)}, {"B", strings.Repeat("b", i*50)}}
				m := hmac.New(sha1.New, []byte(key))
				io.WriteString(m, u+"A"+fields[0].value+"B"+fields[1].value)
				if got, want := twilioSignature(key, u, fields), base64.StdEncoding.EncodeToString(m.Sum(nil)); got != want {
					t.Errorf("twilio %s %d: %s, want %s", key, i, got, want)
					return
				}
				body := []byte(fields[1].value)
				m = hmac.New(sha256.New, []byte(key))
				io.WriteString(m, strconv.Itoa(1700000000+i)+".POST "+u+"\n")
				m.Write(body)
				if got, want := SwitchboardSignature(key, int64(1700000000+i), "POST", u, body), "v1="+hex.EncodeToString(m.Sum(nil)); got != want {
					t.Errorf("switchboard %s %d: %s, want %s", key, i, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// instant answers every request at once, in process.
type instant struct{ body string }

func (t instant) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/xml"}},
		Body: io.NopCloser(strings.NewReader(t.body)), ContentLength: int64(len(t.body)), Request: r}, nil
}

// A signed form POST of a call's parameters stays within its allocation
// budget: the request is built once (one URL parse, a header map filled
// directly, the keyed MACs from their pools), sent on the transport without
// http.Client's copies, the answer read into one slice and checked on
// raw tokens: 58 allocations when written (141 before), 35 since the body
// is one string shared with the log (budget 40), so a change that brings
// back a per-field cost fails here.
func TestDoAllocations(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("instrumented builds allocate more")
	}
	c := NewClient(Config{Transport: instant{body: twimlOK}})
	ps := Params{
		{"CallSid", "call-1"}, {"AccountSid", "AC0123"}, {"From", "+15555550100"}, {"To", "3000"},
		{"Caller", "+15555550100"}, {"Called", "3000"}, {"CallerName", ""}, {"CallStatus", "ringing"},
		{"ApiVersion", "2010-04-01"}, {"Direction", "inbound"}, {"FromCity", ""}, {"FromState", ""},
		{"FromZip", ""}, {"FromCountry", ""}, {"ToCity", ""}, {"ToState", ""}, {"ToZip", ""}, {"ToCountry", ""},
	}
	req := Request{URL: "http://customer.test/voice", Method: "POST", Params: ps, SigningKey: "secret", SwitchboardKey: "secret"}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(200, func() {
		if _, _, err := c.Do(ctx, req); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%.0f allocations per request", allocs)
	if allocs > 40 {
		t.Errorf("%.0f allocations per request, budget 40", allocs)
	}
}

// lowerName's constants are what strings.ToLower gives.
func TestLowerName(t *testing.T) {
	for _, k := range []string{"Content-Type", "Content-Length", "Date", "Server", "Connection", "Keep-Alive",
		"Cache-Control", "Etag", "X-Powered-By", "X-Thing", "content-type", ""} {
		if got := lowerName(k); got != strings.ToLower(k) {
			t.Errorf("lowerName(%q) = %q", k, got)
		}
	}
}

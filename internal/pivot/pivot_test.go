package pivot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const twimlOK = `<?xml version="1.0" encoding="UTF-8"?><Response><Say>hi</Say></Response>`

// seen is what a test server received.
type seen struct {
	Method, URL, RawQuery, Body string
	Header                      http.Header
}

// recorder is an httptest server that records requests and answers with h.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seen{r.Method, "http://" + r.Host + r.URL.RequestURI(), r.URL.RawQuery, string(b), r.Header.Clone()})
		rec.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		h(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) requests() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seen(nil), rec.reqs...)
}

func serveTwiML(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	io.WriteString(w, twimlOK)
}

func code(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func TestGetWithExistingQuery(t *testing.T) {
	srv := newRecorder(t, serveTwiML)
	c := NewClient(Config{})
	resp, ex, err := c.Do(context.Background(), Request{
		URL:    srv.URL + "/ivr/start.xml?x=1&y=a+b#ct=1000&rc=2",
		Method: "get",
		Params: Params{{"CallSid", "CA1"}, {"From", "+14155550100"}, {"FromCity", ""}, {"Gone", nil}, {"Digits", map[string]any{"default": "12#"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	const q = "x=1&y=a+b&CallSid=CA1&From=%2B14155550100&FromCity=&Digits[default]=12%23"
	got := srv.requests()
	if len(got) != 1 || got[0].Method != "GET" || got[0].RawQuery != q || got[0].Body != "" {
		t.Fatalf("server saw %+v, want GET ?%s", got, q)
	}
	if got[0].Header.Get("Content-Type") != "" {
		t.Errorf("GET with Content-Type %q", got[0].Header.Get("Content-Type"))
	}
	if want := srv.URL + "/ivr/start.xml?" + q; ex.URL != want || resp.FinalURL != want || ex.FinalURL != want {
		t.Errorf("URL %q final %q, want %q", ex.URL, resp.FinalURL, want)
	}
	if resp.Kind != KindTwiML || resp.Status != 200 || string(resp.Body) != twimlOK {
		t.Errorf("response %+v", resp)
	}
	if ex.Method != "GET" || ex.Status != 200 || ex.Attempts != 1 || ex.Err != "" || ex.ResponseBody != twimlOK {
		t.Errorf("exchange %+v", ex)
	}
	if ex.ResponseHeaders["content-type"] != "text/xml; charset=utf-8" {
		t.Errorf("response headers %v", ex.ResponseHeaders)
	}
	if ex.RequestHeaders["User-Agent"] != DefaultUserAgent || ex.RequestHeaders["Accept"] != AcceptTwiML {
		t.Errorf("request headers %v", ex.RequestHeaders)
	}
	if got[0].Header.Get("User-Agent") != DefaultUserAgent || got[0].Header.Get("Accept") != AcceptTwiML {
		t.Errorf("sent headers %v", got[0].Header)
	}
}

func TestFragmentStripped(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"/a#frag", "/a"},
		{"/a?b=1#ct=5000&rt=1", "/a?b=1"},
		{"#x", "/"},
	} {
		srv := newRecorder(t, serveTwiML)
		_, ex, err := NewClient(Config{}).Do(context.Background(), Request{URL: srv.URL + tc.url, Method: "GET"})
		if err != nil {
			t.Fatal(err)
		}
		if got := srv.requests()[0].URL; got != srv.URL+tc.want || ex.URL != got {
			t.Errorf("%s: requested %q logged %q, want %q", tc.url, got, ex.URL, srv.URL+tc.want)
		}
	}
}

func TestMethod(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"GET", "GET"}, {"get", "GET"}, {"Get", "GET"}, {"POST", "POST"}, {"post", "POST"}, {"", "POST"}, {"PUT", "POST"}, {"delete", "POST"},
	} {
		srv := newRecorder(t, serveTwiML)
		_, ex, err := NewClient(Config{}).Do(context.Background(), Request{URL: srv.URL, Method: tc.in, Params: Params{{"A", "1"}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := srv.requests()[0].Method; got != tc.want || ex.Method != tc.want {
			t.Errorf("method %q: sent %s, logged %s, want %s", tc.in, got, ex.Method, tc.want)
		}
	}
}

func TestPostFormSigned(t *testing.T) {
	const token, sbKey = "auth-token", "sb-secret"
	now := time.Unix(1_700_000_000, 0)
	var verr error
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		full := "http://" + r.Host + r.URL.RequestURI()
		if err := r.ParseForm(); err != nil {
			verr = err
		} else if want := TwilioSignature(token, full, r.PostForm); r.Header.Get("X-Twilio-Signature") != want {
			verr = fmt.Errorf("X-Twilio-Signature %q, recomputed %q", r.Header.Get("X-Twilio-Signature"), want)
		} else if !VerifySwitchboardSignature(sbKey, r.Header.Get("X-Switchboard-Signature"), r.Header.Get("X-Switchboard-Timestamp"), r.Method, full, body, now, time.Minute) {
			verr = errors.New("X-Switchboard-Signature does not verify")
		}
		serveTwiML(w, r)
	})
	_, ex, err := NewClient(Config{}).Do(context.Background(), Request{
		URL:    srv.URL + "/voice?acct=7",
		Method: "POST",
		Params: Params{
			{"CallSid", "CA1"}, {"From", "+1 415"}, {"FromCity", ""}, {"Digits", map[string]any{"default": "1234", "pin": "9"}},
			{"User-ID", []string{"u2", "u1"}}, {"Flag", true}, {"N", 3},
		},
		SigningKey: token, SwitchboardKey: sbKey, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	if verr != nil {
		t.Fatal(verr)
	}
	const body = "CallSid=CA1&From=%2B1+415&FromCity=&Digits[default]=1234&Digits[pin]=9&User-ID[]=u2&User-ID[]=u1&Flag=true&N=3"
	got := srv.requests()[0]
	if got.Body != body || ex.RequestBody != body {
		t.Errorf("body %q, want %q", got.Body, body)
	}
	if ct := got.Header.Get("Content-Type"); ct != ContentTypeForm {
		t.Errorf("Content-Type %q", ct)
	}
	if got.Header.Get("X-Switchboard-Timestamp") != "1700000000" {
		t.Errorf("timestamp %q", got.Header.Get("X-Switchboard-Timestamp"))
	}
	for _, h := range []string{"X-Twilio-Signature", "X-Switchboard-Signature", "X-Switchboard-Timestamp", "Content-Type"} {
		if ex.RequestHeaders[h] != got.Header.Get(h) {
			t.Errorf("logged %s %q, sent %q", h, ex.RequestHeaders[h], got.Header.Get(h))
		}
	}
}

func TestPostJSON(t *testing.T) {
	const token = "tok"
	var verr error
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sum := sha256.Sum256(body)
		full := "http://" + r.Host + r.URL.RequestURI()
		switch {
		case r.URL.Query().Get("bodySHA256") != hex.EncodeToString(sum[:]):
			verr = fmt.Errorf("bodySHA256 %q", r.URL.Query().Get("bodySHA256"))
		case r.Header.Get("X-Twilio-Signature") != TwilioSignature(token, full, nil):
			verr = errors.New("X-Twilio-Signature does not verify on the URL")
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"module":"tts","data":{"text":"hi"}}`)
	})
	resp, ex, err := NewClient(Config{}).Do(context.Background(), Request{
		URL: srv.URL + "/kz?a=1", Method: "post", BodyFormat: "json", Format: "kazoo",
		Params: Params{
			{"Call-ID", "c1"}, {"Digits", map[string]any{"default": "1234", "gone": nil}}, {"User-ID", []string{"u1", "u2"}},
			{"Custom-SIP-Headers", map[string]any{"X-B": "<b>", "X-A": 1}}, {"Nil", nil}, {"Empty", ""}, {"On", false},
		},
		SigningKey: token,
	})
	if err != nil {
		t.Fatal(err)
	}
	if verr != nil {
		t.Fatal(verr)
	}
	const body = `{"Call-ID":"c1","Digits":{"default":"1234"},"User-ID":["u1","u2"],"Custom-SIP-Headers":{"X-A":1,"X-B":"<b>"},"Empty":"","On":false}`
	got := srv.requests()[0]
	if got.Body != body || ex.RequestBody != body {
		t.Errorf("body %s, want %s", got.Body, body)
	}
	if got.Header.Get("Content-Type") != ContentTypeJSON || got.Header.Get("Accept") != AcceptKazoo {
		t.Errorf("headers %v", got.Header)
	}
	sum := sha256.Sum256([]byte(body))
	if want := srv.URL + "/kz?a=1&bodySHA256=" + hex.EncodeToString(sum[:]); ex.URL != want {
		t.Errorf("URL %q, want %q", ex.URL, want)
	}
	if resp.Kind != KindKazoo {
		t.Errorf("kind %v", resp.Kind)
	}
}

func TestRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/r/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			serveTwiML(w, r)
			return
		}
		http.Redirect(w, r, strconv.Itoa(n-1), http.StatusFound) // relative
	})
	mux.HandleFunc("/post302", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/final", http.StatusFound)
	})
	mux.HandleFunc("/post307", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/final#frag", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/final", serveTwiML)
	srv := newRecorder(t, mux.ServeHTTP)
	c := NewClient(Config{})

	resp, ex, err := c.Do(context.Background(), Request{URL: srv.URL + "/r/10", Method: "GET"})
	if err != nil {
		t.Fatalf("10 redirects: %v", err)
	}
	if resp.FinalURL != srv.URL+"/r/0" || ex.URL != srv.URL+"/r/10" || ex.Status != 200 {
		t.Errorf("final %q logged %q status %d", resp.FinalURL, ex.URL, ex.Status)
	}

	_, ex, err = c.Do(context.Background(), Request{URL: srv.URL + "/r/11", Method: "GET"})
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeTooManyRedirects || e.Status != 302 || ex.Status != 302 {
		t.Errorf("11 redirects: %v (exchange status %d)", err, ex.Status)
	}

	for _, tc := range []struct{ path, method, body string }{{"/post302", "GET", ""}, {"/post307", "POST", "A=1"}} {
		before := len(srv.requests())
		resp, _, err := c.Do(context.Background(), Request{URL: srv.URL + tc.path, Method: "POST", Params: Params{{"A", "1"}}, SigningKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		reqs := srv.requests()[before:]
		if len(reqs) != 2 {
			t.Fatalf("%s: %d requests", tc.path, len(reqs))
		}
		last := reqs[1]
		if last.Method != tc.method || last.Body != tc.body || last.URL != srv.URL+"/final" || resp.FinalURL != srv.URL+"/final" {
			t.Errorf("%s: followed with %s %s body %q", tc.path, last.Method, last.URL, last.Body)
		}
		var form map[string][]string
		if tc.method == "POST" {
			form = map[string][]string{"A": {"1"}}
		}
		if sig := TwilioSignature("k", last.URL, form); last.Header.Get("X-Twilio-Signature") != sig {
			t.Errorf("%s: redirected request not re-signed", tc.path)
		}
		if tc.method == "GET" && last.Header.Get("Content-Type") != "" {
			t.Errorf("%s: GET with Content-Type", tc.path)
		}
	}
}

func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { <-block })
	t.Cleanup(func() { close(block) }) // runs before srv.Close
	start := time.Now()
	_, ex, err := NewClient(Config{}).Do(context.Background(), Request{URL: srv.URL, Timeout: 100 * time.Millisecond, Retries: 3})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	if code(err) != CodeRetrieval || !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v", err)
	}
	if ex.Attempts != 1 || len(srv.requests()) != 1 || ex.Status != 0 || ex.Err == "" {
		t.Errorf("timeout retried or logged wrong: %+v", ex)
	}
}

func TestTimeoutReadingBody(t *testing.T) {
	block := make(chan struct{})
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, "<Response>")
		w.(http.Flusher).Flush()
		<-block
	})
	t.Cleanup(func() { close(block) })
	// The status and the first bytes must come within the timeout: at
	// 100 ms they did not once under -race at load 50.
	_, ex, err := NewClient(Config{DefaultTimeout: time.Second}).Do(context.Background(), Request{URL: srv.URL})
	if code(err) != CodeRetrieval || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	if ex.Status != 200 {
		t.Errorf("status %d", ex.Status)
	}
}

func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestConnectionRefused(t *testing.T) {
	_, ex, err := NewClient(Config{}).Do(context.Background(), Request{URL: "http://" + closedAddr(t) + "/x", Retries: 1})
	if code(err) != CodeConnection {
		t.Fatalf("err = %v", err)
	}
	if ex.Attempts != 2 || ex.Status != 0 || !strings.Contains(ex.Err, "11205") {
		t.Errorf("exchange %+v", ex)
	}
}

func TestHTTPErrorStatus(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Thing", "a")
		http.Error(w, "nope", http.StatusServiceUnavailable)
	})
	resp, ex, err := NewClient(Config{}).Do(context.Background(), Request{URL: srv.URL, Retries: 3})
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeHTTPStatus || e.Status != 503 {
		t.Fatalf("err = %v", err)
	}
	if resp == nil || resp.Status != 503 || ex.Status != 503 || ex.ResponseBody != "nope\n" || ex.ResponseHeaders["x-thing"] != "a" || ex.Attempts != 1 {
		t.Errorf("resp %+v exchange %+v", resp, ex)
	}
}

func TestBodyLimits(t *testing.T) {
	pad := func(n int) string {
		return "<Response>" + strings.Repeat(" ", n-len("<Response></Response>")) + "</Response>"
	}
	for _, tc := range []struct {
		name string
		body string
		code int
	}{
		{"empty", "", CodeEmptyBody},
		{"blank", " \r\n", CodeEmptyBody},
		{"exactly 64 KiB", pad(64 << 10), 0},
		{"64 KiB + 1", pad(64<<10 + 1), CodeBodyTooLarge},
		{"1 MiB", pad(1 << 20), CodeBodyTooLarge},
	} {
		srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, tc.body)
		})
		resp, ex, err := NewClient(Config{}).Do(context.Background(), Request{URL: srv.URL})
		if code(err) != tc.code || (err == nil) != (tc.code == 0) {
			t.Errorf("%s: err = %v, want %d", tc.name, err, tc.code)
		}
		if len(ex.ResponseBody) > LogBodyBytes || resp == nil || resp.Status != 200 {
			t.Errorf("%s: logged %d bytes, resp %v", tc.name, len(ex.ResponseBody), resp)
		}
	}
}

func TestCancelledByCaller(t *testing.T) {
	block := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-block
	})
	t.Cleanup(func() { close(block) })
	hungUp := errors.New("caller hung up")
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		<-arrived
		cancel(hungUp)
	}()
	start := time.Now()
	_, ex, err := NewClient(Config{}).Do(ctx, Request{URL: srv.URL, Timeout: time.Minute, Retries: 2})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	if !errors.Is(err, hungUp) || !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	if ex.Attempts != 1 {
		t.Errorf("attempts %d", ex.Attempts)
	}
}

func TestInvalidURL(t *testing.T) {
	for _, u := range []string{"", "ftp://example.com/x", "example.com/x", "http://", "http://[::1", "mailto:a@b", "http:///path", "javascript:alert(1)"} {
		_, ex, err := NewClient(Config{}).Do(context.Background(), Request{URL: u})
		if code(err) != CodeInvalidURL || ex.Err == "" {
			t.Errorf("%q: err = %v", u, err)
		}
	}
}

func TestBasicAuthFromURL(t *testing.T) {
	var user, pass string
	var sigOK bool
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ = r.BasicAuth()
		r.ParseForm()
		sigOK = r.Header.Get("X-Twilio-Signature") == TwilioSignature("k", "http://"+r.Host+r.URL.RequestURI(), r.PostForm)
		serveTwiML(w, r)
	})
	u := strings.Replace(srv.URL, "http://", "http://bob:s3cret@", 1)
	_, ex, err := NewClient(Config{}).Do(context.Background(), Request{URL: u + "/x", Params: Params{{"A", "b"}}, SigningKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if user != "bob" || pass != "s3cret" || !sigOK {
		t.Errorf("user %q pass %q signature ok %v", user, pass, sigOK)
	}
	if strings.Contains(ex.URL, "s3cret") || strings.Contains(ex.FinalURL, "s3cret") {
		t.Errorf("password logged: %q", ex.URL)
	}
}

func TestResponseBodyLogTruncated(t *testing.T) {
	big := `{"module":"tts","data":{"text":"` + strings.Repeat("é", 6000) + `"}}`
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, big)
	})
	resp, ex, err := NewClient(Config{}).Do(context.Background(), Request{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != big || len(ex.ResponseBody) > LogBodyBytes || len(ex.ResponseBody) < LogBodyBytes-3 || !strings.HasPrefix(big, ex.ResponseBody) {
		t.Errorf("body %d bytes, logged %d", len(resp.Body), len(ex.ResponseBody))
	}
}

func BenchmarkDo(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		serveTwiML(w, r)
	}))
	defer srv.Close()
	c := NewClient(Config{})
	req := Request{
		URL: srv.URL + "/voice?acct=1", Method: "POST", SigningKey: "token", SwitchboardKey: "secret",
		Params: Params{
			{"CallSid", "CA0123456789abcdef0123456789abcdef"}, {"AccountSid", "AC0123456789abcdef0123456789abcdef"},
			{"From", "+14155550100"}, {"To", "+14155550199"}, {"CallStatus", "ringing"}, {"ApiVersion", "2010-04-01"},
			{"Direction", "inbound"}, {"Caller", "+14155550100"}, {"Called", "+14155550199"}, {"FromCity", ""},
			{"FromState", ""}, {"FromZip", ""}, {"FromCountry", "US"}, {"ToCity", ""}, {"ToState", ""}, {"ToZip", ""},
			{"ToCountry", "US"}, {"Digits", map[string]any{"default": "1234"}},
		},
	}
	ctx := context.Background()
	start := time.Now()
	n := 0
	for b.Loop() {
		if _, _, err := c.Do(ctx, req); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(n), "µs/op")
}

// TestKeptAliveConnectionReset: the customer server resets a kept-alive
// connection when the next request arrives on it (as one that closes idle
// connections does, at the wrong moment); the POST is sent again on a new
// connection, and the webhook succeeds.
func TestKeptAliveConnectionReset(t *testing.T) {
	var mu sync.Mutex
	served := map[string]int{} // requests per connection
	var resets int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		mu.Lock()
		served[r.RemoteAddr]++
		reset := served[r.RemoteAddr] == 2
		if reset {
			resets++
		}
		mu.Unlock()
		if reset {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.(*net.TCPConn).SetLinger(0) // close with RST
			conn.Close()
			return
		}
		serveTwiML(w, r)
	}))
	t.Cleanup(srv.Close)
	c := NewClient(Config{})
	for i := range 3 {
		if _, _, err := c.Do(context.Background(), Request{URL: srv.URL + "/voice", Method: "POST", Params: Params{{"CallSid", "CA1"}}}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if resets == 0 {
		t.Fatalf("the server never saw a second request on a kept-alive connection (%v): the test proves nothing", served)
	}
}

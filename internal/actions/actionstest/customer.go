package actionstest

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/internal/pivot"
)

// Reply is one scripted answer of the customer server.
type Reply struct {
	Status int    // 200 when 0
	Type   string // Content-Type; "text/xml" when ""; "none" sends no Content-Type at all
	Body   string // "{{base}}" becomes the server's URL
	// Location is sent with a 3xx ("{{base}}" expanded).
	Location string
	// Hold answers nothing until the client gives up (a timeout).
	Hold bool
}

// Doc is a TwiML document answer.
func Doc(verbs string) Reply {
	return Reply{Type: "text/xml; charset=utf-8", Body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response>" + verbs + "</Response>"}
}

// KazooAnswer is a Kazoo JSON answer.
func KazooAnswer(node string) Reply { return Reply{Type: "application/json", Body: node} }

// Received is one request the customer server got.
type Received struct {
	Method   string
	Path     string
	RawQuery string
	// URL is the full URL as requested: what signatures cover.
	URL    string
	Header http.Header
	Body   []byte
	// Values are the parameters wherever they came, as a typical server
	// merges them: the query string, then the form body or the JSON body
	// (nested objects as Key[Sub]).
	Values url.Values
	// Form is a form body alone (what X-Twilio-Signature covers).
	Form url.Values
	// JSON is a JSON body decoded.
	JSON map[string]any
}

// Param is a parameter's value; repeated values are joined with "|" so
// that an exact comparison also catches a parameter sent twice.
func (r Received) Param(k string) string { return strings.Join(r.Values[k], "|") }

// Has reports whether the parameter was sent at all.
func (r Received) Has(k string) bool { _, ok := r.Values[k]; return ok }

// Customer is a scripted customer web server: each path answers its
// replies in turn, the last one again and again; unknown paths are 404.
type Customer struct {
	// URL is the server's base URL ("{{base}}" in replies and data).
	URL string

	mu   sync.Mutex
	docs map[string][]Reply
	seen []Received
}

// NewCustomer starts a customer server answering docs (path → replies)
// until the test ends.
func NewCustomer(tb testing.TB, docs map[string][]Reply) *Customer {
	tb.Helper()
	c := &Customer{docs: maps.Clone(docs)}
	srv := httptest.NewServer(http.HandlerFunc(c.serve))
	tb.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

func (c *Customer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := Received{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		URL: "http://" + r.Host + r.URL.RequestURI(), Header: r.Header.Clone(), Body: body,
		Values: r.URL.Query(),
	}
	switch ct := pivot.MediaType(r.Header.Get("Content-Type")); {
	case r.Method == http.MethodPost && ct == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec.Form = form
		for k, vs := range form {
			rec.Values[k] = append(rec.Values[k], vs...)
		}
	case r.Method == http.MethodPost && ct == "application/json":
		if err := json.Unmarshal(body, &rec.JSON); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		FlattenJSON(rec.Values, "", rec.JSON)
	}
	c.mu.Lock()
	c.seen = append(c.seen, rec)
	replies := c.docs[r.URL.Path]
	var rp Reply
	found := len(replies) > 0
	if found {
		rp = replies[0]
		if len(replies) > 1 {
			c.docs[r.URL.Path] = replies[1:]
		}
	}
	c.mu.Unlock()

	if !found {
		http.Error(w, "no document at "+r.URL.Path, http.StatusNotFound)
		return
	}
	if rp.Hold {
		<-r.Context().Done()
		return
	}
	switch rp.Type {
	case "":
		w.Header().Set("Content-Type", "text/xml")
	case "none":
		w.Header()["Content-Type"] = nil // and no sniffing either
	default:
		w.Header().Set("Content-Type", rp.Type)
	}
	if rp.Location != "" {
		w.Header().Set("Location", strings.ReplaceAll(rp.Location, "{{base}}", c.URL))
	}
	if rp.Status != 0 {
		w.WriteHeader(rp.Status)
	}
	io.WriteString(w, strings.ReplaceAll(rp.Body, "{{base}}", c.URL))
}

// FlattenJSON adds the values of m to out as a typical web server reads a
// JSON body: nested objects as Key[Sub], non-strings as JSON.
func FlattenJSON(out url.Values, prefix string, m map[string]any) {
	for k, v := range m {
		if prefix != "" {
			k = prefix + "[" + k + "]"
		}
		switch v := v.(type) {
		case map[string]any:
			FlattenJSON(out, k, v)
		case string:
			out.Add(k, v)
		default:
			b, _ := json.Marshal(v)
			out.Add(k, string(b))
		}
	}
}

// Requests returns every request received, in order.
func (c *Customer) Requests() []Received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.seen)
}

// Paths lists the paths requested, in order.
func (c *Customer) Paths() []string {
	var out []string
	for _, r := range c.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// Request returns the i-th request (0-based) to path.
func (c *Customer) Request(tb testing.TB, path string, i int) Received {
	tb.Helper()
	n := 0
	for _, r := range c.Requests() {
		if r.Path == path {
			if n == i {
				return r
			}
			n++
		}
	}
	tb.Fatalf("no request %d to %s; requests: %q", i, path, c.Paths())
	return Received{}
}

// Absent, as a wanted parameter value, means the parameter must not be sent.
const Absent = "\x00absent"

// WantParams checks parameters of r; Absent ones must not be sent.
func WantParams(tb testing.TB, r Received, want map[string]string) {
	tb.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		w := want[k]
		switch {
		case w == Absent && r.Has(k):
			tb.Errorf("%s %s: parameter %s = %q, want it not sent", r.Method, r.Path, k, r.Param(k))
		case w != Absent && (!r.Has(k) || r.Param(k) != w):
			tb.Errorf("%s %s: parameter %s = %q (sent %v), want %q", r.Method, r.Path, k, r.Param(k), r.Has(k), w)
		}
	}
}

// WantExactly checks that r carries exactly want plus the keys listed in
// also (whatever their values).
func WantExactly(tb testing.TB, r Received, want map[string]string, also ...string) {
	tb.Helper()
	WantParams(tb, r, want)
	for k := range r.Values {
		if _, ok := want[k]; !ok && !slices.Contains(also, k) {
			tb.Errorf("%s %s: unexpected parameter %s = %q", r.Method, r.Path, k, r.Param(k))
		}
	}
}

// WantPaths checks the requests received, as "METHOD /path", in order.
func (c *Customer) WantPaths(tb testing.TB, want ...string) {
	tb.Helper()
	if got := c.Paths(); strings.Join(got, ", ") != strings.Join(want, ", ") {
		tb.Errorf("requests %q, want %q", got, want)
	}
}

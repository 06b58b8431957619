package servertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// APIScenario is one request and what its answer must hold: PocketBase's
// ApiScenario, so an endpoint's tests read as a table beside it. URL, Token,
// Body, Header and the expected contents may hold placeholders, "{name}",
// replaced by the server's values (Set, Capture; "{account}" is the default
// account), so a table can walk a document through its revisions.
type APIScenario struct {
	Name   string // the subtest's name
	Method string // GET, PUT, POST, PATCH, DELETE
	URL    string // a path: "/v2/accounts/{account}/callflows"
	// Token is the X-Auth-Token: "" the default account's token, "-" none,
	// anything else as given after expansion ("{token_b}").
	Token string
	// Body is sent as is when a string or []byte, as JSON otherwise.
	Body any
	// Header adds request headers ("If-Match", "Range"), values expanded.
	Header http.Header

	ExpectedStatus     int      // the HTTP status the answer must have
	ExpectedContent    []string // substrings of the raw answer
	NotExpectedContent []string // substrings the raw answer must not hold

	// Before runs before the request: fixtures the table does not show.
	Before func(t testing.TB, s *Server)
	// Capture keeps values of the answer for the next scenarios: the
	// placeholder name → a dotted path in the JSON answer ("data.id",
	// "revision", "data.0.id").
	Capture map[string]string
	// After checks what substrings cannot say.
	After func(t testing.TB, s *Server, r Response)
}

// Response is an answer as a scenario saw it.
type Response struct {
	Status int         // the HTTP status
	Body   []byte      // the raw answer
	Header http.Header // the answer's headers
}

// JSON decodes the answer (failing t when it is not JSON).
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, r.Body)
	}
	return env
}

// Get returns the value at a dotted path of the JSON answer ("data.id",
// "data.0.numbers"); nil when there is none.
func (r Response) Get(t testing.TB, path string) any {
	t.Helper()
	return Lookup(r.JSON(t), path)
}

// Lookup walks a decoded JSON value along a dotted path: object keys, and
// list indexes as numbers. Nil when the path leads nowhere.
func Lookup(v any, path string) any {
	if path == "" {
		return v
	}
	for key := range strings.SplitSeq(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[key]
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// Set defines the placeholder "{name}" for the following scenarios.
func (s *Server) Set(name, value string) {
	s.varsMu.Lock()
	defer s.varsMu.Unlock()
	if s.vars == nil {
		s.vars = map[string]string{}
	}
	s.vars[name] = value
}

// Expand replaces the placeholders of str: "{account}" and every Set name.
func (s *Server) Expand(str string) string {
	if !strings.Contains(str, "{") {
		return str
	}
	s.varsMu.Lock()
	defer s.varsMu.Unlock()
	pairs := []string{"{account}", s.AccountID}
	for k, v := range s.vars {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(str)
}

// Test runs the scenario as a subtest.
func (sc APIScenario) Test(t *testing.T, s *Server) {
	t.Helper()
	t.Run(sc.Name, func(t *testing.T) {
		saved := s.t
		s.t = t
		defer func() { s.t = saved }()
		if sc.Before != nil {
			sc.Before(t, s)
		}
		token := sc.Token
		switch token {
		case "":
			token = s.Token
		case "-":
			token = ""
		default:
			token = s.Expand(token)
		}
		var header http.Header
		for k, vs := range sc.Header {
			if header == nil {
				header = http.Header{}
			}
			for _, v := range vs {
				header.Add(k, s.Expand(v))
			}
		}
		r := s.DoResponse(sc.Method, s.Expand(sc.URL), token, sc.body(t, s), header)
		status, raw := r.Status, r.Body
		if status != sc.ExpectedStatus {
			t.Errorf("status %d, want %d: %s", status, sc.ExpectedStatus, raw)
		}
		for _, c := range sc.ExpectedContent {
			if c = s.Expand(c); !bytes.Contains(raw, []byte(c)) {
				t.Errorf("answer lacks %q: %s", c, raw)
			}
		}
		for _, c := range sc.NotExpectedContent {
			if c = s.Expand(c); bytes.Contains(raw, []byte(c)) {
				t.Errorf("answer has %q: %s", c, raw)
			}
		}
		for name, path := range sc.Capture {
			v := r.Get(t, path)
			if v == nil {
				t.Fatalf("capture %s: the answer has no %s: %s", name, path, raw)
			}
			s.Set(name, fmt.Sprint(v))
		}
		if sc.After != nil {
			sc.After(t, s, r)
		}
	})
}

// body is the request body with its placeholders expanded.
func (sc APIScenario) body(t testing.TB, s *Server) any {
	switch b := sc.Body.(type) {
	case nil:
		return nil
	case string:
		return s.Expand(b)
	case []byte:
		return []byte(s.Expand(string(b)))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		return []byte(s.Expand(string(j)))
	}
}

// Run runs scenarios in order on s: later ones may use what earlier ones
// captured.
func Run(t *testing.T, s *Server, scenarios []APIScenario) {
	t.Helper()
	for _, sc := range scenarios {
		sc.Test(t, s)
	}
}

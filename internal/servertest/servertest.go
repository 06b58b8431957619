// Package servertest boots a real Switchboard (server.New, SQLite in a
// temporary data dir, API on 127.0.0.1:0) for tests, and speaks its API:
// PocketBase's tests.NewTestApp and ApiScenario, for us (APIScenario, in
// scenario.go).
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	_ "github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/server"
)

// AdminKey is the admin API key every test server starts with.
const AdminKey = "test-admin-key-0123456789abcdef"

// Server is a running test server.
type Server struct {
	*server.Server
	URL       string // "http://127.0.0.1:port"
	DataDir   string
	AccountID string // the default account
	Token     string // an auth token of the default account

	t      testing.TB
	cfg    server.Config
	level  slog.Level
	closed bool

	varsMu sync.Mutex
	vars   map[string]string // placeholders for scenarios: Set, Expand
}

// Option changes the Config before the server starts.
type Option func(*server.Config)

// WithDataDir reuses a data dir (to test restarts).
func WithDataDir(dir string) Option { return func(c *server.Config) { c.DataDir = dir } }

// New starts a server and stops it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return NewAt(t, slog.LevelDebug, opts...)
}

// NewAt is New with the server logging at level: a benchmark measures the
// call path, not debug lines written to t.Log.
func NewAt(t testing.TB, level slog.Level, opts ...Option) *Server {
	t.Helper()
	cfg := server.Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), AdminKey: AdminKey}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{t: t, cfg: cfg, DataDir: cfg.DataDir, level: level}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	t := s.t
	t.Helper()
	log := slog.New(slog.NewTextHandler(&testWriter{t: t}, &slog.HandlerOptions{Level: s.level}))
	srv, err := server.New(t.Context(), s.cfg, log)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := srv.Start(context.WithoutCancel(t.Context())); err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	s.Server, s.closed = srv, false
	s.URL = "http://" + srv.HTTPAddr()
	s.AccountID = srv.Bootstrap().AccountID
	s.Token = s.SignIn(AdminKey)
}

// Stop shuts the server down (idempotent).
func (s *Server) Stop() {
	if s.closed || s.Server == nil {
		return
	}
	s.closed = true
	if err := s.Server.Close(context.WithoutCancel(s.t.Context())); err != nil {
		s.t.Errorf("close server: %v", err)
	}
}

// Restart stops the server and starts a new one on the same data dir.
func (s *Server) Restart() {
	s.Stop()
	s.cfg.HTTPAddr = "127.0.0.1:0"
	s.start()
}

// SignIn trades an API key for a token, failing the test on error.
func (s *Server) SignIn(apiKey string) string {
	s.t.Helper()
	status, env := s.Do("PUT", "/v2/api_auth", "", map[string]any{"data": map[string]any{"api_key": apiKey}})
	if status != http.StatusCreated {
		s.t.Fatalf("api_auth: status %d: %v", status, env)
	}
	tok, _ := env["auth_token"].(string)
	return tok
}

// AddAccount creates another account through the API (PUT
// /v2/accounts/{id}) and signs in with its key: a second tenant, to test the
// walls between accounts. It is a child of the default account, so its
// token never reaches the default account's documents, while the default
// account's token reaches its (Kazoo's account tree); two AddAccount
// accounts are siblings and reach nothing of each other. It returns the
// account's id and token.
func (s *Server) AddAccount(name string) (id, token string) {
	s.t.Helper()
	status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID, s.Token, map[string]any{"data": map[string]any{"name": name}})
	if status != http.StatusCreated {
		s.t.Fatalf("create account %s: status %d: %v", name, status, env)
	}
	id, _ = Lookup(env, "data.id").(string)
	key, _ := Lookup(env, "data.api_key").(string)
	return id, s.SignIn(key)
}

// Do sends a request with a token (none when empty) and a body (a string
// is sent as is, anything else as JSON) and decodes the answer.
func (s *Server) Do(method, path, token string, body any) (int, map[string]any) {
	s.t.Helper()
	status, raw := s.DoRaw(method, path, token, body, nil)
	var env map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &env); err != nil {
			s.t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return status, env
}

// DoRaw is Do with extra headers, returning the body as bytes.
func (s *Server) DoRaw(method, path, token string, body any, header http.Header) (int, []byte) {
	s.t.Helper()
	r := s.DoResponse(method, path, token, body, header)
	return r.Status, r.Body
}

// DoResponse is DoRaw returning the answer's headers too.
func (s *Server) DoResponse(method, path, token string, body any, header http.Header) Response {
	s.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatalf("encode body: %v", err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(s.t.Context(), method, s.URL+path, r)
	if err != nil {
		s.t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("read answer: %v", err)
	}
	return Response{Status: resp.StatusCode, Body: raw, Header: resp.Header}
}

// testWriter sends log lines to t.Log until the test ends, then drops them
// (a goroutine may still log during shutdown).
type testWriter struct {
	mu sync.Mutex
	t  testing.TB
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer func() { _ = recover() }() // t.Log after the test ended panics
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

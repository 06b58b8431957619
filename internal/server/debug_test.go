package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
)

func TestDebugAddrServesPprofOnLoopbackOnly(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, func(c *server.Config) { c.DebugAddr = "127.0.0.1:0" })
	res, err := http.Get("http://" + s.Server.DebugAddr() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(string(b), "goroutine profile: total ") {
		t.Errorf("pprof: %d %.80q", res.StatusCode, b)
	}
	// Not on the API's address.
	if _, body := s.DoRaw("GET", "/debug/pprof/", "", nil, nil); strings.Contains(string(body), "Types of profiles available") {
		t.Error("pprof reachable on the API address")
	}

	cfg := server.Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), DebugAddr: "0.0.0.0:0", AdminKey: servertest.AdminKey}
	srv, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.WithoutCancel(t.Context()))
	if err := srv.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "loopback only") {
		t.Errorf("pprof on 0.0.0.0: %v, want refused", err)
	}
}

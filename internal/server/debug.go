package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startDebug serves Go's profiler (pprof) on DebugAddr, which must be a
// loopback address: profiles show request contents and cost CPU, so they
// are for an operator on the host, never the network.
func (s *Server) startDebug(ctx context.Context) error {
	if s.cfg.DebugAddr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(s.cfg.DebugAddr)
	if err != nil {
		return fmt.Errorf("debug address %q: %w", s.cfg.DebugAddr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("debug address %q: pprof listens on loopback only (127.0.0.1:6060, [::1]:6060 or localhost:6060)", s.cfg.DebugAddr)
	}
	ln, err := net.Listen("tcp", s.cfg.DebugAddr)
	if err != nil {
		return fmt.Errorf("listen debug %s: %w", s.cfg.DebugAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s.debugLn = ln
	s.debugSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	go func() {
		if err := s.debugSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("debug server stopped", "err", err)
		}
	}()
	s.log.Info("debug listening", "addr", ln.Addr().String())
	return nil
}

// DebugAddr is the bound address of pprof, "" when it is off.
func (s *Server) DebugAddr() string {
	if s.debugLn == nil {
		return ""
	}
	return s.debugLn.Addr().String()
}

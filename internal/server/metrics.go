package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/api"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/metrics"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/store"
)

// metricsPath is where the API address serves /metrics to an operator.
const metricsPath = "/metrics"

// withMetrics serves /metrics on the API's address to a token of the
// default account (the operator's; a tenant's token sees 403, none 401),
// and everything else from next. Scrapers that cannot send a token use
// Config.MetricsAddr instead.
func (s *Server) withMetrics(next http.Handler) http.Handler {
	h := s.metrics.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != metricsPath {
			next.ServeHTTP(w, r)
			return
		}
		api.SetAPIHeaders(w.Header())
		if status, msg := s.operator(r); status != http.StatusOK {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(status)
			fmt.Fprintln(w, msg)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// operator checks that r carries a live token of the default account.
func (s *Server) operator(r *http.Request) (int, string) {
	token := r.Header.Get("X-Auth-Token")
	if token == "" {
		if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			token = strings.TrimSpace(b)
		}
	}
	if token == "" || len(token) > 256 {
		return http.StatusUnauthorized, "an operator token (X-Auth-Token) is required"
	}
	acct, err := store.AccountOfToken(r.Context(), s.store, token, time.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusUnauthorized, "unknown or expired token"
	case err != nil:
		s.log.Warn("metrics token check failed", "err", err)
		return http.StatusInternalServerError, "token check failed"
	case acct != s.bootstrap.AccountID:
		return http.StatusForbidden, "metrics are for the operator (a token of the default account)"
	}
	return http.StatusOK, ""
}

// startMetrics serves /metrics without a token on MetricsAddr, when set:
// for a Prometheus on the operator's network. Bind it to an interface
// tenants cannot reach.
func (s *Server) startMetrics(ctx context.Context) error {
	if s.cfg.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen metrics %s: %w", s.cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+metricsPath, s.metrics.Handler())
	s.metricsLn = ln
	s.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	go func() {
		if err := s.metricsSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics server stopped", "err", err)
		}
	}()
	s.log.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}

// MetricsAddr is the bound address of the separate metrics listener, ""
// when it is off.
func (s *Server) MetricsAddr() string {
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}

// Metrics is the server's registry (tests read it through /metrics).
func (s *Server) Metrics() *metrics.Registry { return s.metrics }

// registerMedia exports the media layer's counters, read at scrape time.
func (s *Server) registerMedia(m *media.Manager) {
	s.metrics.Register(metrics.NewMediaCollector(func() metrics.Media {
		t := m.Totals()
		out := metrics.Media{
			PacketsIn: t.PacketsReceived, PacketsOut: t.PacketsSent, BytesIn: t.BytesReceived, BytesOut: t.BytesSent,
			Dropped: map[string]uint64{"source": t.DroppedSource, "late": t.DroppedLate,
				"overflow": t.DroppedOverflow, "invalid": t.DroppedInvalid},
			SendErrors: t.DroppedSend,
			Sessions:   t.Sessions, PortsInUse: t.PortsInUse, PortsTotal: t.PortsTotal,
			Cache: map[string]metrics.CacheCounts{
				"prompt": {Hits: t.PromptHits, Misses: t.PromptMisses},
				"url":    {Hits: t.URLHits, Misses: t.URLMisses},
				"tts":    {Hits: t.TTSHits, Misses: t.TTSMisses},
			},
			Pacing:          histogram(t.Pacing),
			PacingWake:      histogram(t.PacingWake),
			PacingRealtime:  t.PacingRealtime,
			PacingDemotions: t.PacingDemotions,
			PacingSpills:    t.PacingSpills,
		}
		return out
	}))
}

// histogram converts a media histogram to the metrics package's, in
// seconds.
func histogram(h media.Histogram) metrics.Histogram {
	out := metrics.Histogram{Counts: h.Counts, Count: h.Count, Sum: h.Sum.Seconds()}
	for _, b := range h.Bounds {
		out.Bounds = append(out.Bounds, b.Seconds())
	}
	return out
}

// registerSIP exports the SIP message counts, read at scrape time.
func (s *Server) registerSIP(srv *sip.Server) {
	s.metrics.Register(metrics.NewSIPCollector(func() metrics.SIP {
		req, res := srv.MessageCounts()
		var out metrics.SIP
		for _, c := range req {
			out.Requests = append(out.Requests, metrics.Count{Name: c.Name, Direction: c.Direction, N: c.N})
		}
		for _, c := range res {
			out.Responses = append(out.Responses, metrics.Count{Name: c.Name, Direction: c.Direction, N: c.N})
		}
		out.Shed = srv.ShedCounts()
		out.SchedLatencyP99, out.ShedCap = -1, -1
		if p, on := srv.SchedLatency(); on {
			out.SchedLatencyP99 = p.Seconds()
		}
		if c, on := srv.ShedCap(); on {
			out.ShedCap = c
		}
		out.ShedLimit, out.InProgress = -1, -1
		if l, n, on := srv.ShedLimit(); on {
			out.ShedLimit, out.InProgress = l, float64(n)
		}
		out.InSetup, out.SetupTime = -1, -1
		if n, d, on := srv.ShedSetup(); on {
			out.InSetup, out.SetupTime = float64(n), d.Seconds()
		}
		return out
	}))
}

// meteredCallLog times the call log's writes and the webhooks it records
// (every exchange the engine makes is written here with its duration and
// status), so the store and the pivot client need no metrics of their own.
type meteredCallLog struct {
	store.CallLog
	m *metrics.Registry
}

func (l meteredCallLog) SaveCall(ctx context.Context, c store.CallRecord) error {
	start := time.Now()
	err := l.CallLog.SaveCall(ctx, c)
	l.m.StoreWrite("call", time.Since(start))
	return err
}

func (l meteredCallLog) AddWebhook(ctx context.Context, w store.WebhookRecord) error {
	l.m.Webhook(w.Status, w.Duration)
	start := time.Now()
	err := l.CallLog.AddWebhook(ctx, w)
	l.m.StoreWrite("webhook", time.Since(start))
	return err
}

// Package metrics is what an operator sees of a running Switchboard in
// Prometheus's format: calls, SIP messages, RTP, pacing, webhooks, caches,
// the store, goroutines. It is a leaf: the packages that do the work keep
// their own counters (atomics they need anyway), and the collectors here
// read them at scrape time through plain functions the server passes in,
// so a scrape costs a little and a call or a packet costs nothing more.
// Only rare events (a call starting or ending, a webhook, a store write)
// are observed as they happen.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric of ours.
const namespace = "switchboard"

// maxCauses bounds the hangup-cause label: causes come from the far end
// (a SIP code) or the flow, so beyond this many distinct values they count
// as "other" rather than grow the series without end.
const maxCauses = 64

// Registry holds the process's metrics. Its methods are safe for
// concurrent use and a nil *Registry ignores every observation, so code
// built without metrics (tests, the simulate command) needs no checks.
type Registry struct {
	reg *prometheus.Registry

	callsActive  prometheus.Gauge
	callsStarted prometheus.Counter
	callsEnded   *prometheus.CounterVec

	webhook    *prometheus.HistogramVec
	storeWrite *prometheus.HistogramVec

	mu     sync.Mutex
	causes map[string]bool
}

// New builds a registry with the Go runtime's collector (goroutines,
// memory, GC: go_goroutines is one of the operator's first questions) and
// the process collector (CPU seconds, open files, RSS).
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry(), causes: map[string]bool{}}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.callsActive = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "calls_active",
		Help: "Calls running now (SIP and simulated)."})
	r.callsStarted = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "calls_started_total",
		Help: "Calls started; rate() of it is calls per second."})
	r.callsEnded = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "calls_ended_total",
		Help: "Calls ended, by hangup cause (a SIP code as sip:NNN, or the flow's cause)."}, []string{"cause"})
	r.webhook = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "webhook_duration_seconds",
		Help:    "Pivot webhook round trips, by outcome: ok (2xx), http_error (any other status), failed (no answer).",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"outcome"})
	r.storeWrite = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "store_write_duration_seconds",
		Help:    "Call-log writes as the caller waits for them (batching included), by operation.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}}, []string{"op"})
	r.reg.MustRegister(r.callsActive, r.callsStarted, r.callsEnded, r.webhook, r.storeWrite)
	return r
}

// Handler serves the registry in Prometheus's text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// Register adds a collector (the pull collectors of this package); it
// panics on a duplicate, a programming error found at start.
func (r *Registry) Register(c prometheus.Collector) {
	if r != nil {
		r.reg.MustRegister(c)
	}
}

// CallStarted counts a call that starts running.
func (r *Registry) CallStarted() {
	if r == nil {
		return
	}
	r.callsStarted.Inc()
	r.callsActive.Inc()
}

// CallEnded counts a call's end with its hangup cause.
func (r *Registry) CallEnded(cause string) {
	if r == nil {
		return
	}
	r.callsActive.Dec()
	if cause == "" {
		cause = "unknown"
	}
	r.mu.Lock()
	if !r.causes[cause] {
		if len(r.causes) >= maxCauses {
			cause = "other"
		}
		r.causes[cause] = true
	}
	r.mu.Unlock()
	r.callsEnded.WithLabelValues(cause).Inc()
}

// Webhook outcomes.
const (
	WebhookOK        = "ok"
	WebhookHTTPError = "http_error"
	WebhookFailed    = "failed"
)

// Webhook observes one webhook round trip. status is the HTTP status, 0
// when no answer came.
func (r *Registry) Webhook(status int, d time.Duration) {
	if r == nil {
		return
	}
	outcome := WebhookOK
	switch {
	case status == 0:
		outcome = WebhookFailed
	case status < 200 || status > 299:
		outcome = WebhookHTTPError
	}
	r.webhook.WithLabelValues(outcome).Observe(d.Seconds())
}

// StoreWrite observes one call-log write of op ("call", "webhook").
func (r *Registry) StoreWrite(op string, d time.Duration) {
	if r == nil {
		return
	}
	r.storeWrite.WithLabelValues(op).Observe(d.Seconds())
}

// Package server builds Switchboard from one Config: the store, the router,
// the API (and, as they land, the engine, SIP and media). The command and
// the tests both start it through New and Start.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/api"
	"github.com/switchboard/switchboard/internal/egress"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/metrics"
	"github.com/switchboard/switchboard/internal/netlimit"
	"github.com/switchboard/switchboard/internal/pivot"
	"github.com/switchboard/switchboard/internal/routing"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/store/sqlite"
	"github.com/switchboard/switchboard/internal/twiml"
	"github.com/switchboard/switchboard/internal/voicemail"
)

// Config is every process setting; a zero field means the documented
// default.
type Config struct {
	// HTTPAddr is where the API and the web UI listen; ":8080" by default.
	HTTPAddr string
	// DataDir holds the database and recordings; "./data" by default.
	DataDir string
	// AdminKey, when set, is an API key of the default account (created on
	// an empty data dir, added to it otherwise). When empty on an empty data
	// dir a key is generated and reported once in Bootstrap.
	AdminKey string
	// API tunes the REST API.
	API api.Config
	// ShutdownTimeout bounds a graceful stop; 10 s by default.
	ShutdownTimeout time.Duration
	// Engine limits every call (nodes visited, webhook documents).
	Engine engine.Config
	// Webhooks tunes the Pivot webhook client. A nil Webhooks.Transport
	// becomes one under the egress policy.
	Webhooks pivot.Config
	// Egress is where accounts' webhooks, <Play> fetches and SIP dials may
	// go: its Allow comes from --webhook-allow; an empty DefaultAccount
	// becomes the store's default account (the operator's, which may
	// reach anything); per-account networks are read from the store and
	// added to Accounts.
	Egress egress.Config
	// CallLogKeep is how many recent calls of each account keep their trace
	// and webhook log (calls with a debug pivot are kept too); 1000 by
	// default.
	CallLogKeep int
	// RecordingURLTTL is how long a RecordingUrl sent to a webhook can be
	// fetched without credentials; 7 days by default (then HTTP Basic with
	// the AccountSid and auth token still works).
	RecordingURLTTL time.Duration
	// QueueMaxWait bounds a caller's wait in a TwiML <Enqueue>; 1 h by
	// default.
	QueueMaxWait time.Duration
	// SIP configures the SIP listeners. An empty SIP.Addr leaves SIP off
	// (the serve command's default is ":5060").
	SIP sip.Config
	// Media configures RTP (public IP, ports); its DataDir defaults to
	// DataDir, its RecordingURL to the API's recordings endpoint.
	Media media.Config
	// Trust lists source networks ("10.0.0.0/8", "192.0.2.7") whose SIP
	// calls belong to the default account: an inbound trunk that is not
	// stored.
	Trust []string
	// Registrar tunes the registrar (binding lifetimes, NAT keep-alive);
	// its Directory, Bindings and Extensions are the server's own.
	Registrar sip.RegistrarConfig
	// HTTPLimits bound the API's connections, in total and per source
	// address; a connection over them gets 503 at once. Zero fields mean
	// the defaults: a quarter of the open-file limit (at most 10,000) in
	// total, 256 per source.
	HTTPLimits netlimit.Limits
	// DebugAddr, when set, serves Go's pprof there; loopback only, off by
	// default.
	DebugAddr string
	// MetricsAddr, when set, serves /metrics there without a token (for a
	// Prometheus on the operator's network); the API's address serves it
	// too, to a token of the default account. Off by default.
	MetricsAddr string
	// NoBootstrap opens an existing data dir without creating an account or
	// adding a key (switchboard simulate); the default account is the first
	// one.
	NoBootstrap bool
}

func (c Config) withDefaults() Config {
	if c.HTTPAddr == "" {
		c.HTTPAddr = ":8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.CallLogKeep <= 0 {
		c.CallLogKeep = 1000
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.HTTPLimits.Total <= 0 {
		c.HTTPLimits.Total = min(openFileLimit()/4, 10_000)
	}
	if c.HTTPLimits.PerSource <= 0 {
		c.HTTPLimits.PerSource = 256
	}
	return c
}

// Server is a running Switchboard.
type Server struct {
	cfg       Config
	log       *slog.Logger
	store     store.Store
	callLog   *sqlite.CallLogDB
	listed    liveCallLog // callLog with the calls in progress merged in (the API's view)
	router    *routing.Router
	engine    *engine.Engine
	calls     *Calls
	api       *api.API
	bootstrap store.DefaultAccount

	httpLn  net.Listener
	httpSrv *http.Server

	debugLn  net.Listener
	debugSrv *http.Server

	metrics    *metrics.Registry
	metricsLn  net.Listener
	metricsSrv *http.Server

	trunks *trunkTable
	sip    *sip.Server
	// media plays and records on SIP calls and keeps each account's media
	// audio (served by the API); built in New, used by SIP once started.
	media  *media.Manager
	phones *phoneDirectory // users and devices, for the registrar
	// carriers are the accounts' resources, for calls to numbers
	carriers *carrierTable

	// egress is the policy every outbound request and call goes through.
	egress *egress.Policy
	// egressDB is the store's database, for the account settings kept
	// beside the account rows (egress networks, music on hold).
	egressDB *sqlite.DB
}

// Files inside the data dir.
const (
	// DatabaseFile holds accounts, keys and call flows.
	DatabaseFile = "switchboard.db"
	// CallLogFile holds call traces and webhook exchanges, apart so call
	// volume never blocks an admin's save.
	CallLogFile = "calls.db"
)

// New opens the data dir, creates the default account on first start, and
// loads every call flow into the router. It does not listen yet: Start does.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", cfg.DataDir, err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, DatabaseFile), log.With("component", "store"))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	callLog, err := sqlite.OpenCallLog(ctx, filepath.Join(cfg.DataDir, CallLogFile), log.With("component", "calllog"))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open call log: %w", err)
	}
	// Calls the previous process left running (it was killed) end now,
	// so the log never shows a call in progress for ever.
	if n, err := callLog.CloseUnended(ctx, "node_restart"); err != nil {
		log.Warn("calls left open by the previous run not closed", "err", err)
	} else if n > 0 {
		log.Warn("calls left open by the previous run closed", "count", n, "cause", "node_restart")
	}
	s := &Server{cfg: cfg, log: log, store: db, callLog: callLog, router: routing.New(), metrics: metrics.New()}
	metered := meteredCallLog{callLog, s.metrics}
	if err := s.init(ctx); err != nil {
		db.Close()
		callLog.Close()
		return nil, err
	}
	s.trunks, err = newTrunkTable(cfg.Trust, s.bootstrap.AccountID, log.With("component", "trunks"))
	if err != nil {
		db.Close()
		callLog.Close()
		return nil, err
	}
	flows := newFlowCache()
	s.phones = newPhoneDirectory()
	s.carriers = newCarrierTable(log.With("component", "carriers"))
	idx := &indexes{log: log.With("component", "indexes"), byKind: map[string][]docIndex{
		"callflows": {routerIndex{router: s.router, log: log.With("component", "router")}, flows},
		"trunks":    {s.trunks},
		"devices":   {s.phones},
		"users":     {s.phones},
		"groups":    {s.phones},
		"resources": {s.carriers},
	}}
	if err := idx.load(ctx, db); err != nil {
		db.Close()
		callLog.Close()
		return nil, err
	}
	if err := s.loadAccountDefaults(ctx); err != nil {
		db.Close()
		callLog.Close()
		return nil, err
	}
	if err := reindexPending(ctx, db, log.With("component", "indexes")); err != nil {
		db.Close()
		callLog.Close()
		return nil, fmt.Errorf("reindex: %w", err)
	}
	if cfg.API.RecordingsDir == "" {
		cfg.API.RecordingsDir = filepath.Join(cfg.DataDir, "recordings")
	}
	if err := s.initEgress(ctx, db); err != nil {
		db.Close()
		callLog.Close()
		return nil, err
	}
	if cfg.Webhooks.Transport == nil {
		base := http.DefaultTransport.(*http.Transport).Clone()
		base.MaxIdleConns, base.MaxIdleConnsPerHost = 1024, 64
		cfg.Webhooks.Transport = s.egress.Transport(base)
	}
	webhooks := pivot.NewClient(cfg.Webhooks)
	queues := twiml.NewQueues()
	queues.MaxWait = cfg.QueueMaxWait
	deps := &actions.Deps{
		Flows:         flows,
		Numbers:       numberRouter{router: s.router, flows: flows},
		Webhooks:      webhooks,
		CallLog:       metered,
		Queues:        queues,
		TemporalRules: db,
		LocalMedia:    recordingFile(cfg.API.RecordingsDir),
		Documents:     db,
		Writes:        docWriter{docs: db, reserved: s.trunks.trust},
	}
	if err := deps.Validate(); err != nil {
		db.Close()
		callLog.Close()
		return nil, fmt.Errorf("engine: %w", err)
	}
	s.engine = engine.New(cfg.Engine, deps, log.With("component", "engine"))
	s.calls = &Calls{
		store: db, callLog: metered, metrics: s.metrics, router: s.router, flows: flows, engine: s.engine,
		log: log.With("component", "calls"), keepLast: cfg.CallLogKeep, accounts: map[string]engine.Account{},
		live: newLiveCalls(), stopMark: make(chan struct{}), base: context.WithoutCancel(ctx),
	}
	s.listed = liveCallLog{CallLog: callLog, live: s.calls.live}
	if s.media, err = s.newMedia(); err != nil {
		db.Close()
		callLog.Close()
		return nil, err
	}
	deps.Voicemail = &voicemail.Store{Docs: db, Audio: s.media}
	cfg.API.Reserved = append(cfg.API.Reserved, s.trunks.trust...)
	s.api = api.New(cfg.API, db, log.With("component", "api"),
		api.Deps{CallLog: s.listed, Simulator: s, Egress: s, Music: s, Accounts: s, AccountChanged: s.accountChanged, Media: s.media,
			Registrations: s, Webhooks: webhooks})
	return s, nil
}

func (s *Server) init(ctx context.Context) error {
	b, err := bootstrap(ctx, s.store, s.cfg.AdminKey, s.cfg.NoBootstrap)
	if err != nil {
		return err
	}
	s.bootstrap = b
	return nil
}

// bootstrap readies the store's default account and admin key
// (store.EnsureDefaultAccount), or only finds the default account when
// readOnly.
func bootstrap(ctx context.Context, st store.Store, adminKey string, readOnly bool) (store.DefaultAccount, error) {
	if !readOnly {
		return store.EnsureDefaultAccount(ctx, st, adminKey)
	}
	id, err := store.DefaultAccountID(ctx, st)
	if errors.Is(err, store.ErrNotFound) {
		return store.DefaultAccount{}, errors.New("the data dir has no account: start `switchboard serve` on it once")
	}
	if err != nil {
		return store.DefaultAccount{}, err
	}
	return store.DefaultAccount{AccountID: id}, nil
}

// Bootstrap reports what New created.
func (s *Server) Bootstrap() store.DefaultAccount { return s.bootstrap }

// Store is the server's store, for tests and the CLI.
func (s *Server) Store() store.Store { return s.store }

// Calls runs inbound calls (SIP legs and simulations).
func (s *Server) Calls() *Calls { return s.calls }

// CallLog keeps traces and webhook exchanges; it lists the calls in
// progress too, as the API does.
func (s *Server) CallLog() store.CallLog { return s.listed }

// Router is the server's number router.
func (s *Server) Router() *routing.Router { return s.router }

// Start listens on every configured address and serves in the background;
// it returns once the listeners are bound (so port 0 works in tests).
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen http %s: %w", s.cfg.HTTPAddr, err)
	}
	// Bounded: a flood of idle or slow connections meets a 503 long before
	// the process runs out of descriptors, and a slow body is cut off.
	ln = netlimit.Wrap(ln, s.cfg.HTTPLimits, netlimit.HTTP503)
	s.httpLn = ln
	s.httpSrv = &http.Server{
		Handler:           s.withMetrics(s.api.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// SIP and pprof bind before "http listening" is logged, so whoever
	// waits for that line (tests, scripts) finds every listener ready.
	if err := s.startSIP(ctx); err != nil {
		ln.Close()
		return err
	}
	if err := s.startDebug(ctx); err != nil {
		ln.Close()
		return err
	}
	if err := s.startMetrics(ctx); err != nil {
		ln.Close()
		return err
	}
	go func() {
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	s.log.Info("http listening", "addr", ln.Addr().String())
	return nil
}

// HTTPAddr is the bound address of the API ("127.0.0.1:41234").
func (s *Server) HTTPAddr() string {
	if s.httpLn == nil {
		return ""
	}
	return s.httpLn.Addr().String()
}

// Run starts the server and blocks until ctx ends, then shuts down
// gracefully: in-flight requests finish, then the store closes.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		s.Close(context.WithoutCancel(ctx))
		return err
	}
	<-ctx.Done()
	s.log.Info("shutting down")
	return s.Close(context.WithoutCancel(ctx))
}

// Close stops listening, waits for in-flight requests (up to
// ShutdownTimeout) and closes the store.
func (s *Server) Close(ctx context.Context) error {
	var errs []error
	if s.sip != nil {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
		if err := s.sip.Close(sctx); err != nil {
			errs = append(errs, fmt.Errorf("sip close: %w", err))
		}
		cancel()
	}
	if s.debugSrv != nil {
		s.debugSrv.Close()
	}
	if s.metricsSrv != nil {
		s.metricsSrv.Close()
	}
	if s.httpSrv != nil {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
		defer cancel()
		if err := s.httpSrv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
	}
	s.calls.wait()
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	if err := s.callLog.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close call log: %w", err))
	}
	return errors.Join(errs...)
}

// Package api is Switchboard's REST API, compatible with Kazoo's Crossbar
// for call flows: the same paths, envelope, auth flow and error shapes.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

// Config holds the API's settings; a zero field means the documented
// default.
type Config struct {
	// MaxBodyBytes bounds a request body; 1 MiB by default.
	MaxBodyBytes int64
	// MaxImportBytes bounds the body of POST …/import, a whole account's
	// documents applied at once; 64 MiB by default.
	MaxImportBytes int64
	// TokenTTL is how long an auth token from PUT /v2/api_auth lives; 1 h by
	// default, as Kazoo.
	TokenTTL time.Duration
	// Version is reported in the envelope.
	Version string
	// RecordingsDir holds recordings, one directory per account id;
	// GET …/recordings/{file} serves from it. Empty: none are served.
	RecordingsDir string
	// LoginFailuresFree is how many failed sign-ins in a row a source
	// address may make before PUT /v2/api_auth refuses it for a while; 5
	// by default.
	LoginFailuresFree int
	// LoginMaxLockout is the longest such refusal (each further failure
	// doubles it from 1 s); 15 min by default.
	LoginMaxLockout time.Duration
	// LoginSources bounds the sources the sign-in throttle remembers; 10,000
	// by default.
	LoginSources int
	// Reserved are source networks no account may claim in a trunk: the
	// operator's trusted networks (server.Config.Trust).
	Reserved []netip.Prefix
	// MaxMediaBytes bounds an audio upload (PUT …/media/{id}/raw); 16 MiB
	// by default, about 17 minutes of 16-bit 8 kHz WAV.
	MaxMediaBytes int64
}

func (c Config) withDefaults() Config {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxImportBytes <= 0 {
		c.MaxImportBytes = 64 << 20
	}
	if c.MaxMediaBytes <= 0 {
		c.MaxMediaBytes = 16 << 20
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = time.Hour
	}
	if c.LoginFailuresFree <= 0 {
		c.LoginFailuresFree = 5
	}
	if c.LoginMaxLockout <= 0 {
		c.LoginMaxLockout = 15 * time.Minute
	}
	if c.LoginSources <= 0 {
		c.LoginSources = 10_000
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	return c
}

// API serves the REST endpoints over a store. It keeps no index of its
// own: the server's indexes follow the store's writes (store.Documents'
// Watch), whoever made them.
type API struct {
	cfg   Config
	store store.Store
	log   *slog.Logger
	now   func() time.Time

	callLog   store.CallLog
	sim       Simulator
	logins    *loginThrottle
	egress    EgressSettings
	music     AccountMusic
	replacer  AccountReplacer
	onAccount func(ctx context.Context, accountID string)
	media     MediaLibrary
	regs      Registrations
	webhooks  Webhooks
}

// Deps are the services the API serves besides the store, given once at
// construction. A nil field turns its endpoints into 503s (a tool that
// serves documents only needs neither).
type Deps struct {
	// CallLog answers …/calls, call traces and …/pivot/debug.
	CallLog store.CallLog
	// Simulator runs the test calls of POST …/simulate.
	Simulator Simulator
	// Egress keeps the networks the operator lets each account reach
	// (PATCH /v2/accounts/{id} with egress_allow).
	Egress EgressSettings
	// Music keeps each account's music on hold (GET and PATCH
	// /v2/accounts/{id} with music_on_hold).
	Music AccountMusic
	// Accounts replaces an account's own document (Kazoo's POST
	// /v2/accounts/{id}: its name and music_on_hold).
	Accounts AccountReplacer
	// AccountChanged, when set, is told of an account whose auth token or
	// settings (timezone, caller_id …) changed, so that caches of it (the
	// server's) are refreshed.
	AccountChanged func(ctx context.Context, accountID string)
	// Media keeps the media documents' audio (…/media/{id}/raw, tts media,
	// export and import).
	Media MediaLibrary
	// Registrations lists the phones registered (…/registrations).
	Registrations Registrations
	// Webhooks is the Pivot block's webhook client, for "Try it"
	// (POST …/pivot/try): the same client, so the same egress policy.
	Webhooks Webhooks
}

// New builds the API over a store (whose documents part, store.Documents,
// serves every document kind).
func New(cfg Config, st store.Store, log *slog.Logger, deps Deps) *API {
	cfg = cfg.withDefaults()
	return &API{cfg: cfg, store: st, log: log, now: time.Now,
		callLog: deps.CallLog, sim: deps.Simulator, logins: newLoginThrottle(cfg), egress: deps.Egress, music: deps.Music, replacer: deps.Accounts,
		onAccount: deps.AccountChanged, media: deps.Media, regs: deps.Registrations,
		webhooks: deps.Webhooks}
}

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyAccount
	keyActor
	keyToken
)

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(keyRequestID).(string)
	return id
}

// route is one endpoint; the table feeds the mux and the OpenAPI test.
type route struct {
	method, path string
	auth         bool
	h            func(a *API, w http.ResponseWriter, r *http.Request) error
}

// routes is the static table followed by every registered kind's routes
// (kindRoutes).
var routes = append([]route{
	{"PUT", "/v2/api_auth", false, (*API).apiAuth},
	{"GET", "/v2/accounts/{account_id}", true, (*API).getAccount},
	{"DELETE", "/v2/token_auth", true, (*API).signOut},
	{"PUT", "/v2/accounts/{account_id}", true, (*API).createSubAccount},
	{"PATCH", "/v2/accounts/{account_id}", true, (*API).patchAccount},
	{"POST", "/v2/accounts/{account_id}", true, (*API).replaceAccount},
	{"GET", "/v2/accounts/{account_id}/children", true, (*API).listChildren},
	{"GET", "/v2/accounts/{account_id}/descendants", true, (*API).listDescendants},
	{"PUT", "/v2/accounts/{account_id}/api_key", true, (*API).rotateAPIKey},
	{"PUT", "/v2/accounts/{account_id}/reseller", true, (*API).promoteReseller},
	{"DELETE", "/v2/accounts/{account_id}/reseller", true, (*API).demoteReseller},
	{"GET", "/v2/accounts/{account_id}/callflows/actions", true, (*API).catalog},
	{"GET", "/v2/accounts/{account_id}/export", true, (*API).export},
	{"POST", "/v2/accounts/{account_id}/import", true, (*API).importDocs},
	{"GET", "/v2/accounts/{account_id}/auth_token", true, (*API).getAuthToken},
	{"POST", "/v2/accounts/{account_id}/auth_token", true, (*API).rotateAuthToken},
	{"GET", "/v2/accounts/{account_id}/recordings/{file}", false, (*API).getRecording},
	{"GET", "/v2/accounts/{account_id}/recordings/signed/{grant}/{file}", false, (*API).getSignedRecording},
	{"POST", "/v2/accounts/{account_id}/simulate", true, (*API).simulate},
	{"GET", "/v2/accounts/{account_id}/calls", true, (*API).listCalls},
	{"GET", "/v2/accounts/{account_id}/calls/refused", true, (*API).listRefused},
	{"GET", "/v2/accounts/{account_id}/calls/{call_id}/trace", true, (*API).callTrace},
	{"GET", "/v2/accounts/{account_id}/pivot/debug", true, (*API).pivotDebugList},
	{"GET", "/v2/accounts/{account_id}/pivot/debug/{call_id}", true, (*API).pivotDebugCall},
	{"POST", "/v2/accounts/{account_id}/pivot/try", true, (*API).pivotTry},
	{"GET", "/v2/accounts/{account_id}/temporal_rules/status", true, (*API).temporalStatusList},
	{"GET", "/v2/accounts/{account_id}/temporal_rules/{rule_id}/status", true, (*API).temporalStatusOne},
	{"GET", "/v2/accounts/{account_id}/registrations", true, (*API).listRegistrations},
	{"GET", "/v2/accounts/{account_id}/devices/{device_id}/registrations", true, (*API).listRegistrations},
	{"GET", "/v2/openapi.json", false, (*API).openAPI},
	{"GET", "/healthz", false, (*API).health},
}, slices.Concat(kindRoutes(), mediaRoutes(), vmboxMessageRoutes(), schemaRoutes())...)

// Handler returns the http.Handler serving every route, with request ids,
// Kazoo verb tunnelling, authentication and JSON errors for unknown paths.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes {
		fn := rt.h
		h := a.handle(func(w http.ResponseWriter, r *http.Request) error { return fn(a, w, r) })
		if rt.auth {
			h = a.authenticate(h)
		}
		mux.Handle(rt.method+" "+rt.path, h)
	}
	mux.Handle("/", uiHandler())
	mux.Handle("/v2/", a.handle(func(w http.ResponseWriter, r *http.Request) error {
		return &Error{Status: http.StatusNotFound, Message: "not found", Data: map[string]any{"path": r.URL.Path}}
	}))
	return a.envelope(mux)
}

// envelope gives every request an id and honours Kazoo's ?verb= tunnelling.
func (a *API) envelope(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 64 {
			id = store.NewID()
		}
		w.Header().Set("X-Request-ID", id)
		setSecurityHeaders(w.Header(), apiCSP)
		// Answers hold tokens, keys and tenants' documents: no cache keeps
		// them (the UI's files and recordings say otherwise themselves).
		w.Header().Set("Cache-Control", "no-store")
		if v := r.URL.Query().Get("verb"); v != "" && r.Method == http.MethodPost {
			switch v = upper(v); v {
			case "PUT", "PATCH", "DELETE", "GET":
				r.Method = v
			}
		}
		r = r.WithContext(context.WithValue(r.Context(), keyRequestID, id))
		next.ServeHTTP(w, r)
	})
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

// success writes Kazoo's success envelope.
func (a *API) success(w http.ResponseWriter, r *http.Request, status int, data any, revision string, extra map[string]any) error {
	env := map[string]any{
		"data":       data,
		"status":     "success",
		"request_id": requestID(r),
		"timestamp":  a.now().UTC().Format("2006-01-02T15:04:05Z"),
		"version":    a.cfg.Version,
		"node":       "switchboard",
	}
	if revision != "" {
		env["revision"] = revision
		w.Header().Set("ETag", `"`+revision+`"`)
	}
	if tok, _ := r.Context().Value(keyToken).(string); tok != "" {
		env["auth_token"] = tok
	}
	for k, v := range extra {
		env[k] = v
	}
	writeJSON(w, status, env)
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (a *API) health(w http.ResponseWriter, r *http.Request) error {
	return a.success(w, r, http.StatusOK, map[string]any{"ok": true}, "", nil)
}

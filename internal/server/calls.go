package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/egress"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/metrics"
	"github.com/switchboard/switchboard/internal/routing"
	"github.com/switchboard/switchboard/internal/store"
)

// Calls runs inbound calls, whatever their channel: route the dialled
// number, run the flow on the engine, keep the trace in the call log.
type Calls struct {
	store    store.Store
	callLog  store.CallLog
	router   *routing.Router
	flows    *flowCache
	engine   *engine.Engine
	metrics  *metrics.Registry // nil: not counted
	log      *slog.Logger
	keepLast int
	pruning  atomic.Bool // a prune runs in the background
	// lastPrune is when the last prune started (unix ns; pruneEvery)
	lastPrune atomic.Int64
	bg        sync.WaitGroup // background saves and prunes, waited for by wait
	bgMu      sync.RWMutex   // held to add to bg; wait takes it to stop adding
	bgStopped bool           // wait has begun: work runs in the caller instead

	mu       sync.Mutex
	accounts map[string]engine.Account
	count    atomic.Int64

	// live lists the calls in progress (the call log holds a call once it
	// ended); markAfter is how long a call runs before its in-progress row
	// is written all the same (markLongCalls, started with the first call,
	// stopped by wait).
	live      *liveCalls
	markAfter time.Duration
	markOnce  sync.Once
	stopMark  chan struct{}
	stopOnce  sync.Once
	base      context.Context // server.New's, without its cancel: the marks' writes
}

// defaultMarkAfter: a call that lasts longer than this gets a row in the
// call log while it runs, so that a restart after a crash (CloseUnended)
// ends it there instead of losing it; shorter calls are written once, at
// their end, and a crash loses the calls younger than this.
const defaultMarkAfter = 5 * time.Second

// markLongCalls writes, every second (or markAfter if shorter), the
// in-progress row of each call running for longer than markAfter, until
// wait. A sweep instead of a timer per call: most calls end first and
// cost nothing here.
func (c *Calls) markLongCalls() {
	after := c.markAfter
	if after <= 0 {
		after = defaultMarkAfter
	}
	t := time.NewTicker(min(after, time.Second))
	defer t.Stop()
	for {
		select {
		case <-c.stopMark:
			return
		case now := <-t.C:
			var wg sync.WaitGroup
			for _, lc := range c.live.due(now.Add(-after)) {
				// Concurrently: the call log commits them together.
				wg.Go(func() {
					defer close(lc.marked)
					c.save(c.base, lc.rec, c.log.With("call_id", lc.rec.ID, "account_id", lc.rec.AccountID))
				})
			}
			wg.Wait()
		}
	}
}

// Handle runs one call to its end. ch is the raw channel; tr receives the
// trace (Handle wraps ch with call.Traced). The account is the channel's
// Info().AccountID.
func (c *Calls) Handle(ctx context.Context, ch call.Channel, tr *call.Trace) engine.Result {
	res, save := c.handle(ctx, ch, tr)
	save()
	return res
}

// HandleSaveLater is Handle for a live call: it returns once the call has
// ended, and its record reaches the call log in the background. Waiting
// for the call log's commit (its batch window, tens of ms) would keep the
// SIP leg's media, RTP ports and place in the shedding limit that much
// longer. The call stays in the live list until its record is in the log,
// so a reader finds it in one of them.
func (c *Calls) HandleSaveLater(ctx context.Context, ch call.Channel, tr *call.Trace) engine.Result {
	res, save := c.handle(ctx, ch, tr)
	c.goBackground(save)
	return res
}

// goBackground runs f in the background, waited for by wait; once wait
// has begun (shutdown) it runs f in the caller, so nothing is added to a
// WaitGroup being waited on.
func (c *Calls) goBackground(f func()) {
	c.bgMu.RLock()
	if c.bgStopped {
		c.bgMu.RUnlock()
		f()
		return
	}
	c.bg.Go(f)
	c.bgMu.RUnlock()
}

// handle runs the call and returns what it ended with and the step that
// writes its record.
func (c *Calls) handle(ctx context.Context, ch call.Channel, tr *call.Trace) (engine.Result, func()) {
	info := ch.Info()
	traced := call.Traced(ch, tr)
	log := call.LoggerAttrs(c.log, slog.String("call_id", info.ID), slog.String("account_id", info.AccountID))
	rec := store.CallRecord{ID: info.ID, SIPCallID: info.SIPCallID, AccountID: info.AccountID, From: info.From, To: info.Request, Started: tr.Start()}
	c.metrics.CallStarted()

	res, err := c.route(ctx, traced, tr, info, &rec, log)
	switch {
	case err != nil && callerGone(ctx):
		// The caller gave up (CANCEL) while the call was routed: SIP
		// answered 487 already; no flow failed.
		res = engine.Result{Cause: "sip:487", By: call.HangupByCaller}
		log.Info("call ended", "by", res.By, "cause", res.Cause)
		if !tr.Ended() {
			call.RecordCallerHangup(tr, res.Cause)
		}
	case err != nil:
		res = c.refuse(ctx, traced, tr, err, log)
	}
	rec.Ended = tr.Start().Add(time.Duration(tr.LastTMS()) * time.Millisecond)
	rec.HangupCause, rec.HangupBy = res.Cause, res.By
	rec.HangupCause = callerGot(ch, res)
	rec.Trace = tr.JSONL()
	marked := c.live.end(rec.AccountID, rec.ID)
	c.metrics.CallEnded(res.Cause)
	return res, func() {
		if marked != nil {
			<-marked // the in-progress row first, then this one over it
		}
		c.save(ctx, rec, log)
		c.live.remove(rec.AccountID, rec.ID)
	}
}

// callerGot is the hangup cause the call log records: the refusal the
// caller got ("sip:480", "sip:486") when Switchboard ended the call
// unanswered — a flow that ends without answering, after a do-not-disturb
// or busy user, a forward loop, no phone registered, says NORMAL_CLEARING
// to the engine, but the caller heard a 480 — else the engine's cause.
func callerGot(ch call.Channel, res engine.Result) string {
	fr, ok := ch.(interface{ FinalResponse() int })
	if !ok || res.By != call.HangupBySwitchboard || strings.HasPrefix(res.Cause, "sip:") {
		return res.Cause
	}
	if code := fr.FinalResponse(); code >= 300 {
		return "sip:" + strconv.Itoa(code)
	}
	return res.Cause
}

// routeError is a call that cannot run; the SIP code says why.
type routeError struct {
	sip string
	err error
}

func (e *routeError) Error() string { return e.err.Error() }
func (e *routeError) Unwrap() error { return e.err }

func (c *Calls) route(ctx context.Context, ch call.Channel, tr *call.Trace, info call.Info, rec *store.CallRecord, log *slog.Logger) (engine.Result, error) {
	m, ok := c.router.Route(info.AccountID, info.Request)
	if !ok {
		tr.AddStrings("route", "number", info.Request, "error", "no call flow handles this number")
		return engine.Result{}, &routeError{sip: "sip:404", err: fmt.Errorf("no call flow for %q", info.Request)}
	}
	tr.AddStrings("route", "number", m.Number, "callflow_id", m.CallflowID, "pattern", m.Pattern)
	rec.CallflowID = m.CallflowID
	flow, err := c.flows.Flow(ctx, info.AccountID, m.CallflowID)
	if err != nil && callerGone(ctx) {
		return engine.Result{}, fmt.Errorf("load flow: %w", context.Cause(ctx))
	}
	if err != nil {
		tr.AddStrings("error", "code", "flow_unavailable", "message", err.Error())
		return engine.Result{}, &routeError{sip: "sip:500", err: err}
	}
	acct, err := c.account(ctx, info.AccountID)
	if err != nil && callerGone(ctx) {
		return engine.Result{}, fmt.Errorf("load account: %w", context.Cause(ctx))
	}
	if err != nil {
		tr.AddStrings("error", "code", "account_unavailable", "message", err.Error())
		return engine.Result{}, &routeError{sip: "sip:500", err: err}
	}
	vars := engine.NewVars()
	if m.CaptureGroup != "" {
		vars.Set("capture_group", m.CaptureGroup)
	}
	// The call is in progress from here: the API lists it from the live
	// calls until its record is stored, at its end (Handle), in one write.
	c.live.add(*rec, tr)
	c.markOnce.Do(func() { c.goBackground(c.markLongCalls) })
	// Everything the call fetches or dials (webhooks, <Play> URLs, SIP
	// targets) goes under its account's egress policy.
	ctx = egress.WithAccount(ctx, info.AccountID)
	res := c.engine.Run(ctx, ch, tr, flow.Root, engine.RunOptions{Account: acct, CallflowID: m.CallflowID, Vars: vars})
	rec.Debug = vars.Debug()
	return res, nil
}

// refuse ends a call that could not run with a SIP error (unanswered) and
// the hangup line.
func (c *Calls) refuse(ctx context.Context, ch call.Channel, tr *call.Trace, err error, log *slog.Logger) engine.Result {
	code := "sip:500"
	if re, ok := errors.AsType[*routeError](err); ok {
		code = re.sip
	}
	log.Info("call refused", "code", code, "err", err)
	if rerr := ch.Reject(ctx, code); rerr != nil {
		log.Debug("reject failed", "err", rerr)
	}
	if herr := ch.Hangup(ctx, code); herr != nil {
		log.Debug("hangup failed", "err", herr)
	}
	if !tr.Ended() {
		tr.AddStrings("hangup", "cause", code, "by", call.HangupBySwitchboard)
	}
	return engine.Result{Cause: code, By: call.HangupBySwitchboard, Err: err}
}

func (c *Calls) account(ctx context.Context, id string) (engine.Account, error) {
	c.mu.Lock()
	a, ok := c.accounts[id]
	c.mu.Unlock()
	if ok {
		return a, nil
	}
	a, _, err := c.load(ctx, id)
	return a, err
}

// load reads an account and its settings from the store and caches what
// calls use of them; it also returns the settings' defaults, for the
// phone directory.
func (c *Calls) load(ctx context.Context, id string) (engine.Account, accountDefaults, error) {
	acct, err := c.store.GetAccount(ctx, id)
	if err != nil {
		return engine.Account{}, accountDefaults{}, fmt.Errorf("load account %s: %w", id, err)
	}
	settings, err := c.store.AccountSettings(ctx, id)
	if err != nil {
		return engine.Account{}, accountDefaults{}, fmt.Errorf("load account %s: %w", id, err)
	}
	d := readAccountDefaults(settings)
	a := engine.Account{ID: acct.ID, SigningSecret: acct.SigningSecret, Timezone: d.Timezone}
	c.mu.Lock()
	c.accounts[id] = a
	c.mu.Unlock()
	return a, d, nil
}

// refresh reloads a cached account (its auth token was rotated, its
// settings changed) and returns its settings' defaults; on a store
// failure the entry is dropped, loaded again by the next call, and ok is
// false.
func (c *Calls) refresh(ctx context.Context, id string) (d accountDefaults, ok bool) {
	c.mu.Lock()
	delete(c.accounts, id)
	c.mu.Unlock()
	_, d, err := c.load(ctx, id)
	if err != nil {
		c.log.Warn("account not reloaded after it changed", "account_id", id, "err", err)
		return d, false
	}
	return d, true
}

// cachedAccount is an account loaded before (every running call's is).
func (c *Calls) cachedAccount(id string) (engine.Account, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.accounts[id]
	return a, ok
}

// save writes the call record (the call log batches the writes of
// concurrent calls into one transaction); it is best effort: a failure is
// logged, the call goes on. Every 100 ended calls, at most once a second,
// the log is pruned in the background, one prune at a time, off the call's
// path.
func (c *Calls) save(ctx context.Context, rec store.CallRecord, log *slog.Logger) {
	if c.callLog == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if err := c.callLog.SaveCall(ctx, rec); err != nil {
		log.Warn("call log write failed", "err", err)
	}
	if !rec.Ended.IsZero() && c.keepLast > 0 && c.count.Add(1)%100 == 0 && c.pruneDue(time.Now()) &&
		c.pruning.CompareAndSwap(false, true) {
		c.lastPrune.Store(time.Now().UnixNano())
		c.goBackground(func() {
			defer c.pruning.Store(false)
			if err := c.callLog.Prune(ctx, c.keepLast); err != nil {
				log.Warn("call log prune failed", "err", err)
			}
		})
	}
}

// pruneEvery spaces the prunes: a prune's cost is mostly fixed (it counts
// every account's calls and looks for orphan webhooks), so at a thousand
// calls a second one a second, deleting a second's calls, costs a tenth of
// one every 100 calls (4 % of the CPU at 1,500 calls/s). The log then
// holds up to a second's calls beyond its bound.
const pruneEvery = time.Second

func (c *Calls) pruneDue(now time.Time) bool {
	return now.Sub(time.Unix(0, c.lastPrune.Load())) >= pruneEvery
}

// callerGone reports whether the call's context ended because the caller
// hung up (or cancelled).
func callerGone(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), call.ErrHangup)
}

// wait returns once the background work (saves, a prune) is done, before
// the call log closes.
func (c *Calls) wait() {
	c.stopOnce.Do(func() { close(c.stopMark) })
	c.bgMu.Lock()
	c.bgStopped = true
	c.bgMu.Unlock()
	c.bg.Wait()
}

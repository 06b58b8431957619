package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/switchboard/switchboard/internal/call"
)

// Config limits a call; a zero field means the documented default.
type Config struct {
	// MaxNodes is how many nodes one call may visit (50; Kazoo has none).
	MaxNodes int
	// MaxDocuments, when above 0, is a hard cap on the webhook documents
	// one call may fetch; 0 means none: a long IVR is a normal call (a
	// Twilio sample runs 10 rounds and more), and loops are caught by the
	// idle guard below and MaxCallDuration.
	MaxDocuments int
	// MaxIdleDocuments is how many webhook documents in a row, with
	// nothing said, played, gathered, recorded or dialled between them,
	// end a call as a loop when they came within IdleWindow (10); three
	// times as many end it whatever the time they took.
	MaxIdleDocuments int
	// IdleWindow is the span of MaxIdleDocuments idle documents that is a
	// loop (10 s).
	IdleWindow time.Duration
	// MaxCallDuration ends a call that lasts longer (4 h, as Twilio).
	MaxCallDuration time.Duration
	// ApologyText is spoken when a call fails with nowhere to go.
	ApologyText string
}

func (c Config) withDefaults() Config {
	if c.MaxNodes <= 0 {
		c.MaxNodes = 50
	}
	if c.MaxIdleDocuments <= 0 {
		c.MaxIdleDocuments = 10
	}
	if c.IdleWindow <= 0 {
		c.IdleWindow = 10 * time.Second
	}
	if c.MaxCallDuration <= 0 {
		c.MaxCallDuration = 4 * time.Hour
	}
	if c.ApologyText == "" {
		c.ApologyText = "We are sorry, an application error has occurred. Goodbye."
	}
	return c
}

// Engine walks call-flow trees on calls. One Engine serves every call.
type Engine struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
}

// New builds an engine whose Actions use deps. The server checks deps
// (Deps.Validate) before, so that a wiring mistake stops it at start; New
// does not, so that a test can run a module without one of them, or
// without any (nil).
func New(cfg Config, deps Deps, log *slog.Logger) *Engine {
	return &Engine{cfg: cfg.withDefaults(), deps: deps, log: log}
}

// Config returns the engine's limits.
func (e *Engine) Config() Config { return e.cfg }

// Result says how a call ended.
type Result struct {
	Cause string // hangup cause
	By    string // switchboard, caller or callee
	Nodes int    // nodes visited
	Err   error  // the failure that ended the call, if one did
}

// RunOptions are one call's inputs besides its channel and tree.
type RunOptions struct {
	Account    Account
	CallflowID string
	Vars       *Vars // nil = empty
}

type run struct {
	log       inlineLogger // the call's: call_id, account_id, callflow_id
	cfg       Config
	clock     call.Clock
	trace     *call.Trace
	next      *Node
	documents int
	onEnd     []func(context.Context, Result)
	// The idle guard: the trace length at the last document, how many
	// documents in a row came with no progress, and when the first did.
	seen      int
	idle      int
	idleSince time.Time
}

// ErrMaxDuration is the cause of a call's context when it reached
// Config.MaxCallDuration.
var ErrMaxDuration = errors.New("maximum call duration reached")

// errorCode names a failure for the trace's error line.
func errorCode(err error) string {
	type coder interface {
		error
		ErrorCode() string
	}
	if c, ok := errors.AsType[coder](err); ok {
		return c.ErrorCode()
	}
	if errors.Is(err, ErrLimit) {
		return "limit"
	}
	return "module_failed"
}

// Run executes the tree on the call until it ends, the caller hangs up, or a
// limit is reached. The call is always left hung up and the trace always
// ends with a hangup line. ch should be the traced channel writing to tr.
func (e *Engine) Run(ctx context.Context, ch call.Channel, tr *call.Trace, root *Node, o RunOptions) Result {
	info := ch.Info()
	ctx, cancel := context.WithTimeoutCause(ctx, e.cfg.MaxCallDuration, ErrMaxDuration)
	defer cancel()
	r := &run{cfg: e.cfg, clock: call.RealClock{}, trace: tr}
	log := r.log.init(e.log, slog.String("call_id", info.ID), slog.String("account_id", info.AccountID), slog.String("callflow_id", o.CallflowID))
	if c, ok := ch.(call.Clocked); ok {
		r.clock = c.Clock()
	}
	vars := o.Vars
	if vars == nil {
		vars = NewVars()
	}
	res := Result{}
	node := root
	if node == nil {
		tr.AddStrings("error", "code", "empty_flow", "message", "the call flow has no blocks")
		res.Err = errors.New("empty flow")
	}
	for node != nil {
		if ctx.Err() != nil {
			break
		}
		res.Nodes++
		if res.Nodes > e.cfg.MaxNodes {
			tr.Add("error", "code", "node_limit", "message", fmt.Sprintf("the call visited more than %d blocks; a loop?", e.cfg.MaxNodes), "node", node.Path)
			res.Err = fmt.Errorf("node %s: %w", node.Path, ErrLimit)
			log.Warn("call ended by node limit", "limit", e.cfg.MaxNodes)
			e.apologise(ctx, ch, log)
			break
		}
		tr.AddStrings("module", "module", node.Module, "node", node.Path)
		x := &Exec{Call: ch, Trace: tr, Vars: vars, Account: o.Account, Node: node, Deps: e.deps, run: r}
		x.Log = x.log.init(log, slog.String("module", node.Module), slog.String("node", node.Path))
		r.next = nil
		branch, err := e.exec(ctx, x)
		if ctx.Err() != nil {
			break // the caller hung up: not a failure
		}
		if r.next != nil {
			node = r.next
			continue
		}
		if err != nil {
			_, reported := errors.AsType[*reportedError](err)
			err = fmt.Errorf("module %s at %s: %w", node.Module, node.Path, err)
			if !reported {
				tr.AddStrings("error", "code", errorCode(err), "message", err.Error(), "module", node.Module, "node", node.Path)
			}
			x.Log.Warn("module failed", "err", err)
			if errors.Is(err, ErrLimit) || branch == "" {
				res.Err = err
				e.apologise(ctx, ch, log)
				break
			}
		}
		if branch == BranchEnd {
			res.Cause = "NORMAL_CLEARING"
			break
		}
		node = child(node, branch)
	}
	if errors.Is(context.Cause(ctx), ErrMaxDuration) && !tr.Ended() {
		tr.AddStrings("error", "code", "max_duration", "message", fmt.Sprintf("the call lasted %v, the most a call may", e.cfg.MaxCallDuration))
		log.Warn("call ended by the maximum call duration", "limit", e.cfg.MaxCallDuration)
		res.Cause, res.Err = "ALLOTTED_TIMEOUT", ErrMaxDuration
	}
	res = e.finish(ctx, ch, tr, res, log)
	for _, fn := range r.onEnd {
		fn(context.WithoutCancel(ctx), res)
	}
	return res
}

// child picks the child under key, falling back to "_".
func child(n *Node, key string) *Node {
	if key == "" {
		key = "_"
	}
	if c, ok := n.Children[key]; ok {
		return c
	}
	return n.Children["_"]
}

// exec runs one Action, turning a panic into an error.
func (e *Engine) exec(ctx context.Context, x *Exec) (branch string, err error) {
	defer func() {
		if p := recover(); p != nil {
			x.Log.Error("module panicked", "panic", p, "stack", string(debug.Stack()))
			branch, err = "", fmt.Errorf("module panicked: %v", p)
		}
	}()
	if x.Node.Action == nil {
		return "", errors.New("block has no executor")
	}
	if x.Node.Skip {
		return "_", nil
	}
	return x.Node.Action.Exec(ctx, x)
}

// apologise speaks the application-error prompt on an answered call, so a
// failure is never dead air.
func (e *Engine) apologise(ctx context.Context, ch call.Channel, log *slog.Logger) {
	if ctx.Err() != nil {
		return
	}
	if err := ch.Say(ctx, call.SayOptions{Text: e.cfg.ApologyText, Voice: "woman", Language: "en-US", Loop: 1}); err != nil {
		log.Debug("apology not spoken", "err", err)
	}
}

// finish writes the last line: the caller's hangup, or ours.
func (e *Engine) finish(ctx context.Context, ch call.Channel, tr *call.Trace, res Result, log *slog.Logger) Result {
	if errors.Is(context.Cause(ctx), call.ErrHangup) {
		res.Cause, res.By = "NORMAL_CLEARING", "caller"
		call.RecordCallerHangup(tr, res.Cause)
		if log.Enabled(ctx, slog.LevelInfo) { // the arguments would be boxed even when not written
			log.Info("call ended", "by", res.By, "nodes", res.Nodes)
		}
		return res
	}
	if ec, ok := errors.AsType[*call.EndCause](context.Cause(ctx)); ok {
		res.Cause = ec.Cause // the channel ended the call: its cause, not the interrupted action's
	}
	if res.Cause == "" {
		res.Cause = "NORMAL_CLEARING"
		if res.Err != nil {
			res.Cause = "NORMAL_TEMPORARY_FAILURE"
		}
	}
	res.By = "switchboard"
	if tr.Ended() { // an action hung up or refused the call: its line says how
		if v, _ := tr.LastField("cause"); v != nil {
			if c, ok := v.(string); ok && c != "" {
				res.Cause = c
			}
		}
	} else {
		hctx := ctx
		if ctx.Err() != nil {
			hctx = context.WithoutCancel(ctx)
		}
		if err := ch.Hangup(hctx, res.Cause); err != nil {
			log.Debug("hangup failed", "err", err)
		}
		if !tr.Ended() { // a channel that is not traced
			tr.AddStrings("hangup", "cause", res.Cause, "by", res.By)
		}
	}
	if log.Enabled(ctx, slog.LevelInfo) { // the arguments would be boxed even when not written
		log.Info("call ended", "by", res.By, "cause", res.Cause, "nodes", res.Nodes)
	}
	return res
}

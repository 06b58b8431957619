package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/call"
)

// BranchEnd is returned by an Action that ended the call itself (hangup,
// response, a TwiML document that hung up): the engine walks no further.
const BranchEnd = "\x00end"

// ErrLimit is the failure of a call that went over a per-call limit
// (nodes visited, chained webhook documents).
var ErrLimit = errors.New("per-call limit reached")

// FlowSource loads a stored call flow's tree, for the callflow module.
type FlowSource interface {
	LoadFlow(ctx context.Context, accountID, id string) (*Node, error)
}

// NumberRouter finds the flow that handles a number of an account, as a
// call dialling it would be routed (exact numbers, then patterns; never
// no_match): the menu's dial-by-extension and disa use it. A nil root and
// nil error mean that no flow handles the number.
type NumberRouter interface {
	RouteNumber(ctx context.Context, accountID, number string) (callflowID string, root *Node, err error)
}

// Account is what actions need to know of the call's account.
type Account struct {
	ID string
	// SigningSecret signs webhooks (X-Twilio-Signature's auth token).
	SigningSecret string
	// Timezone is the account's own (Kazoo's account timezone, an IANA
	// name), "" when it sets none: the zone of time rules that name none.
	Timezone string
}

// Deps are the dependencies Actions use (the webhook client, the call log,
// queues, stored flows …), built once by the server. Their type belongs to
// package actions (actions.Deps): the engine carries them to every Action
// and must not import what they are made of. Validate reports every missing
// dependency: the server calls it before building the engine, so a server
// built without one fails at start, not mid-call.
type Deps interface {
	Validate() error
}

// Exec is one call's state as an Action sees it; it is never shared
// between calls.
type Exec struct {
	// Call is the running call (traced).
	Call call.Channel
	// Trace is the call's trace, for ops that are not Channel operations
	// (webhook, redirect, set, error).
	Trace *call.Trace
	// Log carries call_id, account_id, callflow_id, module and node.
	Log *slog.Logger
	// Vars are the call's variables.
	Vars *Vars
	// Account is the call's account.
	Account Account
	// Node is the node being run.
	Node *Node
	// Deps are shared by every call (actions.Deps); nil for an engine
	// built without dependencies.
	Deps Deps

	run *run
	log inlineLogger // Log's storage
}

// HasChild reports whether the current node has a child under key.
func (x *Exec) HasChild(key string) bool {
	_, ok := x.Node.Children[key]
	return ok
}

// Now is the call's time: simulated calls jump over waits.
func (x *Exec) Now() time.Time { return x.run.clock.Now() }

// Continue replaces the rest of the flow with n (Kazoo's pivot JSON, the
// callflow module): after the Action returns, the engine runs n instead of
// the node's children.
func (x *Exec) Continue(n *Node) { x.run.next = n }

// CountDocument counts one more webhook document fetched by the call. It
// fails with ErrLimit when the documents loop without progress (see
// Config.MaxIdleDocuments: nothing said, played, gathered, recorded or
// dialled since the last ones) or past the hard cap when one is set, so
// chained pivots and redirect loops end while a long IVR goes on.
func (x *Exec) CountDocument() error {
	r := x.run
	r.documents++
	if r.cfg.MaxDocuments > 0 && r.documents > r.cfg.MaxDocuments {
		return fmt.Errorf("more than %d webhook documents in one call: %w", r.cfg.MaxDocuments, ErrLimit)
	}
	progress := false
	if r.trace != nil {
		ops, n := r.trace.OpsSince(r.seen)
		for _, op := range ops {
			switch op {
			case "say", "play", "pause", "gather", "record", "dial", "enqueue":
				progress = true
			}
		}
		r.seen = n
	}
	now := r.clock.Now()
	if progress || r.documents == 1 {
		r.idle, r.idleSince = 0, now
		return nil
	}
	r.idle++
	if r.idle == 1 {
		r.idleSince = now
	}
	if r.idle >= r.cfg.MaxIdleDocuments && now.Sub(r.idleSince) < r.cfg.IdleWindow || r.idle >= 3*r.cfg.MaxIdleDocuments {
		return fmt.Errorf("%d webhook documents in %v with nothing said, played or gathered: a loop: %w",
			r.idle, now.Sub(r.idleSince).Round(time.Millisecond), ErrLimit)
	}
	return nil
}

// OnEnd registers fn to run once the call has ended (after its hangup
// line): pivot's cdr_url uses it.
func (x *Exec) OnEnd(fn func(ctx context.Context, res Result)) {
	x.run.onEnd = append(x.run.onEnd, fn)
}

// Reported wraps an error the Action already wrote to the trace with its
// own code, so the engine does not write a second line for it.
func Reported(err error) error {
	if err == nil {
		return nil
	}
	return &reportedError{err}
}

type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// Documents is how many webhook documents the call has fetched.
func (x *Exec) Documents() int { return x.run.documents }

// Vars are a call's variables: Kazoo's custom variables and TwiML
// <Set><Variable>, and the digit collections of collect_dtmf. Safe for
// concurrent use.
type Vars struct {
	mu          sync.Mutex
	debug       bool
	values      map[string]string
	order       []string
	collections map[string]string
	callerID    callerID // set_cid, prepend_cid (vars_call.go)
	language    string   // the language module
}

// NewVars makes an empty set. Its maps are made by the first Set and
// SetDigits: most calls set nothing.
func NewVars() *Vars {
	return &Vars{}
}

// Set sets a variable.
func (v *Vars) Set(key, value string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.values == nil {
		v.values = map[string]string{}
	}
	if _, ok := v.values[key]; !ok {
		v.order = append(v.order, key)
	}
	v.values[key] = value
}

// Get reads a variable.
func (v *Vars) Get(key string) (string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.values[key]
	return s, ok
}

// All returns the variables in the order they were first set.
func (v *Vars) All() [][2]string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([][2]string, 0, len(v.order))
	for _, k := range v.order {
		out = append(out, [2]string{k, v.values[k]})
	}
	return out
}

// MarkDebug notes that a module asked for the call's debug log to be kept.
func (v *Vars) MarkDebug() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.debug = true
}

// Debug reports whether MarkDebug was called.
func (v *Vars) Debug() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.debug
}

// SetDigits stores collected digits under a collection name ("default").
func (v *Vars) SetDigits(collection, digits string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.collections == nil {
		v.collections = map[string]string{}
	}
	v.collections[collection] = digits
}

// Digits returns the digit collections (a copy).
func (v *Vars) Digits() map[string]string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string]string, len(v.collections))
	for k, d := range v.collections {
		out[k] = d
	}
	return out
}

// ClearDigits empties the collections (after they were sent to a webhook).
func (v *Vars) ClearDigits() {
	v.mu.Lock()
	defer v.mu.Unlock()
	clear(v.collections)
}

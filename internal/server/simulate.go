package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/switchboard/switchboard/internal/api"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/engine"
)

// SimulateOptions are a simulated call's caller and script (see
// shared/spec/call-trace.md, `switchboard simulate`).
type SimulateOptions = api.SimulateOptions

// ErrNoRoute is returned by Simulate when no flow handles the number.
type ErrNoRoute struct{ Number, AccountID string }

// NoRoute marks the error for the API (404).
func (e *ErrNoRoute) NoRoute() bool { return true }

// scriptError is a script the simulated caller cannot follow.
type scriptError struct{ err error }

func (e *scriptError) Error() string   { return "script: " + e.err.Error() }
func (e *scriptError) Unwrap() error   { return e.err }
func (e *scriptError) BadScript() bool { return true }

func (e *ErrNoRoute) Error() string {
	return fmt.Sprintf("no call flow of account %s handles %q", e.AccountID, e.Number)
}

// Simulate runs one call through the same engine as a real call, with a
// scripted caller, streaming its trace as JSON Lines to w (may be nil). It
// fails without running when the number routes nowhere.
func (s *Server) Simulate(ctx context.Context, o SimulateOptions, w io.Writer) (string, *call.Trace, engine.Result, error) {
	acct := o.AccountID
	if acct == "" {
		acct = s.bootstrap.AccountID
	}
	if _, ok := s.router.Route(acct, o.To); !ok {
		return "", nil, engine.Result{}, &ErrNoRoute{Number: o.To, AccountID: acct}
	}
	script := sim.Script{Inputs: o.Inputs, Dials: o.Dials}
	if err := script.Validate(); err != nil {
		return "", nil, engine.Result{}, &scriptError{err}
	}
	from := o.From
	if from == "" {
		from = "+15555550100"
	}
	id := "sim-" + randomHex(12)
	info := call.Info{
		ID: id, AccountID: acct, From: from, FromName: o.CallerName, FromRealm: "simulator.invalid",
		To: o.To, ToRealm: "switchboard.invalid", Request: o.To, Direction: "inbound",
	}
	var opts []sim.Option
	if !o.At.IsZero() {
		opts = append(opts, sim.WithClock(o.At))
	}
	cctx, ch := sim.New(ctx, info, script, opts...)
	tr := call.NewTrace(ch.Clock(), w)
	res := s.calls.Handle(cctx, ch, tr)
	return id, tr, res, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

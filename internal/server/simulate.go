package server

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/media"
)

// Simulate runs one call through the same engine as a real call, with a
// scripted caller, streaming its trace as JSON Lines to w (may be nil). It
// fails without running when the number routes nowhere (sim.ErrNoRoute) or
// the script cannot be followed (sim.ErrBadScript).
func (s *Server) Simulate(ctx context.Context, o sim.SimulateOptions, w io.Writer) (string, *call.Trace, engine.Result, error) {
	acct := o.AccountID
	if acct == "" {
		acct = s.bootstrap.AccountID
	}
	if _, ok := s.router.Route(acct, o.To); !ok {
		return "", nil, engine.Result{}, fmt.Errorf("%w of account %s handles %q", sim.ErrNoRoute, acct, o.To)
	}
	script := o.Script()
	if err := script.Validate(); err != nil {
		return "", nil, engine.Result{}, fmt.Errorf("%w: %w", sim.ErrBadScript, err)
	}
	from := o.From
	if from == "" {
		from = "+15555550100"
	}
	id := call.NewCallSid()
	info := call.Info{
		ID: id, AccountID: acct, From: from, FromName: o.CallerName, FromRealm: "simulator.invalid",
		To: o.To, ToRealm: "switchboard.invalid", Request: o.To, Direction: "inbound",
	}
	// A test call keeps nothing for the account (no voicemail message).
	opts := []sim.Option{sim.WithTestCall()}
	if !o.At.IsZero() {
		opts = append(opts, sim.WithClock(o.At))
	}
	opts = append(opts, sim.WithMedia(func(id string) (time.Duration, error) { return s.storedMedia(acct, id) }))
	cctx, ch := sim.New(ctx, info, script, opts...)
	tr := call.NewTrace(ch.Clock(), w)
	res := s.calls.Handle(cctx, ch, tr)
	return id, tr, res, nil
}

// storedMedia is how long the account's stored media id plays (its 8 kHz
// 16-bit WAV's size), or the error a SIP call's play of it meets: a
// simulated call plays only its own account's media, as a real one.
func (s *Server) storedMedia(accountID, id string) (time.Duration, error) {
	path, err := s.media.MediaPath(accountID, id)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("%w: media id %q", media.ErrNotFound, id)
	}
	return time.Duration(max(fi.Size()-44, 0)) * time.Second / 16000, nil
}

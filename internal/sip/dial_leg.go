package sip

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/internal/call"
)

// callerUser is a Dial's caller id as the user part of the outbound
// From: TwiML's "client:alice" is alice, and only what a SIP URI user may
// hold unescaped of E.164 numbers and names is kept (letters, digits,
// + * # . _ -), so no caller id can break the header.
func callerUser(id string) string {
	id = strings.TrimSpace(id)
	if rest, ok := strings.CutPrefix(strings.ToLower(id), "client:"); ok {
		id = id[len(id)-len(rest):]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+*#._-", r)) {
			return r
		}
		return -1
	}, id)
}

// withTarget gives legs (and the gateways they fail over to) the Dial
// target's per-party work after answer: its digits and its screening.
func withTarget(legs []legTarget, t call.Target) []legTarget {
	for i := range legs {
		legs[i].sendDigits, legs[i].screen = t.SendDigits, t.Screen
		legs[i].failover = withTarget(legs[i].failover, t)
	}
	return legs
}

// ringState is what a Dial's ringing shares with its legs through the
// ring context (ringKey): how many answered legs are in their whisper,
// and the context whispers run under. The ring timeout does not cut a
// whisper short (the party answered in time): work ends only when the
// ringing is over or the caller is gone.
type ringState struct {
	work      context.Context
	screening atomic.Int32
}

type ringKey struct{}

// newRingState is a Dial's ring state under ctx; stop ends its work.
func newRingState(ctx context.Context) (*ringState, context.CancelFunc) {
	st := &ringState{}
	work, stop := context.WithCancel(ctx)
	st.work = context.WithValue(work, ringKey{}, st)
	return st, stop
}

// legContext is what an answered leg's work after the answer runs under:
// for a leg with a whisper, the ringing's work context (past the ring
// timeout); else the leg's own ringing context.
func legContext(ctx context.Context, t legTarget) context.Context {
	if t.screen == nil {
		return ctx
	}
	if st, ok := ctx.Value(ringKey{}).(*ringState); ok {
		return st.work
	}
	return ctx
}

// prepareLeg runs, on a leg that answered and before it may win the
// Dial, what its target asks: sendDigits as RFC 4733 events (in-band
// tones when the leg has no telephone-event), then the whisper document
// (the caller hears ringback meanwhile). false means the party refused
// or its leg ended: the leg is hung up.
func (l *inLeg) prepareLeg(ctx context.Context, b *outLeg, t legTarget) bool {
	if t.sendDigits == "" && t.screen == nil {
		return true
	}
	// The leg's own end (the callee's BYE) stops the work too.
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(b.ctx, func() { cancel(context.Cause(b.ctx)) })
	defer stop()
	if err := b.sess.Start(); err != nil {
		b.log.Warn("dial: media did not start", "err", err)
	}
	if t.sendDigits != "" {
		if err := b.sess.SendDigits(lctx, t.sendDigits); err != nil {
			b.log.Info("dial: digits not sent", "err", err)
		}
	}
	if t.screen != nil && lctx.Err() == nil {
		if st, ok := ctx.Value(ringKey{}).(*ringState); ok {
			st.screening.Add(1)
			defer st.screening.Add(-1)
		}
		accepted, err := t.screen(lctx, &calleeLeg{b: b, info: l.calleeInfo(b, t)})
		if err != nil {
			b.log.Info("dial: whisper failed; the party is not bridged", "err", err)
		}
		if !accepted || err != nil {
			b.hangup()
			return false
		}
	}
	if lctx.Err() != nil {
		b.hangup()
		return false
	}
	return true
}

// screenedOut is the attempt of a leg that answered but was not
// bridged: another leg won (lost), the ringing ended, or the party
// refused in its whisper document (no-answer, as the caller was never
// connected).
func screenedOut(ctx context.Context, lost bool) attempt {
	switch {
	case lost:
		return attempt{status: "canceled"}
	case ctx.Err() != nil:
		return failure(ctx, context.Cause(ctx))
	}
	return attempt{status: "no-answer", cause: "CALL_REJECTED"}
}

// calleeInfo is a called party's leg as a whisper document's requests
// describe it.
func (l *inLeg) calleeInfo(b *outLeg, t legTarget) call.Info {
	return call.Info{ID: b.callID, AccountID: l.info.AccountID, From: l.info.From, FromName: l.info.FromName,
		To: t.uri.User, ToRealm: t.uri.Host, Request: t.uri.User, Direction: "outbound-dial", Started: time.Now()}
}

// errLegOnly is what a whisper document gets for what a called party's
// leg cannot do before the bridge.
var errLegOnly = errors.New("not available on a called party's leg before the bridge")

// calleeLeg is an answered outbound leg as the call.Channel a whisper
// document runs on: it plays, speaks, pauses and gathers on the leg's
// media; Hangup and Reject end the leg.
type calleeLeg struct {
	b    *outLeg
	info call.Info
}

var _ call.Channel = (*calleeLeg)(nil)

func (c *calleeLeg) Info() call.Info                  { return c.info }
func (c *calleeLeg) Answer(ctx context.Context) error { return c.b.gone() }
func (c *calleeLeg) Answered() bool                   { return true }

func (c *calleeLeg) Play(ctx context.Context, o call.PlayOptions) error {
	if o.Digits != "" && o.URL == "" && o.MediaID == "" {
		return c.b.sess.SendDigits(ctx, o.Digits)
	}
	return c.b.sess.Play(ctx, o)
}

func (c *calleeLeg) Say(ctx context.Context, o call.SayOptions) error { return c.b.sess.Say(ctx, o) }

func (c *calleeLeg) Pause(ctx context.Context, d time.Duration) error {
	return c.b.sess.Pause(ctx, d)
}

func (c *calleeLeg) Gather(ctx context.Context, o call.GatherOptions) (string, error) {
	return c.b.sess.Gather(ctx, o)
}

func (c *calleeLeg) Record(context.Context, call.RecordOptions) (call.Recording, error) {
	return call.Recording{}, errLegOnly
}

func (c *calleeLeg) Dial(context.Context, call.DialOptions) (call.DialResult, error) {
	return call.DialResult{Status: "failed"}, errLegOnly
}

func (c *calleeLeg) Reject(ctx context.Context, _ string) error {
	return c.Hangup(ctx, "CALL_REJECTED")
}

func (c *calleeLeg) Hangup(context.Context, string) error {
	c.b.hangup()
	return nil
}

// gone is the leg's end as an error, nil while it is up.
func (b *outLeg) gone() error {
	if b.ctx.Err() != nil {
		return context.Cause(b.ctx)
	}
	return nil
}

package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
)

type legState int32

const (
	stateRinging  legState = iota // provisional responses without SDP at most
	stateEarly                    // 183 with our SDP sent: early media
	stateAnswered                 // 200 sent
	stateEnded                    // final response sent or BYE either way
)

// inLeg is an inbound call: the UAS side of its INVITE dialog (the
// embedded core), its media session, and the call.Channel the engine
// drives.
type inLeg struct {
	dialog
	info      call.Info
	invite    *sipmsg.Request  // the INVITE as received; responses are built from it
	to        *sipmsg.ToHeader // its To with our tag, which the responses carry
	tx        sipmsg.ServerTransaction
	sess      MediaSession
	offerless bool        // the INVITE had no SDP: our 200 offers, the ACK answers
	final     atomic.Bool // a final response to the INVITE was sent
	// refusal is the code of the final non-2xx response sent to the
	// INVITE, 0 while none: what the caller got (FinalResponse).
	refusal  atomic.Int32
	answered atomic.Bool // the 200 was sent

	txLeg     *txLeg     // how the INVITE transaction's callbacks reach the leg, until finish
	recording callRecord // record_call's (record_call.go)
	moh       string     // the calling phone's music on hold (hold_music.go)

	// guarded by the dialog's mu
	state        legState
	mediaStarted bool
	rang         bool       // 180 sent
	watch        mediaWatch // watchMedia's (media_watch.go)
}

var _ call.Channel = (*inLeg)(nil)

// txLeg is the leg as the INVITE transaction's callbacks see it: nil
// once the call is finished, so that the transaction, which outlives the
// call, does not keep it.
type txLeg = atomic.Pointer[inLeg]

func (l *inLeg) Info() call.Info { return l.info }

func (l *inLeg) loadState() legState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Answered reports whether the 200 was sent.
func (l *inLeg) Answered() bool { return l.answered.Load() }

// goneErr is why no operation can run any more, or nil.
func (l *inLeg) goneErr(op string) error {
	if l.ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, context.Cause(l.ctx))
	}
	return nil
}

// Answer sends 200 OK with our SDP; answering an answered call does
// nothing. It returns once the 200 is sent; the ACK is awaited (and the
// 200 retransmitted) in the background.
func (l *inLeg) Answer(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.answerLocked(ctx)
}

func (l *inLeg) answerLocked(ctx context.Context) error {
	switch l.state {
	case stateAnswered:
		return nil
	case stateEnded:
		return fmt.Errorf("answer: %w", errEnded)
	}
	if err := l.goneErr("answer"); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("answer: %w", context.Cause(ctx))
	}
	res := l.response(200, "OK", l.sdp)
	timerHeaders(res, l.timer)
	l.final.Store(true)
	l.initial = newPendingInvite(l.invite)
	if err := l.tx.Respond(res); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	l.state = stateAnswered
	l.answered.Store(true)
	l.startMediaLocked()
	p := l.initial
	l.awaitAck(l.tx, res, p)
	if l.timer.enforced() {
		timer := l.timer
		l.wg.Go(func() { l.watchSession(timer) })
	} else if l.timer.interval > 0 && l.timer.refresher == "uas" && l.timer.require {
		timer := l.timer
		l.wg.Go(func() { l.refreshSession(timer) })
	}
	l.watchMediaLocked()
	return nil
}

// early sends 183 Session Progress with our SDP the first time an
// unanswered call plays something, so the caller hears it (early media).
// A call whose INVITE had no offer is answered instead.
func (l *inLeg) early(ctx context.Context, op string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch l.state {
	case stateEnded:
		return fmt.Errorf("%s: %w", op, errEnded)
	case stateRinging:
		if err := l.goneErr(op); err != nil {
			return err
		}
		if l.offerless {
			return l.answerLocked(ctx)
		}
		if err := l.tx.Respond(l.response(183, "Session Progress", l.sdp)); err != nil {
			return fmt.Errorf("%s: early media: %w", op, err)
		}
		l.state = stateEarly
		l.startMediaLocked()
	}
	return l.goneErr(op)
}

func (l *inLeg) startMediaLocked() {
	if l.mediaStarted {
		return
	}
	l.mediaStarted = true
	if err := l.sess.Start(); err != nil {
		l.log.Warn("media did not start", "err", err)
	}
}

// response builds a response to the INVITE (with our To tag); a body is
// SDP.
func (l *inLeg) response(code int, reason string, sdp []byte) *sipmsg.Response {
	return l.dialog.responseTo(l.invite, l.to, code, reason, sdp)
}

func (l *inLeg) Play(ctx context.Context, o call.PlayOptions) error {
	if err := l.early(ctx, "play"); err != nil {
		return err
	}
	if o.Digits != "" && o.URL == "" && o.MediaID == "" {
		return l.check(ctx, "play", l.sess.SendDigits(ctx, o.Digits))
	}
	return l.check(ctx, "play", l.sess.Play(ctx, o))
}

func (l *inLeg) Say(ctx context.Context, o call.SayOptions) error {
	if err := l.early(ctx, "say"); err != nil {
		return err
	}
	return l.check(ctx, "say", l.sess.Say(ctx, o))
}

func (l *inLeg) Pause(ctx context.Context, d time.Duration) error {
	if err := l.early(ctx, "pause"); err != nil {
		return err
	}
	return l.check(ctx, "pause", l.sess.Pause(ctx, d))
}

func (l *inLeg) Gather(ctx context.Context, o call.GatherOptions) (string, error) {
	if err := l.Answer(ctx); err != nil {
		return "", err
	}
	digits, err := l.sess.Gather(ctx, o)
	return digits, l.check(ctx, "gather", err)
}

func (l *inLeg) Record(ctx context.Context, o call.RecordOptions) (call.Recording, error) {
	if err := l.Answer(ctx); err != nil {
		return call.Recording{}, err
	}
	rec, err := l.sess.Record(ctx, o)
	if err != nil && errors.Is(context.Cause(l.ctx), call.ErrHangup) && rec.Duration > 0 {
		// The caller hung up during the recording: it is kept, as Twilio
		// still posts it.
		rec.Digits = "hangup"
		return rec, nil
	}
	return rec, l.check(ctx, "record", err)
}

// check turns a media error after the call ended into the call's cause.
func (l *inLeg) check(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if l.ctx.Err() != nil && !errors.Is(err, context.Cause(l.ctx)) {
		return fmt.Errorf("%s: %w", op, context.Cause(l.ctx))
	}
	if ctx.Err() != nil && !errors.Is(err, context.Cause(ctx)) {
		return fmt.Errorf("%s: %w", op, context.Cause(ctx))
	}
	return err
}

// Reject refuses an unanswered call: 486 busy, 603 rejected, or the code
// of "sip:NNN".
func (l *inLeg) Reject(ctx context.Context, reason string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.state == stateAnswered:
		return fmt.Errorf("reject: %w", errAnswered)
	case l.state == stateEnded:
		return fmt.Errorf("reject: %w", errEnded)
	}
	if err := l.goneErr("reject"); err != nil {
		return err
	}
	l.finalLocked(rejectCode(reason))
	return nil
}

// reject refuses the call before the handler runs.
func (l *inLeg) reject(code int, hdrs ...sipmsg.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.finalLocked(code, hdrs...)
}

func (l *inLeg) finalLocked(code int, hdrs ...sipmsg.Header) {
	res := l.response(code, reason(code), nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	l.final.Store(true)
	if code >= 300 {
		l.refusal.Store(int32(code))
	}
	if err := l.tx.Respond(res); err != nil {
		l.log.Debug("final response not sent", "code", code, "err", err)
	}
	l.state = stateEnded
	l.cancel(errEnded)
}

// FinalResponse is the code of the refusal (a final response of 300 or
// more) the caller got, 0 when none was sent: the call log records what
// the caller got, which a flow's NORMAL_CLEARING does not say.
func (l *inLeg) FinalResponse() int { return int(l.refusal.Load()) }

// Hangup ends the call: a final response when unanswered (480, or the
// code the cause names), BYE when answered. After the caller hung up it
// does nothing.
func (l *inLeg) Hangup(ctx context.Context, cause string) error {
	l.mu.Lock()
	switch l.state {
	case stateEnded:
		l.mu.Unlock()
		return nil
	case stateRinging, stateEarly:
		// After a CANCEL the transaction layer already answered 487.
		if !errors.Is(context.Cause(l.ctx), call.ErrHangup) {
			code := hangupCode(cause)
			if errors.Is(context.Cause(l.ctx), errShutdown) {
				code = 503
			}
			l.finalLocked(code)
		}
		l.state = stateEnded
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	// The flow is done with the call: its media stops now, not once the
	// BYE, which waits for the ACK of our 200, is sent. A caller whose ACK
	// was lost would otherwise get silence for up to 64·T1 (32 s): under
	// load, that RTP is what snowballs into a retransmission storm.
	if l.sess != nil {
		if err := l.sess.Close(); err != nil {
			l.log.Debug("media close failed", "err", err)
		}
	}
	return l.end(ctx, errEnded, true)
}

// end ends an answered call: BYE (once the 2xx was ACKed or given up,
// RFC 3261 §15) unless the caller hung up, then the context's cause.
func (l *inLeg) end(ctx context.Context, cause error, bye bool) error {
	l.mu.Lock()
	if l.state == stateEnded {
		l.mu.Unlock()
		return nil
	}
	l.state = stateEnded
	initial := l.initial
	l.mu.Unlock()
	defer l.cancel(cause)
	if !bye || errors.Is(context.Cause(l.ctx), call.ErrHangup) {
		return nil
	}
	if initial != nil {
		select {
		case <-initial.done:
		case <-l.ctx.Done():
			if errors.Is(context.Cause(l.ctx), call.ErrHangup) {
				return nil // the caller's BYE crossed ours
			}
		}
	}
	if err := l.bye(ctx); err != nil {
		return fmt.Errorf("hangup: %w", err)
	}
	return nil
}

// terminate is the dialog core ending the call: no ACK came for a 2xx,
// or the session expired.
func (l *inLeg) terminate(ctx context.Context, cause error) {
	if err := l.end(ctx, cause, true); err != nil {
		l.log.Debug("hangup failed", "cause", cause, "err", err)
	}
}

// phaseLocked maps the call's state to the dialog's: re-INVITEs wait for
// the answer.
func (l *inLeg) phaseLocked() phase {
	switch l.state {
	case stateAnswered:
		return phaseConfirmed
	case stateEnded:
		return phaseEnded
	}
	return phaseEarly
}

// shutdown ends the call because the server stops: its context ends, the
// engine stops and hangs up (BYE, or 503 when unanswered).
func (l *inLeg) shutdown() { l.cancel(errShutdown) }

// farEndBye is the caller hanging up: the call's context ends with
// call.ErrHangup.
func (l *inLeg) farEndBye() {
	l.mu.Lock()
	ended := l.state == stateEnded
	l.state = stateEnded
	l.mu.Unlock()
	if !ended {
		l.log.Debug("caller hung up")
		l.cancel(call.ErrHangup)
	}
}

// readInfo takes digits sent by SIP INFO (application/dtmf-relay, or
// application/dtmf) into digit collection.
func (l *inLeg) readInfo(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	body := req.Body()
	var d byte
	switch contentType(req) {
	case "application/dtmf-relay":
		d = relayDigit(string(body))
	case "application/dtmf":
		d = digit(strings.TrimSpace(string(body)))
	case "":
		if len(body) == 0 {
			l.s.respond(tx, req, 200, "OK") // an empty INFO: a keep-alive
			return
		}
	default:
		l.s.respond(tx, req, 415, reason(415), sipmsg.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	}
	if d == 0 {
		l.s.respond(tx, req, 400, "Bad DTMF")
		return
	}
	// The digit is queued before the 200, so digits sent one INFO after
	// another's answer keep their order.
	if st := l.loadState(); st == stateEarly || st == stateAnswered {
		l.log.Debug("digit by SIP INFO", "digit", string(d))
		l.sess.InjectDigit(d)
	}
	l.s.respond(tx, req, 200, "OK")
}

// relayDigit reads "Signal=5\r\nDuration=160".
func relayDigit(body string) byte {
	for _, line := range strings.Split(body, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
			return digit(strings.TrimSpace(v))
		}
	}
	return 0
}

// digit is a DTMF key from its name or event number ("10" is *, "11" #).
func digit(v string) byte {
	switch v {
	case "10":
		return '*'
	case "11":
		return '#'
	}
	if len(v) == 1 && strings.ContainsRune("0123456789*#ABCDabcd", rune(v[0])) {
		return strings.ToUpper(v)[0]
	}
	return 0
}

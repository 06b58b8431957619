package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
)

// Dial rings the targets (all at once, or one after another with
// Strategy "single"), bridges the caller to the first that answers, and
// returns when either side hangs up. The caller is answered when the
// callee answers, if it was not already.
func (l *inLeg) Dial(ctx context.Context, o call.DialOptions) (call.DialResult, error) {
	if err := l.goneErr("dial"); err != nil {
		return call.DialResult{Status: "canceled"}, err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = l.s.cfg.RingTimeout
	}
	o.CallerID = callerUser(o.CallerID)
	uris, cause, refused := l.legsFor(ctx, o.Targets, o.CallerID)
	if len(uris) == 0 {
		if refused != nil && cause == "" {
			return refusedDial(refused)
		}
		if cause == "" {
			cause = "NO_ROUTE_DESTINATION"
		}
		if cause == "USER_BUSY" {
			return call.DialResult{Status: "busy", Cause: cause}, nil // do-not-disturb
		}
		return call.DialResult{Status: "failed", Cause: cause}, nil
	}
	var (
		won *outLeg
		res call.DialResult
	)
	uris, fallback := splitFallback(uris)
	rec := l.startDialRecording(o, o.RecordFromRinging)
	ctx, early := l.startEarly(ctx, o.RingTone)
	if strings.EqualFold(o.Strategy, "single") {
		for _, u := range uris {
			won, res = l.ring(ctx, []legTarget{u}, timeout, o.CallerID)
			if won != nil || ctx.Err() != nil || u.failOnReject && rejected(res.SIPCode) {
				break
			}
		}
	} else {
		won, res = l.ring(ctx, uris, timeout, o.CallerID)
	}
	if won == nil && ctx.Err() == nil && len(fallback) > 0 {
		l.log.Info("dial: nobody answered, ringing the forward", "status", res.Status, "cause", res.Cause)
		won, res = l.ring(ctx, fallback, timeout, o.CallerID)
	}
	early.end()
	if won == nil {
		rec.discard()
		if ctx.Err() != nil {
			return call.DialResult{Status: "canceled"}, fmt.Errorf("dial: %w", context.Cause(ctx))
		}
		return res, nil
	}
	if rec == nil {
		rec = l.startDialRecording(o, true)
	}
	rec.add(won)
	res, err := l.bridge(ctx, won, o)
	res.Recording = rec.stop(l.log)
	return res, err
}

// bridge answers the caller if needed and relays media between the
// caller and the leg that answered until one of them hangs up or the time
// limit passes. A transfer may change the callee meanwhile (relay.go).
func (l *inLeg) bridge(ctx context.Context, b *outLeg, o call.DialOptions) (call.DialResult, error) {
	res := call.DialResult{Status: "completed", CallID: b.callID}
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.TimeLimit > 0 {
		var c2 context.CancelFunc
		bctx, c2 = context.WithTimeout(bctx, o.TimeLimit)
		defer c2()
	}
	// The bridge is known before the caller hears the 200: a phone may
	// refer it at once (its consultation call, for an attended transfer).
	br := l.s.newBridging(bctx, l, b, o)
	defer br.end()
	if err := l.Answer(ctx); err != nil {
		res.Status = "canceled"
		return res, err
	}
	if o.HangupOnStar {
		defer l.watchStar(bctx, cancel)()
	}
	defer l.recordBridged(b.sess)()
	start := time.Now()
	b, err := br.relay(bctx)
	res.Duration = time.Since(start)
	switch {
	case b == nil:
		res.Cause = "NORMAL_CLEARING" // the callee went on to another call (attended transfer)
		return res, nil
	case errors.Is(context.Cause(b.ctx), errCalleeHangup):
		res.Cause, res.CallID = "NORMAL_CLEARING", b.callID
		l.log.Debug("callee hung up", "leg", b.callID)
		return res, nil
	case ctx.Err() != nil || bctx.Err() != nil:
		return res, nil // the caller hung up or the time limit passed
	case err != nil:
		res.Status, res.Cause = "failed", "MEDIA_FAILURE"
		return res, fmt.Errorf("dial: bridge: %w", err)
	}
	return res, nil
}

// attempt is how one outbound leg's ringing ended.
type attempt struct {
	leg    *outLeg // the winner; nil otherwise
	code   int     // the final response, 0 when none
	status string  // busy, no-answer, failed, canceled
	cause  string
	// rejectsAll: the leg's reject ends the Dial (fail_on_single_reject).
	rejectsAll bool
}

// ring places a leg to each URI and waits for the first to answer, at
// most timeout. The losers are cancelled (or hung up when they answer
// late) in the background.
func (l *inLeg) ring(ctx context.Context, uris []legTarget, timeout time.Duration, callerID string) (*outLeg, call.DialResult) {
	st, stopWork := newRingState(ctx)
	defer stopWork()
	rctx, cancel := context.WithTimeoutCause(context.WithValue(ctx, ringKey{}, st), timeout, errRingTimeout)
	defer cancel()
	var claimed atomic.Bool
	results := make(chan attempt, len(uris))
	for _, u := range uris {
		l.s.wg.Go(func() { results <- l.placeLater(rctx, u, callerID, &claimed) })
	}
	var done []attempt
	rang := rctx.Done()
	for len(done) < len(uris) {
		select {
		case a := <-results:
			if a.leg != nil {
				return a.leg, call.DialResult{}
			}
			if a.rejectsAll {
				return nil, summarize([]attempt{a})
			}
			done = append(done, a)
		case <-rang:
			if ctx.Err() != nil {
				return nil, call.DialResult{Status: "canceled"}
			}
			if st.screening.Load() > 0 {
				rang = nil // a party that answered in time is in its whisper: its outcome decides
				continue
			}
			done = append(done, attempt{status: "no-answer", cause: "NO_ANSWER"})
			return nil, summarize(done)
		case <-ctx.Done():
			return nil, call.DialResult{Status: "canceled"}
		}
	}
	return nil, summarize(done)
}

// summarize is a failed Dial's outcome: no-answer if any leg rang out,
// else busy if any was busy, else failed.
func summarize(as []attempt) call.DialResult {
	for _, st := range []string{"no-answer", "busy", "failed", "canceled"} {
		for _, a := range as {
			if a.status == st {
				return call.DialResult{Status: st, Cause: a.cause, SIPCode: a.code}
			}
		}
	}
	return call.DialResult{Status: "failed", Cause: "NORMAL_TEMPORARY_FAILURE"}
}

// outLeg is an outbound leg placed by Dial: the UAC side of its INVITE
// dialog (the embedded core; sipgo runs the INVITE transaction, its
// CANCEL and the ACK), and its media session.
type outLeg struct {
	dialog
	sess MediaSession
	once sync.Once
	peer string // where its 2xx came from: the far end's signalling address
	// earlySDP: the leg's answer came in a provisional response (early
	// media), so a 2xx without SDP keeps it.
	earlySDP atomic.Bool
	moh      string // the called phone's music on hold (hold_music.go)
}

// place rings one URI until it answers, fails or ctx ends. Its early
// media, if it sends any, may reach the caller meanwhile (dial_early.go).
func (l *inLeg) place(ctx context.Context, t legTarget, callerID string, claimed *atomic.Bool) (a attempt) {
	s, u := l.s, t.uri
	b := &outLeg{moh: t.moh}
	early := earlyOf(ctx)
	defer func() {
		if a.leg == nil {
			early.release(b, true)
		}
	}()
	id := sipmsg.GenerateTagN(24) + "@switchboard"
	log := l.log.With("leg", id, "target", u.String())
	b.init(s, b, log)
	sess, err := s.media.NewSession(b.ctx, l.info.AccountID, id)
	if err != nil {
		log.Warn("dial: no media", "err", err)
		b.cancel(errEnded)
		return attempt{status: "failed", cause: "MEDIA_FAILURE"}
	}
	b.sess, b.offers = sess, sess
	offer := sess.Offer()
	build := func(force string) *sipmsg.Request {
		req := l.outboundInvite(u, id, callerID, offer, force)
		if t.callerID != "" {
			req.From().DisplayName = t.callerName
		}
		addHeaders(req, t.headers)
		if t.diversion != "" {
			req.AppendHeader(sipmsg.NewHeader("Diversion", t.diversion))
		}
		if t.dest != "" {
			req.SetDestination(t.dest) // the address the egress policy allowed
		}
		return req
	}
	req := build("")
	ua := sipgo.DialogUA{Client: s.client, ContactHDR: *req.Contact()}
	dlg, err := ua.WriteInvite(ctx, req, keep)
	if err != nil && strings.EqualFold(req.Transport(), "tcp") && !hasTransport(u) {
		// Too big for UDP, but TCP did not connect: UDP after all
		// (RFC 3261 §18.1.1), fragments and all.
		log.Info("dial: TCP refused, trying UDP", "err", err)
		req = build("udp")
		ua = sipgo.DialogUA{Client: s.client, ContactHDR: *req.Contact()}
		dlg, err = ua.WriteInvite(ctx, req, keep)
	}
	if err != nil {
		sess.Close()
		b.cancel(errEnded)
		log.Info("dial: invite not sent", "err", err)
		return attempt{status: "failed", cause: "NETWORK_OUT_OF_ORDER"}
	}
	err = waitAnswer(ctx, dlg, sipgo.AnswerOptions{Username: t.username, Password: t.password, OnResponse: func(r *sipmsg.Response) error {
		if (r.StatusCode == 180 || r.StatusCode == 183) && !early.provisional(b, r) {
			l.ringing()
		}
		return nil
	}})
	early.release(b, err != nil)
	if err != nil && ctx.Err() != nil {
		// CANCELled: a 2xx that crosses the CANCEL is to be released.
		tag, _ := req.From().Params.Get("tag")
		s.cancelled.add(req.CallID().Value(), tag, time.Now())
	}
	if err != nil {
		sess.Close()
		b.cancel(errEnded)
		return failure(ctx, err)
	}
	sess.AllowSource(signalAddr(dlg.InviteResponse.Source()))
	b.peer = dlg.InviteResponse.Source()
	b.initUAC(req, dlg.InviteResponse, offer)
	s.addDialog(&b.dialog)
	if err := dlg.Ack(context.WithoutCancel(ctx)); err != nil {
		log.Info("dial: ACK not sent", "err", err)
	}
	if body := dlg.InviteResponse.Body(); len(body) == 0 && b.earlySDP.Load() {
		// The 2xx repeats no SDP: the early media's answer stands.
	} else if err := sess.SetAnswer(body); err != nil {
		log.Info("dial: answer not usable", "err", err)
		b.hangup()
		return attempt{status: "failed", code: 488, cause: codeCause(488)}
	}
	live := legContext(ctx, t)
	if claimed.Load() || !l.prepareLeg(live, b, t) {
		b.cancel(errLost)
		b.hangup()
		return screenedOut(live, claimed.Load())
	}
	if t.confirm && !b.confirmForward(ctx) {
		b.hangup()
		if ctx.Err() != nil {
			return failure(ctx, context.Cause(ctx))
		}
		return attempt{status: "no-answer", cause: "NO_ANSWER"}
	}
	if !claimed.CompareAndSwap(false, true) || live.Err() != nil {
		b.cancel(errLost)
		b.hangup()
		return attempt{status: "canceled"}
	}
	if err := sess.Start(); err != nil && !t.confirm {
		log.Warn("dial: media did not start", "err", err)
	}
	log.Debug("dial answered")
	return attempt{leg: b}
}

// waitAnswer is sipgo's WaitAnswer, guarded: when ctx ends it CANCELs
// the INVITE, and sipgo v1.7.2 dereferences a nil response when that
// CANCEL's transaction ends without one (its user agent closing under
// it, at shutdown). That becomes an error for the leg, not a crash.
func waitAnswer(ctx context.Context, dlg *sipgo.DialogClientSession, o sipgo.AnswerOptions) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("wait answer: cancel failed: %v", r)
		}
	}()
	return dlg.WaitAnswer(ctx, o)
}

// failure classifies a leg that did not answer.
func failure(ctx context.Context, err error) attempt {
	if de, ok := errors.AsType[*sipgo.ErrDialogResponse](err); ok {
		code := de.Res.StatusCode
		a := attempt{code: code, cause: codeCause(code), status: dialStatus(code)}
		if code == 487 && errors.Is(context.Cause(ctx), errRingTimeout) {
			a.status, a.cause, a.code = "no-answer", "NO_ANSWER", 0
		}
		return a
	}
	switch {
	case errors.Is(context.Cause(ctx), errRingTimeout):
		return attempt{status: "no-answer", cause: "NO_ANSWER"}
	case ctx.Err() != nil:
		return attempt{status: "canceled"}
	case errors.Is(err, sipmsg.ErrTransactionTimeout):
		return attempt{status: "no-answer", cause: "RECOVERY_ON_TIMER_EXPIRE", code: 408}
	}
	return attempt{status: "failed", cause: "NETWORK_OUT_OF_ORDER"}
}

// ringback plays the country's ringback tone in-band to an answered
// caller while the targets ring, so the caller never waits in silence.
// An unanswered caller (answerOnBridge) gets 180 instead, or, when the
// Dial names a ringTone, that tone as early media (183), as Twilio
// plays it. The returned func stops it and returns once the tone is off
// the line (before a bridge starts).
func (l *inLeg) ringback(ctx context.Context, ringTone string) (stop func()) {
	if l.sess == nil {
		return func() {}
	}
	if !l.Answered() && (ringTone == "" || l.early(ctx, "ringback") != nil) {
		return func() {}
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := l.sess.Play(rctx, call.PlayOptions{URL: "builtin:" + media.RingbackName(ringTone), Loop: 0}); err != nil && rctx.Err() == nil {
			l.log.Debug("ringback not played", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// Ring is call.Ringer: 180 Ringing to an unanswered caller, once.
func (l *inLeg) Ring(ctx context.Context) error {
	if err := l.goneErr("ring"); err != nil {
		return err
	}
	l.ringing()
	return nil
}

// ringing tells an unanswered caller that the callee rings (once).
func (l *inLeg) ringing() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state != stateRinging || l.rang || l.ctx.Err() != nil {
		return
	}
	l.rang = true
	if err := l.tx.Respond(l.response(180, "Ringing", nil)); err != nil {
		l.log.Debug("180 not sent", "err", err)
	}
}

// maxUDPRequest is the largest request we send over UDP when the target
// does not name a transport: a larger one goes over TCP (RFC 3261
// §18.1.1, the path MTU being unknown).
const maxUDPRequest = 1300

// hasTransport reports whether a URI names its transport (a transport
// parameter, or sips:).
func hasTransport(u sipmsg.Uri) bool {
	t, ok := u.UriParams.Get("transport")
	return ok && t != "" || strings.EqualFold(u.Scheme, "sips")
}

// outboundInvite is the INVITE of an outbound leg, from the caller id
// (or the caller) at our host. The transport is the URI's; when it names
// none, UDP, or TCP for a request over maxUDPRequest; force overrides.
func (l *inLeg) outboundInvite(u sipmsg.Uri, id, callerID string, offer []byte, force string) *sipmsg.Request {
	transport := "udp"
	if t, ok := u.UriParams.Get("transport"); ok && t != "" {
		transport = strings.ToLower(t)
	} else if strings.EqualFold(u.Scheme, "sips") {
		transport = "tls"
	}
	if force != "" {
		transport = force
	}
	req := l.buildInvite(u, id, callerID, offer, transport)
	if force == "" && transport == "udp" && len(req.String()) > maxUDPRequest {
		req = l.buildInvite(u, id, callerID, offer, "tcp")
	}
	return req
}

// buildInvite builds the outbound INVITE for a transport.
func (l *inLeg) buildInvite(u sipmsg.Uri, id, callerID string, offer []byte, transport string) *sipmsg.Request {
	s := l.s
	req := sipmsg.NewRequest(sipmsg.INVITE, u)
	user := callerID
	if user == "" {
		user = l.info.From
	}
	from := &sipmsg.FromHeader{
		DisplayName: l.info.FromName,
		Address:     sipmsg.Uri{Scheme: "sip", User: user, Host: s.host(nil)},
		Params:      sipmsg.NewParams(),
	}
	from.Params.Add("tag", sipmsg.GenerateTagN(16))
	to := &sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: u.Scheme, User: u.User, Host: u.Host, Port: u.Port}}
	cid := sipmsg.CallIDHeader(id)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&cid)
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: 1, MethodName: sipmsg.INVITE})
	req.AppendHeader(s.contact(nil, transport))
	req.AppendHeader(sipmsg.NewHeader("Allow", allowed))
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	s.prepare(req, transport)
	return req
}

func fromTag(m interface{ From() *sipmsg.FromHeader }) string {
	t, _ := m.From().Params.Get("tag")
	return t
}

func toTag(m interface{ To() *sipmsg.ToHeader }) string {
	t, _ := m.To().Params.Get("tag")
	return t
}

// resolve turns a Dial target into a SIP URI, or says why it cannot.
func (s *Server) resolve(account string, t call.Target) (sipmsg.Uri, string) {
	var u sipmsg.Uri
	switch t.Kind {
	case "sip":
		v := strings.TrimSpace(t.Value)
		if !strings.HasPrefix(strings.ToLower(v), "sip:") && !strings.HasPrefix(strings.ToLower(v), "sips:") {
			v = "sip:" + v
		}
		if err := sipmsg.ParseUri(v, &u); err != nil || u.Host == "" {
			return u, "INVALID_NUMBER_FORMAT"
		}
		return u, ""
	case "number":
		gw, ok := s.trunks.Outbound(account)
		if !ok {
			return u, "NO_ROUTE_DESTINATION"
		}
		if err := sipmsg.ParseUri(gw, &u); err != nil || u.Host == "" {
			return u, "NO_ROUTE_DESTINATION"
		}
		u.User = strings.Map(func(r rune) rune {
			if strings.ContainsRune("0123456789+*#", r) {
				return r
			}
			return -1
		}, t.Value)
		if u.User == "" {
			return u, "INVALID_NUMBER_FORMAT"
		}
		return u, ""
	case "user", "device", "client":
		return u, "USER_NOT_REGISTERED" // devices are not served yet
	}
	return u, "FACILITY_NOT_IMPLEMENTED"
}

// hangup ends the leg: BYE unless its far end hung up, then its media
// closes and it leaves the dialogs. Safe to call more than once.
func (b *outLeg) hangup() {
	b.once.Do(func() {
		if !errors.Is(context.Cause(b.ctx), errCalleeHangup) {
			if err := b.bye(b.ctx); err != nil {
				b.log.Debug("dial: bye failed", "err", err)
			}
		}
		b.cancel(errEnded)
		_ = b.sess.Close()
		b.s.removeDialog(b.id)
	})
}

// phaseLocked is confirmed from the 2xx on: an outbound leg joins the
// dialogs only then.
func (b *outLeg) phaseLocked() phase { return phaseConfirmed }

// farEndBye is the callee hanging up.
func (b *outLeg) farEndBye() { b.cancel(errCalleeHangup) }

// readInfo acknowledges the callee's INFO (digits from the callee are not
// collected).
func (b *outLeg) readInfo(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	b.s.respond(tx, req, 200, "OK")
}

// terminate is the dialog core ending the leg (no ACK for a 2xx).
func (b *outLeg) terminate(_ context.Context, cause error) {
	b.cancel(cause)
	b.hangup()
}

var (
	_ legRole = (*inLeg)(nil)
	_ legRole = (*outLeg)(nil)
)

// BridgeCall is call.Bridger: it relays audio and DTMF both ways between
// this call and another inbound call of the server (TwiML's
// <Dial><Queue> takes a waiting caller) until either hangs up or ctx
// ends.
func (l *inLeg) BridgeCall(ctx context.Context, other call.Channel) error {
	o, ok := call.As[*inLeg](other)
	if !ok || o == l || o.sess == nil || l.sess == nil {
		return errors.New("bridge: the other call is not a SIP call of this server")
	}
	if err := l.Answer(ctx); err != nil {
		return fmt.Errorf("bridge: %w", err)
	}
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(o.ctx, cancel)
	defer stop()
	defer l.recordBridged(o.sess)()
	err := l.sess.Bridge(bctx, o.sess)
	if bctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bridge: %w", err)
	}
	return nil
}

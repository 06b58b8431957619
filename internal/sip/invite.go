package sip

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
)

// onInvite takes a new call (or hands a re-INVITE to its dialog): check
// the source trunk, negotiate the offer, then run the handler on the leg
// until the call ends. sipgo gives each request its own goroutine; this
// one lives as long as the call.
func (s *Server) onInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if hasTag(req) {
		if r := s.check(req); r != nil {
			s.refuse(tx, req, r)
			return
		}
		s.routeInDialog(req, tx)
		return
	}
	src, _ := netip.ParseAddr(sourceIP(req))
	account, trusted := s.trunks.Inbound(src.Unmap())
	if r := s.check(req); r != nil {
		s.refuseInvite(tx, req, account, r)
		return
	}
	var dev *Device
	if s.fromPhone(req, trusted) { // a registered phone's call
		d, authed := s.inviteDevice(req, tx)
		if !authed {
			return
		}
		account, trusted, dev = d.AccountID, true, &d
	}
	if !trusted {
		// Over UDP the guard answered already; this is TCP or TLS.
		s.refusedStranger(req, req.Source())
		if s.cfg.Strangers == StrangersDrop {
			tx.Terminate()
			return
		}
		s.respond(tx, req, 403, "Forbidden")
		return
	}
	why, held := s.admitted(req.Transport(), callID(req))
	if why != "" {
		// Over the rate, or short of CPU: refused before any work is
		// spent on the call (over UDP this was done as it was read).
		s.countShed(why)
		s.refuseInvite(tx, req, account, &refusal{code: 503, reason: "Overloaded",
			headers: []sipmsg.Header{sipmsg.NewHeader("Retry-After", retryAfter)}})
		return
	}
	if held { // in progress until this returns: the call's end (shed.go)
		defer s.adm.release(time.Now())
	}
	if req.Contact() == nil {
		s.refuseInvite(tx, req, account, &refusal{code: 400, reason: "Missing Contact"})
		return
	}
	timer, r := s.negotiateTimer(req, nil)
	if r != nil {
		s.refuseInvite(tx, req, account, r)
		return
	}
	// No 100 Trying here: sipgo's server transaction sends one if no
	// other response went out within 200 ms (RFC 3261 §17.2.1), and most
	// calls are answered, rung or refused well before. Sending it at once
	// cost every call a response built and a datagram sent (about 3 % of
	// the CPU at 1,500 calls/s).

	l := newInLeg(s, req, tx, account, timer)
	if dev != nil {
		l.fromDevice(*dev)
	}
	s.mu.Lock()
	why = ""
	if !s.closed {
		why = s.shed.admitLocked(len(s.calls))
	}
	switch {
	case s.closed:
		s.mu.Unlock()
		s.refuseInvite(tx, req, account, &refusal{code: 503, reason: "Shutting Down"})
		l.cancel(errEnded)
		return
	case why != "":
		s.mu.Unlock()
		s.shedN.maxCalls.Add(1)
		s.refuseInvite(tx, req, account, &refusal{code: 503, reason: "Overloaded",
			headers: []sipmsg.Header{sipmsg.NewHeader("Retry-After", retryAfter)}})
		l.cancel(errEnded)
		return
	case s.calls[l.info.SIPCallID] != nil:
		s.mu.Unlock()
		s.respond(tx, req, 482, reason(482))
		l.cancel(errEnded)
		return
	}
	s.calls[l.info.SIPCallID] = l
	s.callWG.Add(1)
	s.mu.Unlock()
	defer l.finish()

	// The transaction layer answers a matching CANCEL (200, and 487 to
	// the INVITE); the callback runs under the transaction's lock, so it
	// only cancels the context. The callbacks reach the leg through txLeg,
	// which finish empties: an answered INVITE's transaction lives 64·T1
	// (32 s, RFC 6026 §8.7) after the 200, and holding the leg that long
	// kept every call of the last 32 s in memory for the collector to
	// scan.
	ref := &txLeg{}
	ref.Store(l)
	l.txLeg = ref
	if !tx.OnCancel(func(*sipmsg.Request) {
		if l := ref.Load(); l != nil {
			l.cancel(call.ErrHangup)
		}
	}) {
		l.cancel(call.ErrHangup)
		return
	}
	tx.OnTerminate(func(string, error) {
		if l := ref.Load(); l != nil && !l.final.Load() { // the transport failed before we answered
			l.cancel(call.ErrHangup)
		}
	})

	sess, err := s.media.NewSession(l.ctx, account, l.info.ID)
	if err != nil {
		l.log.Warn("call refused: no media", "err", err)
		l.reject(503)
		s.report(Refusal{Code: 503, Reason: "no media port", AccountID: account, Source: req.Source(),
			From: l.info.From, To: l.info.Request, CallID: l.info.SIPCallID})
		return
	}
	l.sess, l.offers = sess, sess
	sess.AllowSource(signalAddr(req.Source()))
	if offer := req.Body(); len(offer) > 0 {
		answer, err := sess.Answer(offer)
		if err != nil {
			code, hdrs := offerRefusal(err)
			l.log.Info("call refused: offer not acceptable", "code", code, "err", err)
			l.reject(code, hdrs...)
			s.report(Refusal{Code: code, Reason: "offer not acceptable", AccountID: account, Source: req.Source(),
				From: l.info.From, To: l.info.Request, CallID: l.info.SIPCallID})
			return
		}
		l.sdp = answer
	} else {
		l.offerless = true
		l.sdp = sess.Offer()
	}
	// In-dialog requests can come once our To tag is out (with 18x or
	// 200), after this: the leg is complete when they find it.
	s.addDialog(&l.dialog)
	l.log.Debug("call arrived", "from", l.info.From, "to", l.info.Request, "source", req.Source())
	s.handle(l.ctx, l)
}

// newInLeg builds the leg of an INVITE: our To tag, the call's info and
// its dialog.
func newInLeg(s *Server, req *sipmsg.Request, tx sipmsg.ServerTransaction, account string, timer sessionTimer) *inLeg {
	to := taggedTo(req, sipmsg.GenerateTagN(16))
	from := req.From()
	id, sipID := call.NewCallSid(), callID(req)
	l := &inLeg{
		invite: req, to: to, tx: tx,
		info: call.Info{
			ID: id, SIPCallID: sipID, AccountID: account,
			From: unescape(from.Address.User), FromName: from.DisplayName, FromRealm: from.Address.Host,
			To: unescape(to.Address.User), ToRealm: to.Address.Host,
			Request: unescape(req.Recipient.User), Direction: "inbound", Started: time.Now(),
			SIPHeaders: customHeaders(req),
		},
	}
	l.init(s, l, call.Logger(s.log, "call_id", id, "sip_call_id", sipID, "account_id", account))
	l.initUAS(req, to)
	l.timer = timer
	return l
}

// taggedTo is the INVITE's To header with our tag, as our responses and
// the dialog carry it. Only the To header is copied: the responses are
// built from the received INVITE with this To in place of its own
// (newResponse), so no copy of the INVITE is made (sipgo's Clone copied
// every header and the body, 2.3 KB a call; a copy with only this header
// new was still 700 B).
func taggedTo(req *sipmsg.Request, tag string) *sipmsg.ToHeader {
	to := req.To()
	out := &sipmsg.ToHeader{DisplayName: to.DisplayName, Address: to.Address, Params: to.Params.Clone()}
	out.Params.Add("tag", tag)
	return out
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// customHeaders are the INVITE's X- headers, sent on to webhooks.
func customHeaders(req *sipmsg.Request) map[string]string {
	var out map[string]string
	for _, h := range req.Headers() {
		if n := h.Name(); len(n) > 2 && strings.EqualFold(n[:2], "x-") {
			if out == nil {
				out = map[string]string{}
			}
			out[n] = h.Value()
		}
	}
	return out
}

// finish runs when the handler returns: the call is hung up if it still
// runs, its helpers stop, its media closes and it leaves the tables.
func (l *inLeg) finish() {
	if st := l.loadState(); st != stateEnded && !errors.Is(context.Cause(l.ctx), call.ErrHangup) {
		if err := l.Hangup(context.WithoutCancel(l.ctx), "NORMAL_CLEARING"); err != nil {
			l.log.Debug("hangup at end failed", "err", err)
		}
	}
	l.cancel(errEnded)
	l.stopWatchMedia()
	l.wg.Wait()
	if l.sess != nil {
		if err := l.sess.Close(); err != nil {
			l.log.Debug("media close failed", "err", err)
		}
	}
	s := l.s
	s.mu.Lock()
	if s.calls[l.info.SIPCallID] == l {
		delete(s.calls, l.info.SIPCallID)
	}
	delete(s.dialogs, l.id)
	s.mu.Unlock()
	if l.txLeg != nil {
		l.txLeg.Store(nil) // the INVITE's transaction outlives the call
	}
	s.callWG.Done()
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug("call finished", "cause", context.Cause(l.ctx))
	}
}

package sip

import (
	sipmsg "github.com/emiago/sipgo/sip"
)

// inDialog takes the requests that only make sense in a dialog (ACK,
// BYE, INFO, UPDATE, NOTIFY; REFER comes through onRefer) and the INVITEs and OPTIONS with a To tag, whichever
// leg their dialog belongs to: checked (RFC 3261 §8.2), matched to the
// dialog and served by it. A request for no dialog we have gets 481; an
// ACK is dropped, and an OPTIONS answered as outside a dialog.
func (s *Server) inDialog(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if r := s.check(req); r != nil {
		if !req.IsAck() {
			s.refuse(tx, req, r)
		}
		return
	}
	s.routeInDialog(req, tx)
}

// routeInDialog is inDialog once the request passed the checks.
func (s *Server) routeInDialog(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if d, ok := s.matchDialog(req); ok {
		d.serve(req, tx)
		return
	}
	switch req.Method {
	case sipmsg.ACK:
	case sipmsg.OPTIONS:
		s.answerOptions(req, tx)
	default:
		s.respond(tx, req, 481, reason(481))
	}
}

// serve is the one in-dialog request dispatcher of both legs. Requests
// that change the dialog (re-INVITE, UPDATE, INFO) must come in CSeq
// order (RFC 3261 §12.2.2); a BYE is taken whatever its CSeq (readBye),
// and an OPTIONS, which changes nothing, is answered whatever its CSeq.
func (d *dialog) serve(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	switch req.Method {
	case sipmsg.ACK:
		d.readAck(req)
	case sipmsg.BYE:
		d.readBye(req, tx)
	case sipmsg.INVITE:
		d.readReinvite(req, tx)
	case sipmsg.UPDATE:
		d.readUpdate(req, tx)
	case sipmsg.INFO:
		d.mu.Lock()
		ok := d.inSequenceLocked(req)
		d.mu.Unlock()
		if !ok {
			d.s.refuse(tx, req, refuseOutOfOrder)
			return
		}
		d.role.readInfo(req, tx)
	case sipmsg.OPTIONS:
		d.s.answerOptions(req, tx)
	case sipmsg.REFER:
		d.readRefer(req, tx)
	case sipmsg.NOTIFY:
		d.readNotify(req, tx)
	default:
		d.s.onNoRoute(req, tx)
	}
}

// readAck takes the ACK of a 2xx we sent, to the INVITE or a re-INVITE;
// after an offerless one it carries the far end's answer.
func (d *dialog) readAck(req *sipmsg.Request) {
	seq := req.CSeq().SeqNo
	d.mu.Lock()
	var p *pendingInvite
	switch {
	case d.initial != nil && seq == d.initial.cseq:
		p = d.initial
	case d.pending != nil && seq == d.pending.cseq:
		p = d.pending
	}
	d.mu.Unlock()
	if p != nil {
		p.settle(d, req.Body())
	}
}

// readBye is the far end hanging up: 200, then the leg ends. A BYE is
// taken even out of order: the far end wants the call over, and a 500
// would leave it up.
func (d *dialog) readBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	d.s.respond(tx, req, 200, "OK")
	d.mu.Lock()
	d.remoteCSeq, d.remoteSeen = max(d.remoteCSeq, req.CSeq().SeqNo), true
	d.mu.Unlock()
	d.role.farEndBye()
}

// Refusals of in-dialog requests.
var (
	refuseNoDialog   = &refusal{code: 481}
	refusePending    = &refusal{code: 491}
	refuseOutOfOrder = &refusal{code: 500, reason: "CSeq Out of Order"}
)

// readReinvite handles a re-INVITE (hold, resume, a new address or codec,
// a session refresh): the offer to the negotiator, 200 with our answer
// retransmitted until the ACK (sipgo leaves that to us), 488 when the
// offer is not acceptable (the session stays as it was), 491 while
// another is pending or before the dialog is confirmed.
func (d *dialog) readReinvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	var (
		timer sessionTimer
		p     *pendingInvite
	)
	res, ok := d.reply(req, tx, func() (*sipmsg.Response, *refusal) {
		switch ph := d.phaseLocked(); {
		case ph == phaseEnded:
			return nil, refuseNoDialog
		case ph != phaseConfirmed || d.pending != nil:
			return nil, refusePending
		case !d.inSequenceLocked(req):
			return nil, refuseOutOfOrder
		}
		res, t, r := d.takeOfferLocked(req, true)
		if r == nil {
			timer, p = t, newPendingInvite(req)
			d.pending = p
		}
		return res, r
	})
	if !ok {
		return
	}
	d.refreshed(timer)
	d.log.Debug("re-INVITE answered", "cseq", p.cseq)
	d.awaitAck(tx, res, p)
	select {
	case <-p.done:
	case <-d.ctx.Done():
	}
	d.mu.Lock()
	if d.pending == p {
		d.pending = nil
	}
	d.mu.Unlock()
}

// readUpdate handles UPDATE (RFC 3311): a session refresh, with or
// without a new offer, early or confirmed; it needs no ACK.
func (d *dialog) readUpdate(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	var (
		timer     sessionTimer
		confirmed bool
	)
	_, ok := d.reply(req, tx, func() (*sipmsg.Response, *refusal) {
		ph := d.phaseLocked()
		switch {
		case ph == phaseEnded:
			return nil, refuseNoDialog
		case !d.inSequenceLocked(req):
			return nil, refuseOutOfOrder
		case len(req.Body()) > 0 && d.pending != nil:
			return nil, refusePending
		}
		confirmed = ph == phaseConfirmed
		res, t, r := d.takeOfferLocked(req, confirmed)
		timer = t
		return res, r
	})
	if ok && confirmed {
		d.refreshed(timer)
	}
}

// reply decides on req under the dialog's lock, then sends the decision:
// the refusal, or the response, reported sent.
func (d *dialog) reply(req *sipmsg.Request, tx sipmsg.ServerTransaction, decide func() (*sipmsg.Response, *refusal)) (*sipmsg.Response, bool) {
	d.mu.Lock()
	res, r := decide()
	d.mu.Unlock()
	if r != nil {
		d.s.refuse(tx, req, r)
		return nil, false
	}
	if err := tx.Respond(res); err != nil {
		d.log.Debug("in-dialog response not sent", "method", req.Method.String(), "code", res.StatusCode, "err", err)
	}
	return res, true
}

// takeOfferLocked is what a re-INVITE and an UPDATE share once they are
// in order: the session timer (422 when too short), the offer if any
// (488 or 500 when media refuses it), the target refresh, and the 200 to
// send, with the timer when refreshes count; or why req is refused. A
// re-INVITE without an offer gets our current SDP as one.
func (d *dialog) takeOfferLocked(req *sipmsg.Request, refreshes bool) (*sipmsg.Response, sessionTimer, *refusal) {
	timer, r := d.negotiateLocked(req)
	if r != nil {
		return nil, timer, r
	}
	sdp := d.sdp
	if offer := req.Body(); len(offer) > 0 {
		answer, err := d.offers.Update(offer)
		if err != nil {
			code, hdrs := offerRefusal(err)
			d.log.Info("offer refused", "method", req.Method.String(), "code", code, "err", err)
			return nil, timer, &refusal{code: code, headers: hdrs}
		}
		d.sdp, sdp = answer, answer
	} else if !req.IsInvite() {
		sdp = nil
	}
	d.refreshTargetLocked(req)
	res := d.response(req, 200, "OK", sdp)
	if refreshes {
		timerHeaders(res, timer)
	}
	return res, timer, nil
}

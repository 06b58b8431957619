package sip

import (
	"errors"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/media"
)

// reinvite is a re-INVITE we answered 2xx, awaiting its ACK.
type reinvite struct {
	cseq      uint32
	acked     chan struct{}
	once      sync.Once
	offerless bool // our 2xx offered: the ACK carries the answer
	sess      MediaSession
	log       interface{ Info(string, ...any) }
}

func (r *reinvite) ack(body []byte) {
	r.once.Do(func() {
		close(r.acked)
		if r.offerless && len(body) > 0 {
			if err := r.sess.SetAnswer(body); err != nil {
				r.log.Info("answer in ACK not usable", "err", err)
			}
		}
	})
}

// onReinvite handles a re-INVITE (hold, resume, a new address or codec,
// a session refresh): media.Session.Update on its offer, 200 with our
// answer retransmitted until the ACK (sipgo leaves that to us), 488 when
// the offer is not acceptable (the session stays as it was), 491 while
// another is pending.
func (l *inLeg) onReinvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	l.mu.Lock()
	switch {
	case l.state == stateEnded || l.ctx.Err() != nil:
		l.mu.Unlock()
		l.s.respond(tx, req, 481, reason(481))
		return
	case l.state != stateAnswered || l.pending != nil:
		l.mu.Unlock()
		l.s.respond(tx, req, 491, reason(491))
		return
	case req.CSeq().SeqNo <= l.remoteCSeq:
		l.mu.Unlock()
		l.s.respond(tx, req, 500, "CSeq Out of Order")
		return
	}
	l.remoteCSeq = req.CSeq().SeqNo
	timer, r := l.s.negotiateTimer(req, &l.timer)
	if r != nil {
		l.mu.Unlock()
		l.s.refuse(tx, req, r)
		return
	}
	p := &reinvite{cseq: req.CSeq().SeqNo, acked: make(chan struct{}), sess: l.sess, log: l.log}
	if offer := req.Body(); len(offer) > 0 {
		answer, err := l.sess.Update(offer)
		if err != nil {
			l.mu.Unlock()
			code := 500
			if errors.Is(err, media.ErrBadSDP) || errors.Is(err, media.ErrNoCodec) {
				code = 488
			}
			l.log.Info("re-INVITE refused", "code", code, "err", err)
			l.s.respond(tx, req, code, reason(code))
			return
		}
		l.sdp = answer
	} else {
		p.offerless = true
	}
	if c := req.Contact(); c != nil {
		l.target = c.Address // a target refresh
	}
	res := sipmsg.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(l.s.contact(l.invite, l.invite.Transport()))
	res.AppendHeader(sipmsg.NewHeader("Allow", allowed))
	res.AppendHeader(sipmsg.NewHeader("Supported", "timer"))
	res.AppendHeader(sipmsg.NewHeader("Server", l.s.cfg.UserAgent))
	l.timerHeaders(res, timer)
	res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	res.SetBody(l.sdp)
	l.pending = p
	l.mu.Unlock()

	if err := tx.Respond(res); err != nil {
		l.log.Debug("re-INVITE 200 not sent", "err", err)
	}
	l.refreshed(timer)
	l.log.Debug("re-INVITE answered", "cseq", p.cseq)
	l.awaitAck(tx, res, p)
	l.mu.Lock()
	if l.pending == p {
		l.pending = nil
	}
	l.mu.Unlock()
}

// awaitAck retransmits a re-INVITE's 2xx over UDP until its ACK comes,
// the call ends or 64·T1 pass.
func (l *inLeg) awaitAck(tx sipmsg.ServerTransaction, res *sipmsg.Response, p *reinvite) {
	reliable := sipmsg.IsReliable(l.invite.Transport())
	wait := t1()
	tick := time.NewTimer(wait)
	defer tick.Stop()
	giveUp := time.NewTimer(64 * t1())
	defer giveUp.Stop()
	for {
		select {
		case <-p.acked:
			return
		case <-l.ctx.Done():
			return
		case <-giveUp.C:
			l.log.Info("no ACK for re-INVITE 200")
			return
		case <-tick.C:
			if !reliable {
				if err := tx.Respond(res); err != nil {
					l.log.Debug("re-INVITE 200 retransmission failed", "err", err)
				}
			}
			wait = min(2*wait, t2())
			tick.Reset(wait)
		}
	}
}

// onUpdate handles UPDATE (RFC 3311): a session refresh, with or without
// a new offer; it needs no ACK.
func (l *inLeg) onUpdate(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	l.mu.Lock()
	switch {
	case l.state == stateEnded || l.ctx.Err() != nil:
		l.mu.Unlock()
		l.s.respond(tx, req, 481, reason(481))
		return
	case req.CSeq().SeqNo <= l.remoteCSeq:
		l.mu.Unlock()
		l.s.respond(tx, req, 500, "CSeq Out of Order")
		return
	case len(req.Body()) > 0 && l.pending != nil:
		l.mu.Unlock()
		l.s.respond(tx, req, 491, reason(491))
		return
	}
	l.remoteCSeq = req.CSeq().SeqNo
	timer, r := l.s.negotiateTimer(req, &l.timer)
	if r != nil {
		l.mu.Unlock()
		l.s.refuse(tx, req, r)
		return
	}
	var answer []byte
	if offer := req.Body(); len(offer) > 0 {
		a, err := l.sess.Update(offer)
		if err != nil {
			l.mu.Unlock()
			code := 500
			if errors.Is(err, media.ErrBadSDP) || errors.Is(err, media.ErrNoCodec) {
				code = 488
			}
			l.s.respond(tx, req, code, reason(code))
			return
		}
		l.sdp, answer = a, a
	}
	if c := req.Contact(); c != nil {
		l.target = c.Address
	}
	answered := l.state == stateAnswered
	l.mu.Unlock()

	res := sipmsg.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(l.s.contact(l.invite, l.invite.Transport()))
	res.AppendHeader(sipmsg.NewHeader("Supported", "timer"))
	res.AppendHeader(sipmsg.NewHeader("Server", l.s.cfg.UserAgent))
	if answered {
		l.timerHeaders(res, timer)
	}
	if answer != nil {
		res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		res.SetBody(answer)
	}
	if err := tx.Respond(res); err != nil {
		l.log.Debug("UPDATE 200 not sent", "err", err)
	}
	if answered {
		l.refreshed(timer)
	}
}

package sip

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// refreshTimeout bounds the wait for the answer to a session refresh.
const refreshTimeout = 32 * time.Second

// refreshSession keeps a session alive when we are its refresher (RFC
// 4028 §7.4, §10): at half the interval it sends an UPDATE when the
// caller allows it, or else a re-INVITE with our current SDP, and takes
// the interval of the 2xx. A refresh that times out or gets 408 or 481
// ends the call with BYE; another failure leaves the session as it was
// and is tried again at the next half interval.
func (l *inLeg) refreshSession(t sessionTimer) {
	useUpdate := slices.Contains(headerValues(l.invite, "Allow"), "update")
	every := t.interval / 2
	tick := time.NewTimer(every)
	defer tick.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case nt := <-l.refresh: // the caller refreshed: count from now
			if nt.interval > 0 {
				t = nt
			}
			tick.Reset(t.interval / 2)
			continue
		case <-tick.C:
		}
		code, err := l.sendRefresh(t, useUpdate)
		switch {
		case err != nil && l.ctx.Err() != nil:
			return
		case err != nil || code == 408 || code == 481:
			l.log.Info("session refresh failed: hanging up", "code", code, "err", err)
			l.terminate(context.WithoutCancel(l.ctx), errExpired)
			return
		case code >= 300:
			l.log.Info("session refresh refused", "code", code)
		default:
			l.log.Debug("session refreshed", "method", map[bool]string{true: "UPDATE", false: "INVITE"}[useUpdate])
		}
		tick.Reset(t.interval / 2)
	}
}

// sendRefresh sends one refresh and returns the final status; the ACK of
// a re-INVITE's 2xx is sent here.
func (l *inLeg) sendRefresh(t sessionTimer, useUpdate bool) (int, error) {
	method := sipmsg.INVITE
	if useUpdate {
		method = sipmsg.UPDATE
	}
	req := l.newRequest(method)
	secs := strconv.Itoa(int(t.interval / time.Second))
	req.AppendHeader(sipmsg.NewHeader("Session-Expires", secs+";refresher=uas"))
	req.AppendHeader(sipmsg.NewHeader("Supported", supportedTags))
	if method == sipmsg.INVITE {
		l.mu.Lock()
		sdp := l.sdp
		l.mu.Unlock()
		req.AppendHeader(sipmsg.NewHeader("Allow", allowed))
		if len(sdp) > 0 {
			req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
			req.SetBody(sdp)
		}
	}
	ctx, cancel := context.WithTimeout(l.ctx, refreshTimeout)
	defer cancel()
	res, err := l.s.do(ctx, req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 408, nil
		}
		return 0, fmt.Errorf("session refresh: %w", err)
	}
	if method == sipmsg.INVITE && res.IsSuccess() {
		if err := l.s.client.WriteRequest(l.ackFor(req)); err != nil {
			l.log.Debug("ACK of the refresh not sent", "err", err)
		}
		if body := res.Body(); len(body) > 0 {
			if err := l.negotiatorNow().SetAnswer(body); err != nil {
				l.log.Info("answer to the refresh not usable", "err", err)
			}
		}
	}
	return res.StatusCode, nil
}

// ackFor is the ACK of a 2xx to a re-INVITE we sent: the same CSeq
// number, a new branch, the same destination (RFC 3261 §13.2.2.4).
func (d *dialog) ackFor(invite *sipmsg.Request) *sipmsg.Request {
	ack := sipmsg.NewRequest(sipmsg.ACK, *invite.Recipient.Clone())
	for _, name := range []string{"From", "To", "Call-ID"} {
		if h := invite.GetHeader(name); h != nil {
			ack.AppendHeader(sipmsg.HeaderClone(h))
		}
	}
	ack.AppendHeader(&sipmsg.CSeqHeader{SeqNo: invite.CSeq().SeqNo, MethodName: sipmsg.ACK})
	for _, r := range invite.GetHeaders("Route") {
		ack.AppendHeader(sipmsg.HeaderClone(r))
	}
	d.s.prepare(ack, d.transport)
	if dst := invite.Destination(); dst != "" {
		ack.SetDestination(dst)
	}
	return ack
}

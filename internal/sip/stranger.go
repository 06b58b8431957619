package sip

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// Stranger policies: what an INVITE from a source that is no trunk of
// any account gets.
const (
	// StrangersReject answers each such INVITE once with a stateless 403:
	// no transaction, so no retransmission of the 403 waiting for an ACK.
	StrangersReject = "reject"
	// StrangersDrop answers nothing, so a scanner learns nothing.
	StrangersDrop = "drop"
)

// logLimit lets through at most a burst of lines and then perSecond a
// second, so that a flood of strangers cannot flood the log; what it
// held back is counted in the next line let through.
type logLimit struct {
	mu         sync.Mutex
	tokens     float64
	last       time.Time
	suppressed int
}

const (
	strangerLogBurst     = 20
	strangerLogPerSecond = 2
)

// allow reports whether a line may be written now, and how many were
// held back since the last one.
func (l *logLimit) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() {
		l.tokens = strangerLogBurst
	} else {
		l.tokens = min(strangerLogBurst, l.tokens+now.Sub(l.last).Seconds()*strangerLogPerSecond)
	}
	l.last = now
	if l.tokens < 1 {
		l.suppressed++
		return false, 0
	}
	l.tokens--
	n := l.suppressed
	l.suppressed = 0
	return true, n
}

// strangerLog writes an Info line about traffic from outside (untrusted
// sources, refused connections, unparsable messages) within the log
// limit; held-back lines are counted as "suppressed" in the next one.
func (s *Server) strangerLog(msg string, args ...any) {
	ok, n := s.logLimit.allow(time.Now())
	if !ok {
		return
	}
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	s.log.Info(msg, args...)
}

// refuseStranger answers, before any transaction exists, an INVITE over
// UDP from a source that belongs to no account: one stateless 403 per
// INVITE received (a retransmitted INVITE gets another, and then the
// caller stops), or nothing with StrangersDrop. It reports whether the
// request was such an INVITE, which then goes no further.
func (s *Server) refuseStranger(req *sipmsg.Request, raddr net.Addr) bool {
	if !req.IsInvite() || hasTag(req) {
		return false
	}
	ap, err := netip.ParseAddrPort(raddr.String())
	if err != nil {
		return false
	}
	if _, ok := s.trunks.Inbound(ap.Addr().Unmap()); ok || s.fromPhone(req, false) {
		return false // a trunk's, or a phone's (challenged in onInvite)
	}
	s.refusedStranger(req, raddr.String())
	if s.cfg.Strangers == StrangersDrop || s.udp == nil {
		return true
	}
	res := newResponse(req, nil, 403, "Forbidden")
	if to := res.To(); to != nil && !to.Params.Has("tag") {
		to.Params.Add("tag", sipmsg.GenerateTagN(16)) // RFC 3261 §8.2.6.2
	}
	res.AppendHeader(s.serverHeader)
	if _, err := s.udp.WriteTo([]byte(res.String()), raddr); err != nil && s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("stateless 403 not sent", "raddr", raddr.String(), "err", err)
	}
	return true
}

// refusedStranger logs (within the limit) and reports an INVITE refused
// because its source belongs to no account.
func (s *Server) refusedStranger(req *sipmsg.Request, source string) {
	s.strangerLog("call refused: untrusted source", "source", source, "sip_call_id", callID(req))
	s.report(Refusal{Code: 403, Reason: "untrusted source", Source: source, From: userOf(req.From()), To: req.Recipient.User, CallID: callID(req)})
}

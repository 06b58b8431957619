package sip

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// sessionTimer is a negotiated RFC 4028 session interval.
type sessionTimer struct {
	interval  time.Duration // 0: none
	refresher string        // "uac" (the caller refreshes) or "uas" (we do)
	require   bool          // the caller supports timers: our 2xx says Require: timer
}

// enforced reports whether we end the call when no refresh comes: only
// when the caller is the refresher (we never refresh ourselves).
func (t sessionTimer) enforced() bool { return t.interval > 0 && t.refresher == "uac" }

// negotiateTimer applies RFC 4028 §9 to an INVITE, or with prev to a
// refreshing re-INVITE or UPDATE: the interval is the request's
// Session-Expires (422 when below our MinSE), or ours when the caller
// supports timers without asking; the caller refreshes unless it cannot
// or asked us to.
func (s *Server) negotiateTimer(req *sipmsg.Request, prev *sessionTimer) (sessionTimer, *refusal) {
	supports := slices.Contains(headerValues(req, "Supported", "k"), "timer") ||
		slices.Contains(headerValues(req, "Require"), "timer") ||
		prev != nil && prev.require // a refresh may leave Supported out
	minSE := 90 * time.Second
	if h := req.GetHeader("Min-SE"); h != nil {
		if d, ok := deltaSeconds(h.Value()); ok {
			minSE = d
		}
	}
	h := req.GetHeader("Session-Expires")
	if h == nil {
		h = req.GetHeader("x")
	}
	var t sessionTimer
	switch {
	case h != nil:
		v, params, _ := strings.Cut(h.Value(), ";")
		d, ok := deltaSeconds(v)
		if !ok {
			return t, &refusal{code: 400, reason: "Bad Session-Expires"}
		}
		if d < s.cfg.MinSE {
			return t, &refusal{code: 422, headers: []sipmsg.Header{
				sipmsg.NewHeader("Min-SE", strconv.Itoa(int(s.cfg.MinSE/time.Second))),
			}}
		}
		t.interval = d
		t.refresher = "uac"
		if strings.Contains(strings.ToLower(strings.ReplaceAll(params, " ", "")), "refresher=uas") {
			t.refresher = "uas"
		}
	case prev != nil:
		t = *prev
	case supports:
		t.interval = max(s.cfg.SessionExpires, minSE)
		t.refresher = "uac"
	}
	if !supports {
		// The caller cannot refresh: we are the refresher, and we do not
		// tear its calls down.
		t.refresher = "uas"
	}
	t.require = supports && t.interval > 0
	return t, nil
}

// deltaSeconds reads a delta-seconds value.
func deltaSeconds(v string) (time.Duration, bool) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// negotiateLocked is negotiateTimer for a re-INVITE or UPDATE in the
// dialog; a dialog without session timers keeps none.
func (d *dialog) negotiateLocked(req *sipmsg.Request) (sessionTimer, *refusal) {
	if !d.timers {
		return sessionTimer{}, nil
	}
	return d.s.negotiateTimer(req, &d.timer)
}

// timerHeaders adds the negotiated session timer to a 2xx.
func timerHeaders(res *sipmsg.Response, t sessionTimer) {
	if t.interval <= 0 {
		return
	}
	res.AppendHeader(sipmsg.NewHeader("Session-Expires",
		strconv.Itoa(int(t.interval/time.Second))+";refresher="+t.refresher))
	if t.require {
		res.AppendHeader(sipmsg.NewHeader("Require", "timer"))
	}
}

// refreshed records a session refresh (a re-INVITE or UPDATE answered 2xx)
// and restarts the expiry.
func (d *dialog) refreshed(t sessionTimer) {
	if !d.timers {
		return
	}
	d.mu.Lock()
	d.timer = t
	d.mu.Unlock()
	select {
	case <-d.refresh:
	default:
	}
	d.refresh <- t
}

// watchSession ends the call when the far end stops refreshing: BYE a
// little before the interval runs out (RFC 4028 §10).
func (d *dialog) watchSession(t sessionTimer) {
	tm := time.NewTimer(expiry(t.interval))
	defer tm.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case nt := <-d.refresh:
			if !nt.enforced() {
				return
			}
			tm.Reset(expiry(nt.interval))
		case <-tm.C:
			d.log.Info("session expired: hanging up")
			d.role.terminate(context.WithoutCancel(d.ctx), errExpired)
			return
		}
	}
}

// expiry is when the refresher's silence ends the session: the interval
// less a third, at most 32 s.
func expiry(interval time.Duration) time.Duration {
	return interval - min(32*time.Second, interval/3)
}

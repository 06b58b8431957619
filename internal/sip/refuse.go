package sip

import (
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// Refusal is an INVITE refused at the SIP layer, before any call flow
// ran (untrusted source, overload, an offer we cannot take …): what an
// admin needs to see why a number "does not work".
type Refusal struct {
	Code      int    // the final response sent (0: none, the INVITE was dropped)
	Reason    string // why, in a few words
	AccountID string // the trunk's account; "" for a stranger
	Source    string // where the INVITE came from
	From, To  string // the caller and the dialled number
	CallID    string
	At        time.Time
}

// OnRefuse sets f to receive every refused INVITE, on one goroutine of
// the server's, in order; those refused while f is busy beyond a queue
// of 256 are dropped (counted in the log). Call it before Start.
func (s *Server) OnRefuse(f func(Refusal)) { s.onRefuse = f }

// report queues a refusal for OnRefuse's function without blocking.
func (s *Server) report(r Refusal) {
	if s.onRefuse == nil {
		return
	}
	if r.At.IsZero() {
		r.At = time.Now()
	}
	select {
	case s.refusals <- r:
	default:
		s.strangerLog("refused call not reported: queue full", "code", r.Code, "source", r.Source)
	}
}

// reportRefusals hands queued refusals to OnRefuse's function until the
// server closes.
func (s *Server) reportRefusals() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case r := <-s.refusals:
			if s.onRefuse != nil {
				s.onRefuse(r)
			}
		}
	}
}

// refuseInvite answers a new INVITE with a refusal and reports it.
func (s *Server) refuseInvite(tx sipmsg.ServerTransaction, req *sipmsg.Request, account string, r *refusal) {
	s.refuse(tx, req, r)
	why := r.reason
	if why == "" {
		why = reason(r.code)
	}
	s.report(Refusal{Code: r.code, Reason: why, AccountID: account, Source: req.Source(),
		From: userOf(req.From()), To: req.Recipient.User, CallID: callID(req)})
}

// userOf is the user part of a From header, "" without one.
func userOf(f *sipmsg.FromHeader) string {
	if f == nil {
		return ""
	}
	return unescape(f.Address.User)
}

// shedder refuses calls over Config.MaxCalls running at once (the rate
// limits are judged as INVITEs are read: shed.go).
type shedder struct{ maxCalls int }

func (sh *shedder) init(maxCalls int) { sh.maxCalls = maxCalls }

// shedWhyMaxCalls is admitLocked's answer when Config.MaxCalls run.
const shedWhyMaxCalls = "too many calls"

// retryAfter is the Retry-After of a 503 for load, in seconds.
const retryAfter = "5"

// admitLocked says why a new call is refused now ("" to take it), given
// the calls running; s.mu is held.
func (sh *shedder) admitLocked(running int) string {
	if sh.maxCalls > 0 && running >= sh.maxCalls {
		return shedWhyMaxCalls
	}
	return ""
}

package server

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/store"
)

// Refused INVITEs written to the call log: a burst, then so many a
// second; a flood of them (a scanner, an overload) must not become a
// flood of writes.
const (
	refusedBurst     = 50
	refusedPerSecond = 10
)

// refusedLog keeps a compact record of the INVITEs refused at the SIP
// layer (untrusted source, overload, an offer we cannot take …) in the
// call log, under the trunk's account (a stranger's under the default
// account), so that …/calls shows an admin why a number "does not work".
type refusedLog struct {
	ctx   context.Context // the server's start, without its cancel
	calls *Calls
	def   string

	mu      sync.Mutex
	tokens  float64
	last    time.Time
	dropped int
}

// record writes r as a call that never ran: a reject line naming why and
// where it came from, and the hangup line with the SIP code as cause.
func (l *refusedLog) record(r sip.Refusal) {
	if !l.allow(r.At) {
		return
	}
	account := r.AccountID
	if account == "" {
		account = l.def
	}
	if account == "" || r.CallID == "" {
		return
	}
	tr := call.NewTrace(fixedClock(r.At), nil)
	tr.Add("reject", "reason", r.Reason, "source", r.Source, "code", r.Code)
	cause := "sip:" + strconv.Itoa(r.Code)
	if r.Code == 0 {
		cause = "dropped"
	}
	tr.AddStrings("hangup", "cause", cause, "by", call.HangupBySwitchboard)
	rec := store.CallRecord{ID: call.NewCallSid(), SIPCallID: r.CallID, AccountID: account, From: r.From, To: r.To,
		Started: r.At, Ended: r.At, HangupCause: cause, HangupBy: call.HangupBySwitchboard, Trace: tr.JSONL()}
	l.calls.save(l.ctx, rec, call.LoggerAttrs(l.calls.log, slog.String("call_id", r.CallID), slog.String("account_id", account)))
}

// allow is the write limit: true when r may be written now.
func (l *refusedLog) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() {
		l.tokens = refusedBurst
	} else {
		l.tokens = min(refusedBurst, l.tokens+now.Sub(l.last).Seconds()*refusedPerSecond)
	}
	l.last = now
	if l.tokens < 1 {
		l.dropped++
		return false
	}
	l.tokens--
	if l.dropped > 0 {
		l.calls.log.Info("refused calls not recorded: too many", "count", l.dropped)
		l.dropped = 0
	}
	return true
}

// fixedClock stamps every line of a refused call's trace with its time.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

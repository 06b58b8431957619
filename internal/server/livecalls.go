package server

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/store"
)

// liveCalls are the calls running now, per account. The call log stores a
// call once, when it ends (a second upsert per call at its start cost a
// tenth of the server's CPU at 1,500 calls/s); until then the API lists it
// from here. Calls.Handle adds a call once it is routed and removes it only
// after its final record is stored, so a listing that reads this first and
// the log second never misses a call (it may see one twice: liveCallLog
// keeps the stored one).
type liveCalls struct {
	mu        sync.Mutex
	byAccount map[string]map[string]*liveCall
}

// liveCall is a running call's record as at its start (Ended zero, no
// trace) and its trace so far.
type liveCall struct {
	rec store.CallRecord
	tr  *call.Trace
	// marked is made when the sweep (Calls.markLongCalls) starts writing
	// the call's in-progress row and closed once it is written; ended is
	// set when the call's final row is about to be written. Both under
	// liveCalls.mu.
	marked chan struct{}
	ended  bool
}

func newLiveCalls() *liveCalls {
	return &liveCalls{byAccount: map[string]map[string]*liveCall{}}
}

// add lists a call in progress. Its start is kept to the millisecond, as
// the call log keeps it, so that a call looks the same before and after it
// ends.
func (l *liveCalls) add(rec store.CallRecord, tr *call.Trace) {
	rec.Started = rec.Started.Truncate(time.Millisecond)
	rec.Ended, rec.Trace = time.Time{}, nil
	l.mu.Lock()
	defer l.mu.Unlock()
	calls := l.byAccount[rec.AccountID]
	if calls == nil {
		calls = map[string]*liveCall{}
		l.byAccount[rec.AccountID] = calls
	}
	calls[rec.ID] = &liveCall{rec: rec, tr: tr}
}

// due returns the calls started before cutoff that have no in-progress
// row and are not ending, each with its marked channel made: the caller
// writes their rows and closes the channels.
func (l *liveCalls) due(cutoff time.Time) []*liveCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*liveCall
	for _, calls := range l.byAccount {
		for _, c := range calls {
			if c.marked == nil && !c.ended && c.rec.Started.Before(cutoff) {
				c.marked = make(chan struct{})
				out = append(out, c)
			}
		}
	}
	return out
}

// end says a call's final row is about to be written: no in-progress row
// is started after this. It returns the channel of a row being or already
// written (nil when none), to wait on so that the final row lands after it.
func (l *liveCalls) end(accountID, id string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.byAccount[accountID][id]
	if c == nil {
		return nil
	}
	c.ended = true
	return c.marked
}

// remove drops a call (no-op when it is not listed).
func (l *liveCalls) remove(accountID, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	calls := l.byAccount[accountID]
	delete(calls, id)
	if len(calls) == 0 {
		delete(l.byAccount, accountID)
	}
}

// list returns an account's calls in progress, without traces, in no
// order (ListCalls sorts them with the stored ones).
func (l *liveCalls) list(accountID string) []store.CallRecord {
	l.mu.Lock()
	calls := l.byAccount[accountID]
	out := make([]store.CallRecord, 0, len(calls))
	for _, c := range calls {
		out = append(out, c.rec)
	}
	l.mu.Unlock()
	return out
}

// get returns an account's call in progress by CallSid or, failing that,
// by SIP Call-ID (as CallLog.GetCall), with its trace so far.
func (l *liveCalls) get(accountID, callID string) (store.CallRecord, bool) {
	l.mu.Lock()
	calls := l.byAccount[accountID]
	c, ok := calls[callID]
	if !ok {
		for _, o := range calls {
			if o.rec.SIPCallID != "" && o.rec.SIPCallID == callID && (c == nil || o.rec.Started.After(c.rec.Started)) {
				c = o
			}
		}
	}
	l.mu.Unlock()
	if c == nil {
		return store.CallRecord{}, false
	}
	rec := c.rec
	rec.Trace = c.tr.JSONL()
	return rec, true
}

// count is how many calls are in progress, every account together.
func (l *liveCalls) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, calls := range l.byAccount {
		n += len(calls)
	}
	return n
}

// newestFirst orders call records as the call log lists them: by start,
// newest first, then by id, greatest first.
func newestFirst(a, b store.CallRecord) int {
	if c := cmp.Compare(b.Started.UnixMilli(), a.Started.UnixMilli()); c != 0 {
		return c
	}
	return cmp.Compare(b.ID, a.ID)
}

// liveCallLog is the call log as the API reads it: the stored calls and,
// merged in, the calls in progress, which the log does not hold yet. Every
// other method is the log's own.
type liveCallLog struct {
	store.CallLog
	live *liveCalls
}

// ListCalls returns the account's calls in progress and stored, newest
// first, cut at the log's limit. The calls in progress are read first: a
// call that ends meanwhile is then in both lists, and the stored (ended)
// record wins.
func (l liveCallLog) ListCalls(ctx context.Context, accountID string, limit int) ([]store.CallRecord, error) {
	running := l.live.list(accountID)
	stored, err := l.CallLog.ListCalls(ctx, accountID, limit)
	if err != nil || len(running) == 0 {
		return stored, err
	}
	ids := make(map[string]struct{}, len(stored))
	for _, r := range stored {
		ids[r.ID] = struct{}{}
	}
	out := make([]store.CallRecord, 0, len(running)+len(stored))
	for _, r := range running {
		if _, ok := ids[r.ID]; !ok {
			out = append(out, r)
		}
	}
	out = append(out, stored...)
	slices.SortStableFunc(out, newestFirst)
	return out[:min(len(out), store.CallLimit(limit))], nil
}

// GetCall returns a call in progress with its trace so far, else the
// stored call. The live list is read first: a call leaves it only once
// stored, so it is found in one or the other.
func (l liveCallLog) GetCall(ctx context.Context, accountID, callID string) (store.CallRecord, error) {
	if r, ok := l.live.get(accountID, callID); ok {
		return r, nil
	}
	return l.CallLog.GetCall(ctx, accountID, callID)
}

var _ store.CallLog = liveCallLog{}

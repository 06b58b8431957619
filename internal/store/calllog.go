package store

import (
	"context"
	"time"
)

// CallRecord is one call as the call log keeps it: a summary and its trace.
type CallRecord struct {
	ID string // the CallSid (older records: the SIP Call-ID)
	// SIPCallID is the INVITE's Call-ID ("" for simulated and older calls).
	SIPCallID   string
	AccountID   string
	CallflowID  string
	From        string
	To          string
	Started     time.Time
	Ended       time.Time // zero while the call runs
	HangupCause string
	HangupBy    string // switchboard, caller or callee
	// Debug is true when a pivot of the call asked for debug logs; such
	// calls are kept beyond the per-account limit.
	Debug bool
	// Trace is the call trace as JSON Lines (empty in listings).
	Trace []byte
}

// WebhookRecord is one request to a customer's server and its answer.
type WebhookRecord struct {
	AccountID string
	CallID    string
	// Iteration counts the call's requests from 1.
	Iteration       int
	Method          string
	URL             string // as requested, query string included
	RequestHeaders  map[string]string
	RequestBody     string
	Status          int // 0 when no answer came
	ResponseHeaders map[string]string
	ResponseBody    string // truncated to a limit by the caller
	Error           string // why the request failed, when it did
	Started         time.Time
	Duration        time.Duration
}

// Listing limits of CallLog.ListCalls and WebhookCalls.
const (
	DefaultCallLimit = 100
	MaxCallLimit     = 1000
)

// CallLimit is how many rows a listing asked for limit returns at most:
// DefaultCallLimit when limit <= 0, never more than MaxCallLimit. Every
// CallLog and every view merged over one (the server's calls in progress)
// cut at the same place.
func CallLimit(limit int) int {
	if limit <= 0 {
		return DefaultCallLimit
	}
	return min(limit, MaxCallLimit)
}

// CallLog keeps call traces and webhook exchanges, apart from the documents
// so that call volume never blocks an admin's save.
type CallLog interface {
	// SaveCall inserts or replaces a call record.
	SaveCall(ctx context.Context, c CallRecord) error
	// GetCall returns one call with its trace; ErrNotFound if unknown.
	GetCall(ctx context.Context, accountID, callID string) (CallRecord, error)
	// ListCalls returns an account's calls, newest first, without traces.
	ListCalls(ctx context.Context, accountID string, limit int) ([]CallRecord, error)
	// AddWebhook appends a webhook exchange.
	AddWebhook(ctx context.Context, w WebhookRecord) error
	// Webhooks returns a call's exchanges in iteration order.
	Webhooks(ctx context.Context, accountID, callID string) ([]WebhookRecord, error)
	// WebhookCalls returns, newest first, the first exchange of each of an
	// account's calls that has any (Kazoo's pivot/debug listing).
	WebhookCalls(ctx context.Context, accountID string, limit int) ([]WebhookRecord, error)
	// Prune keeps the keepLast newest calls of each account (and every call
	// marked Debug) with their webhooks, and deletes the rest.
	Prune(ctx context.Context, keepLast int) error
	Close() error
}

package store

import (
	"context"
	"encoding/json"
	"time"
)

// TemporalKind names the two kinds of temporal documents, as Kazoo's API
// paths do.
type TemporalKind string

const (
	// TemporalRuleKind is a time-of-day rule (Kazoo's temporal_rules).
	TemporalRuleKind TemporalKind = "temporal_rules"
	// TemporalRuleSetKind is a named list of rules (temporal_rules_sets).
	TemporalRuleSetKind TemporalKind = "temporal_rules_sets"
)

// TemporalDoc is a stored temporal rule or rule set. Rules and sets share
// one id space per account, as in Kazoo's account database, so an id in a
// temporal_route's children names one or the other, never both.
type TemporalDoc struct {
	Kind      TemporalKind
	ID        string
	AccountID string
	Name      string
	// Body is the whole JSON document as saved (id included; a rule's
	// "enabled" override included).
	Body     json.RawMessage
	Revision string // "N-hex", N counting writes from 1
	Created  time.Time
	Modified time.Time
}

// TemporalStore keeps temporal rules and rule sets. The SQLite store
// implements it; every method is safe for concurrent use.
type TemporalStore interface {
	// CreateTemporal stores a new document; ErrExists when the id is taken
	// in the account (by a rule or a set).
	CreateTemporal(ctx context.Context, d TemporalDoc) (TemporalDoc, error)
	// UpdateTemporal replaces a document of the same kind; ErrNotFound,
	// ErrStaleRevision when ifRevision is not empty and not the stored one.
	UpdateTemporal(ctx context.Context, d TemporalDoc, ifRevision string) (TemporalDoc, error)
	// DeleteTemporal removes a document (with the same revision rule).
	DeleteTemporal(ctx context.Context, kind TemporalKind, accountID, id, ifRevision string) error
	// GetTemporal reads a document; kind "" finds either kind.
	GetTemporal(ctx context.Context, kind TemporalKind, accountID, id string) (TemporalDoc, error)
	// ListTemporal returns one page of the account's documents of a kind,
	// ordered by id, and whether more follow.
	ListTemporal(ctx context.Context, kind TemporalKind, accountID string, o ListOptions) (page []TemporalDoc, more bool, err error)
	// SetTemporalRuleEnabled forces a rule on (true) or off (false), or
	// with nil returns it to its schedule: it sets or removes the rule
	// document's "enabled" key (Kazoo's temporal_route enable, disable and
	// reset) and returns the document as stored.
	SetTemporalRuleEnabled(ctx context.Context, accountID, id string, enabled *bool) (TemporalDoc, error)
}

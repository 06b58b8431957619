package store

import (
	"context"
	"encoding/json"
	"time"
)

// Trunk is an account's connection to a carrier or a PBX: the addresses
// its calls come from, and where the account's calls to phone numbers go.
type Trunk struct {
	ID        string
	AccountID string
	Name      string
	// SourceCIDRs are the networks inbound calls from this trunk come from
	// ("203.0.113.0/24", "198.51.100.7/32"); a call from one of them
	// belongs to the account. Normalised (masked) prefixes.
	SourceCIDRs []string
	// OutboundURI, when set, is the gateway the account's calls to numbers
	// are sent to ("sip:gw.example.net:5060;transport=tcp"); the number
	// becomes the URI's user part.
	OutboundURI string
	// Body is the whole JSON document as saved (id included).
	Body     json.RawMessage
	Revision string // "N-hex", N counting writes from 1
	Created  time.Time
	Modified time.Time
}

// TrunkStore keeps trunks. The SQLite store implements it; every method
// is safe for concurrent use.
type TrunkStore interface {
	// CreateTrunk stores a new trunk with revision "1-…"; ErrExists when
	// the id is taken.
	CreateTrunk(ctx context.Context, t Trunk) (Trunk, error)
	// UpdateTrunk replaces a trunk; ErrNotFound, and ErrStaleRevision when
	// ifRevision is not empty and not the stored one.
	UpdateTrunk(ctx context.Context, t Trunk, ifRevision string) (Trunk, error)
	// DeleteTrunk removes a trunk (with the same revision rule).
	DeleteTrunk(ctx context.Context, accountID, id, ifRevision string) error
	// GetTrunk reads one trunk; ErrNotFound when there is none.
	GetTrunk(ctx context.Context, accountID, id string) (Trunk, error)
	// ListTrunks returns the account's trunks ordered by id.
	ListTrunks(ctx context.Context, accountID string) ([]Trunk, error)
	// EachTrunk calls fn for every trunk of every account, by account then
	// id (to build the SIP source table).
	EachTrunk(ctx context.Context, fn func(Trunk) error) error
}

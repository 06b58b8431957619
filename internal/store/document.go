package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Doc is one revisioned document of an account: a call flow, a user, a
// device, a trunk … Every kind is stored the same way, so a new kind costs a
// registration, not a table. Ids share one space per account across kinds,
// as in Kazoo's account database.
type Doc struct {
	Kind      string // the API path segment: "callflows", "users", "devices"
	ID        string
	AccountID string
	Name      string
	// Body is the whole JSON document as saved (id included).
	Body json.RawMessage
	// Index is what the kind's index hook derived from Body (a flow's
	// numbers and patterns, a trunk's networks and gateway), as JSON, kept
	// beside it so that the in-memory indexes load without the kind's
	// parsing; nil is {}.
	Index    json.RawMessage
	Revision string // "N-hex", N counting writes from 1
	Created  time.Time
	Modified time.Time
}

// Key is a value a document claims that no other document of its scope may
// hold: a call flow's number, a device's SIP username in its realm, a voice
// mailbox number.
type Key struct {
	// Name is the kind of value ("number", "pattern", "sip_username").
	Name string
	// Value is what is claimed, already normalised.
	Value string
	// Field is where the value sits in the document ("numbers.0",
	// "sip.username"), for the error that names it.
	Field string
	// Global makes the key unique across accounts (a SIP realm is not an
	// account's to share); otherwise it is unique within the account.
	Global bool
}

// Ref is a document's pointer to another document of its account: a flow
// node naming a user, a device naming its owner.
type Ref struct {
	// Path is where the id sits ("flow.children._.data.id").
	Path string
	// Kind is the kind the id must name; alternatives are separated by
	// commas ("temporal_rules,temporal_rules_sets").
	Kind string
	ID   string
}

// Kinds are Ref.Kind's alternatives.
func (r Ref) Kinds() []string { return strings.Split(r.Kind, ",") }

// DocWrite is a document with what its kind's hooks derived from it: the
// keys it claims, the documents it points to and the source networks it
// claims. The store enforces all three inside the write's transaction.
type DocWrite struct {
	Doc
	Keys     []Key
	Refs     []Ref
	Networks []netip.Prefix
}

// DocQuery selects and pages a listing ordered by id.
type DocQuery struct {
	Limit int    // at most this many; 0 means all
	After string // only ids greater than this
	// Filters keep documents whose field (a dotted path, "caller_id.internal.number")
	// equals the value as text: strings as they are, numbers in JSON form,
	// booleans "true"/"false" (Kazoo's filter_<field>=value).
	Filters map[string]string
}

// Referrer is a document that points to another one, and where.
type Referrer struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
	Path string `json:"path"`
}

// ChangeOp says what happened to a document.
type ChangeOp int

const (
	// Saved: the document was created or replaced.
	Saved ChangeOp = iota + 1
	// Deleted: the document is gone (Doc is its last stored form).
	Deleted
)

// Change is one committed write, as the in-memory indexes (number router,
// trunk sources, compiled flows) receive it.
type Change struct {
	Op  ChangeOp
	Doc Doc
}

// MissingRefError refuses a write whose documents point to ids that name no
// document of the expected kind in the account.
type MissingRefError struct{ Refs []Ref }

// Error lists each missing reference with its path.
func (e *MissingRefError) Error() string {
	parts := make([]string, 0, len(e.Refs))
	for _, r := range e.Refs {
		parts = append(parts, fmt.Sprintf("%s: no %s %s", r.Path, r.Kind, r.ID))
	}
	return "missing references: " + strings.Join(parts, "; ")
}

// InUseError refuses to delete a document other documents point to.
type InUseError struct {
	Kind, ID  string
	Referrers []Referrer
}

// Error says how many documents hold on to the one.
func (e *InUseError) Error() string {
	return fmt.Sprintf("%s %s is used by %d documents", e.Kind, e.ID, len(e.Referrers))
}

// NetworkError refuses a source network that overlaps one of another
// account (which is never named: accounts are walls).
type NetworkError struct {
	Index   int    // position in DocWrite.Networks
	Network string // the refused network
}

// Error names the refused network, never the other account.
func (e *NetworkError) Error() string {
	return fmt.Sprintf("network %s overlaps another account's", e.Network)
}

// Documents keeps every kind of account document. Every method is safe for
// concurrent use; writes return once durable, after the watchers saw them.
type Documents interface {
	// CreateDoc stores a new document with revision "1-…"; ErrExists when
	// the id is taken in the account (by any kind), *ConflictError when a
	// key is held by another document, *MissingRefError, *NetworkError.
	CreateDoc(ctx context.Context, w DocWrite) (Doc, error)
	// UpdateDoc replaces a document of the same kind; ErrNotFound,
	// ErrStaleRevision when ifRevision is not empty and not the stored one,
	// and the errors of CreateDoc.
	UpdateDoc(ctx context.Context, w DocWrite, ifRevision string) (Doc, error)
	// DeleteDoc removes a document and returns it; *InUseError when other
	// documents point to it, unless force.
	DeleteDoc(ctx context.Context, kind, accountID, id, ifRevision string, force bool) (Doc, error)
	// GetDoc reads a document; kind "" finds any kind.
	GetDoc(ctx context.Context, kind, accountID, id string) (Doc, error)
	// ListDocs returns one page of an account's documents of a kind, and
	// whether more follow.
	ListDocs(ctx context.Context, kind, accountID string, q DocQuery) ([]Doc, bool, error)
	// EachDoc calls fn for every document of a kind ("" = all kinds) of
	// every account, by account then id (to build indexes at start).
	EachDoc(ctx context.Context, kind string, fn func(Doc) error) error
	// Referrers lists the documents that point to an id of the account.
	Referrers(ctx context.Context, accountID, id string) ([]Referrer, error)
	// ApplyDocs creates or updates every document by id in one
	// transaction, checking references once all are written, so a set that
	// points into itself is applied whole or not at all.
	ApplyDocs(ctx context.Context, ws []DocWrite) ([]Doc, error)
	// Watch adds fn to the watchers called after each commit, in commit
	// order, before the write returns.
	Watch(fn func(Change))
	// PendingReindex lists documents stored before their kind derived
	// everything it now does (call flows' references, from before they
	// were recorded).
	PendingReindex(ctx context.Context) ([]Doc, error)
	// Reindex replaces what a stored document claims and points to (keys,
	// references, networks, index) with w's, leaving its body and revision
	// alone, and takes it off the pending list. References are recorded as
	// they are, dangling or not.
	Reindex(ctx context.Context, w DocWrite) error
}

// FlowIndex is a call flow's Doc.Index: what the number router needs.
type FlowIndex struct {
	Numbers  []string `json:"numbers"`
	Patterns []string `json:"patterns"`
}

// TrunkIndex is a trunk's Doc.Index: what the SIP source table needs.
type TrunkIndex struct {
	SourceCIDRs []string `json:"source_cidrs"`
	OutboundURI string   `json:"outbound_uri"`
}

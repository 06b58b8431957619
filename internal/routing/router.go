// Package routing answers which call flow handles a dialled number in an
// account: exact numbers, then Kazoo-style regular-expression patterns, then
// the account's "no_match" flow. It is a leaf (it imports nothing of ours),
// so the server can own the index and nothing else needs to know how it is
// kept.
package routing

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// NoMatchNumber is the number that marks an account's catch-all flow
// (Kazoo's "no_match").
const NoMatchNumber = "no_match"

// Match is the result of a routing lookup.
type Match struct {
	CallflowID string
	Number     string // the dialled number, normalised (Normalize)
	Pattern    string // the pattern that matched; "" for an exact number match
	// CaptureGroup is the matched text (Kazoo cf_capture_group): the longest
	// captured group (the first of equally long ones), else the whole match.
	CaptureGroup string
	// CaptureGroups holds the named groups that captured something (Kazoo
	// cf_capture_groups); nil when none.
	CaptureGroups map[string]string
}

// RouteOptions tunes one lookup.
type RouteOptions struct {
	// AllowNoMatch lets the lookup fall back to the account's "no_match"
	// flow. Kazoo allows it only for authorised callers (device, user or
	// account authz, known transferors), never for plain inbound calls.
	AllowNoMatch bool
}

// Router answers "which call flow handles this dialled number in this
// account". It is safe for concurrent use; lookups take a read lock, Put and
// Remove update the indexes incrementally.
//
// Lookup order, as Kazoo's cf_flow:lookup/2:
//  1. exact number: the normalised dialled number, then the raw (trimmed)
//     one; "no_match" itself is never matched this way;
//  2. patterns, longest match wins (with capture groups: the longest group),
//     trying the normalised and the raw number; on a tie the pattern Put
//     earliest wins (Kazoo leaves the order undefined);
//  3. with AllowNoMatch, the flow numbered "no_match", for a number of
//     digits with an optional leading '+'.
//
// Patterns are indexed by the literal text every match must start with
// (see patternKeys), so a lookup runs only the few regexps that can match.
type Router struct {
	mu       sync.RWMutex
	seq      uint64
	accounts map[string]*account
	nflows   int
}

// account is one account's indexes: exact numbers in a map, patterns in two
// tries by the literal text their matches start with.
type account struct {
	flows    map[string]*flow
	numbers  map[string]*number
	anchored trie // keys of matches that start at the start of the number
	floating trie // keys of matches that may start anywhere
	always   []*pattern
	npat     int
}

// flow is what one call-flow document put in the indexes, kept so that the
// next Put can replace it and Remove can take it out again.
type flow struct {
	id       string
	numbers  []string
	patterns []*pattern
}

// number is one exact number and the flows that claim it: the store keeps
// numbers unique, but the index stays correct while two documents race.
type number struct {
	number string
	owners []*flow // in Put order; the last one wins
}

func (e *number) winner() *flow { return e.owners[len(e.owners)-1] }

// New returns an empty Router.
func New() *Router {
	return &Router{accounts: make(map[string]*account)}
}

// Len is the number of flows known, over all accounts.
func (r *Router) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.nflows
}

// Put replaces everything the router knows of one flow: numbers as stored
// (already normalised), patterns as Go regular expressions. It returns an
// error, and changes nothing, if a pattern does not compile. Patterns the
// flow already had keep their place in the tie order.
func (r *Router) Put(accountID, callflowID string, numbers, patterns []string) error {
	compiled := make([]*pattern, 0, len(patterns))
	for _, src := range patterns {
		if slices.ContainsFunc(compiled, func(p *pattern) bool { return p.src == src }) {
			continue
		}
		p, err := compilePattern(src)
		if err != nil {
			return fmt.Errorf("callflow %s: pattern %q: %w", callflowID, src, err)
		}
		compiled = append(compiled, p)
	}
	nums := make([]string, 0, len(numbers))
	for _, n := range numbers {
		if n != "" && !slices.Contains(nums, n) {
			nums = append(nums, n)
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.accounts[accountID]
	if a == nil {
		a = &account{flows: make(map[string]*flow), numbers: make(map[string]*number)}
		r.accounts[accountID] = a
	}
	f := a.flows[callflowID]
	if f == nil {
		f = &flow{id: callflowID}
		a.flows[callflowID] = f
		r.nflows++
	} else {
		for _, n := range f.numbers {
			a.removeNumber(n, f)
		}
	}
	kept := make([]*pattern, 0, len(compiled))
	for _, p := range compiled {
		if i := slices.IndexFunc(f.patterns, func(o *pattern) bool { return o != nil && o.src == p.src }); i >= 0 {
			kept = append(kept, f.patterns[i])
			f.patterns[i] = nil
			continue
		}
		r.seq++
		p.seq = r.seq
		p.flow = f
		a.addPattern(p)
		kept = append(kept, p)
	}
	for _, o := range f.patterns {
		if o != nil {
			a.removePattern(o)
		}
	}
	f.patterns = kept
	f.numbers = nums
	for _, n := range nums {
		a.addNumber(n, f)
	}
	return nil
}

// Remove forgets a flow.
func (r *Router) Remove(accountID, callflowID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.accounts[accountID]
	if a == nil {
		return
	}
	f := a.flows[callflowID]
	if f == nil {
		return
	}
	for _, n := range f.numbers {
		a.removeNumber(n, f)
	}
	for _, p := range f.patterns {
		a.removePattern(p)
	}
	delete(a.flows, callflowID)
	r.nflows--
	if len(a.flows) == 0 {
		delete(r.accounts, accountID)
	}
}

// Route finds the flow for a dialled number; ok is false when nothing
// matches. The "no_match" flow is not used (see RouteWith).
func (r *Router) Route(accountID, dialled string) (Match, bool) {
	return r.RouteWith(accountID, dialled, RouteOptions{})
}

// RouteWith is Route with options.
func (r *Router) RouteWith(accountID, dialled string, o RouteOptions) (Match, bool) {
	raw := strings.TrimSpace(dialled)
	if raw == "" {
		return Match{}, false
	}
	var buf [64]byte
	nb := appendNormalized(buf[:0], raw)
	same := string(nb) == raw

	r.mu.RLock()
	defer r.mu.RUnlock()
	a := r.accounts[accountID]
	if a == nil {
		return Match{}, false
	}
	if e := a.numbers[string(nb)]; e != nil && e.number != NoMatchNumber {
		return Match{CallflowID: e.winner().id, Number: e.number}, true
	}
	norm := raw
	if !same {
		e := a.numbers[raw]
		if a.npat == 0 && !o.AllowNoMatch && (e == nil || e.number == NoMatchNumber) {
			return Match{}, false
		}
		norm = string(nb)
		if e != nil && e.number != NoMatchNumber {
			return Match{CallflowID: e.winner().id, Number: norm}, true
		}
	}
	if a.npat > 0 {
		if m, ok := a.matchPatterns(norm, raw, same); ok {
			return m, true
		}
	}
	if o.AllowNoMatch && digitsWithPlus(norm) {
		if e := a.numbers[NoMatchNumber]; e != nil {
			return Match{CallflowID: e.winner().id, Number: norm}, true
		}
	}
	return Match{}, false
}

func digitsWithPlus(s string) bool {
	s = strings.TrimPrefix(s, "+")
	return s != "" && allDigits(s)
}

func (a *account) addNumber(n string, f *flow) {
	e := a.numbers[n]
	if e == nil {
		e = &number{number: n}
		a.numbers[n] = e
	}
	e.owners = append(e.owners, f)
}

func (a *account) removeNumber(n string, f *flow) {
	e := a.numbers[n]
	if e == nil {
		return
	}
	if i := slices.Index(e.owners, f); i >= 0 {
		e.owners = slices.Delete(e.owners, i, i+1)
	}
	if len(e.owners) == 0 {
		delete(a.numbers, n)
	}
}

func (a *account) addPattern(p *pattern) {
	a.npat++
	if p.always {
		a.always = append(a.always, p)
		return
	}
	for _, k := range p.anchoredKeys {
		a.anchored.insert(k, p)
	}
	for _, k := range p.floatingKeys {
		a.floating.insert(k, p)
	}
}

func (a *account) removePattern(p *pattern) {
	a.npat--
	if p.always {
		if i := slices.Index(a.always, p); i >= 0 {
			a.always = slices.Delete(a.always, i, i+1)
		}
		return
	}
	for _, k := range p.anchoredKeys {
		a.anchored.remove(k, p)
	}
	for _, k := range p.floatingKeys {
		a.floating.remove(k, p)
	}
}

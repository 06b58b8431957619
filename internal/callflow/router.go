package callflow

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
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
	accounts map[string]*rtAccount
	nflows   int
}

type rtAccount struct {
	flows    map[string]*rtFlow
	numbers  map[string]*rtNumber
	anchored rtTrie // keys of matches that start at the start of the number
	floating rtTrie // keys of matches that may start anywhere
	always   []*rtPattern
	npat     int
}

type rtFlow struct {
	id       string
	numbers  []string
	patterns []*rtPattern
}

type rtNumber struct {
	number string
	owners []*rtFlow // in Put order; the last one wins
}

func (e *rtNumber) winner() *rtFlow { return e.owners[len(e.owners)-1] }

type rtPattern struct {
	src  string
	re   *regexp.Regexp
	flow *rtFlow
	seq  uint64

	anchoredKeys []string
	floatingKeys []string
	always       bool // no key: tried on every lookup

	// Every match is minLen..maxLen bytes long (maxLen < 0: unbounded);
	// whole: every match spans the whole input.
	minLen, maxLen int
	whole          bool
	// needs is a literal every match contains (the longest one found).
	needs string

	nsub     int
	names    []string // SubexpNames
	hasNames bool

	// literal: the pattern matches exactly litText and nothing else,
	// with the submatch positions litLoc; no regexp is run for it.
	literal bool
	litText string
	litLoc  []int
}

// NewRouter returns an empty Router.
func NewRouter() *Router {
	return &Router{accounts: make(map[string]*rtAccount)}
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
	compiled := make([]*rtPattern, 0, len(patterns))
	for _, src := range patterns {
		if slices.ContainsFunc(compiled, func(p *rtPattern) bool { return p.src == src }) {
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
		a = &rtAccount{flows: make(map[string]*rtFlow), numbers: make(map[string]*rtNumber)}
		r.accounts[accountID] = a
	}
	f := a.flows[callflowID]
	if f == nil {
		f = &rtFlow{id: callflowID}
		a.flows[callflowID] = f
		r.nflows++
	} else {
		for _, n := range f.numbers {
			a.removeNumber(n, f)
		}
	}
	kept := make([]*rtPattern, 0, len(compiled))
	for _, p := range compiled {
		if i := slices.IndexFunc(f.patterns, func(o *rtPattern) bool { return o != nil && o.src == p.src }); i >= 0 {
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

// rtCand is a pattern to try against the normalised (which 0) or the raw
// (which 1) dialled number.
type rtCand struct {
	p     *rtPattern
	which uint8
}

func (a *rtAccount) collect(s string, which uint8, out []rtCand) []rtCand {
	out = a.anchored.collect(s, which, out)
	if a.floating.count > 0 {
		for i := 0; i < len(s); i++ {
			out = a.floating.collect(s[i:], which, out)
		}
	}
	return out
}

func (a *rtAccount) matchPatterns(norm, raw string, same bool) (Match, bool) {
	var cbuf [32]rtCand
	c := a.collect(norm, 0, cbuf[:0])
	if !same {
		c = a.collect(raw, 1, c)
	}
	for _, p := range a.always {
		c = append(c, rtCand{p, 0})
		if !same {
			c = append(c, rtCand{p, 1})
		}
	}
	if len(c) == 0 {
		return Match{}, false
	}
	if len(c) > 1 {
		slices.SortFunc(c, func(x, y rtCand) int {
			switch {
			case x.p.seq < y.p.seq:
				return -1
			case x.p.seq > y.p.seq:
				return 1
			}
			return int(x.which) - int(y.which)
		})
	}

	best, bs, be := -1, 0, 0
	var bp *rtPattern
	var bloc []int
	var bstr string
	var prev rtCand
	for _, cd := range c {
		if cd == prev {
			continue
		}
		prev = cd
		p := cd.p
		s := norm
		if cd.which == 1 {
			s = raw
		}
		if len(s) < p.minLen || (p.maxLen >= 0 && (p.maxLen <= best || (p.whole && len(s) > p.maxLen))) {
			continue
		}
		var loc []int
		if p.literal {
			if s != p.litText {
				continue
			}
			loc = p.litLoc
		} else if p.needs != "" && !strings.Contains(s, p.needs) {
			continue
		} else if loc = p.re.FindStringSubmatchIndex(s); loc == nil {
			continue
		}
		st, en := captureSpan(loc, p.nsub)
		if en-st > best {
			best, bs, be, bp, bloc, bstr = en-st, st, en, p, loc, s
		}
	}
	if bp == nil {
		return Match{}, false
	}
	m := Match{CallflowID: bp.flow.id, Number: norm, Pattern: bp.src, CaptureGroup: bstr[bs:be]}
	if bp.hasNames {
		for i, name := range bp.names {
			if i == 0 || name == "" {
				continue
			}
			if s, e := bloc[2*i], bloc[2*i+1]; s >= 0 && e > s {
				if m.CaptureGroups == nil {
					m.CaptureGroups = make(map[string]string)
				}
				m.CaptureGroups[name] = bstr[s:e]
			}
		}
	}
	return m, true
}

// captureSpan is what Kazoo measures a match by: without groups the whole
// match, with groups the longest group (the first of equally long ones;
// groups that did not take part count as empty).
func captureSpan(loc []int, nsub int) (int, int) {
	if nsub == 0 {
		return loc[0], loc[1]
	}
	best, bs, be := -1, 0, 0
	for i := 1; i <= nsub; i++ {
		s, e := loc[2*i], loc[2*i+1]
		if s < 0 {
			s, e = 0, 0
		}
		if e-s > best {
			best, bs, be = e-s, s, e
		}
	}
	return bs, be
}

func (a *rtAccount) addNumber(n string, f *rtFlow) {
	e := a.numbers[n]
	if e == nil {
		e = &rtNumber{number: n}
		a.numbers[n] = e
	}
	e.owners = append(e.owners, f)
}

func (a *rtAccount) removeNumber(n string, f *rtFlow) {
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

func (a *rtAccount) addPattern(p *rtPattern) {
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

func (a *rtAccount) removePattern(p *rtPattern) {
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

// rtTrie maps literal keys to the patterns whose matches start with them.
type rtTrie struct {
	kids  [13]*rtTrie // '0'..'9', '+', '*', '#'
	other map[byte]*rtTrie
	pats  []*rtPattern
	count int // keys stored in this subtree
}

var rtSlot = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = int8(c - '0')
	}
	t['+'], t['*'], t['#'] = 10, 11, 12
	return t
}()

func (n *rtTrie) child(c byte) *rtTrie {
	if i := rtSlot[c]; i >= 0 {
		return n.kids[i]
	}
	return n.other[c]
}

func (n *rtTrie) setChild(c byte, k *rtTrie) {
	if i := rtSlot[c]; i >= 0 {
		n.kids[i] = k
		return
	}
	if k == nil {
		delete(n.other, c)
		return
	}
	if n.other == nil {
		n.other = make(map[byte]*rtTrie)
	}
	n.other[c] = k
}

func (n *rtTrie) insert(key string, p *rtPattern) {
	n.count++
	for i := 0; i < len(key); i++ {
		k := n.child(key[i])
		if k == nil {
			k = &rtTrie{}
			n.setChild(key[i], k)
		}
		n = k
		n.count++
	}
	n.pats = append(n.pats, p)
}

func (n *rtTrie) remove(key string, p *rtPattern) {
	t := n
	for i := 0; i < len(key) && t != nil; i++ {
		t = t.child(key[i])
	}
	if t == nil {
		return
	}
	j := slices.Index(t.pats, p)
	if j < 0 {
		return
	}
	t.pats = slices.Delete(t.pats, j, j+1)
	n.count--
	for i := 0; i < len(key); i++ {
		k := n.child(key[i])
		k.count--
		if k.count == 0 {
			n.setChild(key[i], nil)
			return
		}
		n = k
	}
}

// collect appends the patterns keyed by a prefix of s.
func (n *rtTrie) collect(s string, which uint8, out []rtCand) []rtCand {
	for i := 0; i < len(s); i++ {
		if n = n.child(s[i]); n == nil {
			break
		}
		for _, p := range n.pats {
			out = append(out, rtCand{p, which})
		}
	}
	return out
}

// appendNormalized appends Normalize(s) to dst without allocating; s is
// already trimmed. It must agree with Normalize (see the tests).
func appendNormalized(dst []byte, s string) []byte {
	var d [64]byte
	if len(s) > len(d) {
		return append(dst, Normalize(s)...)
	}
	nd, plus, seen := 0, false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		case c == '+' && !seen:
			plus, seen = true, true
		case c >= '0' && c <= '9':
			d[nd] = c
			nd++
			seen = true
		default:
			return append(dst, s...)
		}
	}
	digits := d[:nd]
	switch {
	case nd == 0:
		return append(dst, s...)
	case plus:
		return append(append(dst, '+'), digits...)
	}
	if n := digits; (len(n) == 10 || len(n) == 11 && n[0] == '1') && nanpShape(n[len(n)-10:]) {
		return append(append(dst, '+', '1'), n[len(n)-10:]...)
	}
	switch {
	case nd > 3 && digits[0] == '0' && digits[1] == '1' && digits[2] == '1':
		return append(append(dst, '+'), digits[3:]...)
	case nd > 2 && digits[0] == '0' && digits[1] == '0':
		return append(append(dst, '+'), digits[2:]...)
	case nd >= 8 && digits[0] >= '2' && digits[0] <= '9':
		return append(append(dst, '+'), digits...)
	}
	return append(dst, digits...)
}

func nanpShape(d []byte) bool { return d[0] >= '2' && d[3] >= '2' }

// compilePattern compiles a pattern and works out its index keys and length
// bounds.
func compilePattern(src string) (*rtPattern, error) {
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, err
	}
	tree, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, err
	}
	tree = tree.Simplify()
	p := &rtPattern{src: src, re: re, nsub: re.NumSubexp(), names: re.SubexpNames()}
	for _, n := range p.names {
		p.hasNames = p.hasNames || n != ""
	}
	p.anchoredKeys, p.floatingKeys, p.always = patternKeys(tree)
	p.minLen, p.maxLen = lenRange(tree)
	p.whole = startAnchored(tree) && endAnchored(tree)
	p.needs = requiredLiteral(tree)
	p.litText, p.litLoc, p.literal = pureLiteral(tree, p.nsub)
	return p, nil
}

// Literal-prefix analysis. rtLit is a string every match (or, anchored,
// every match at the start of the input) may start with; exact means the
// regexp part that produced it matches exactly that string, so what follows
// can be appended.
type rtLit struct {
	s        string
	exact    bool
	anchored bool
}

const (
	maxLits     = 16 // more alternatives than this and the set is shortened
	maxLitLen   = 16 // longer keys do not filter any better
	maxClassLen = 10 // a class of up to this many characters is expanded (\d)
	// A class of more than narrowClass characters (\d, [2-9]) filters
	// phone numbers hardly at all, so it only extends an empty literal.
	narrowClass = 4
)

// rtUnknown is the set that says nothing: matches start with "".
func rtUnknown() []rtLit { return []rtLit{{}} }

// patternKeys returns the keys to index a pattern under: every match
// starts with one of them, at the start of the input for anchored keys and
// anywhere for floating ones. always reports a pattern with no usable key;
// a pattern that can never match gets no key and is never tried.
func patternKeys(re *syntax.Regexp) (anchored, floating []string, always bool) {
	for _, l := range literalSet(re) {
		switch {
		case l.s == "":
			return nil, nil, true
		case l.anchored:
			anchored = append(anchored, l.s)
		default:
			floating = append(floating, l.s)
		}
	}
	return prefixFree(anchored), prefixFree(floating), false
}

// prefixFree drops the keys that have another key as a prefix: a pattern is
// then found at most once per walk of the trie.
func prefixFree(keys []string) []string {
	slices.SortFunc(keys, func(a, b string) int { return len(a) - len(b) })
	out := keys[:0]
	for _, k := range keys {
		if !slices.ContainsFunc(out, func(o string) bool { return strings.HasPrefix(k, o) }) {
			out = append(out, k)
		}
	}
	return out
}

func literalSet(re *syntax.Regexp) []rtLit {
	switch re.Op {
	case syntax.OpNoMatch:
		return []rtLit{}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []rtLit{{exact: true}}
	case syntax.OpBeginText:
		return []rtLit{{exact: true, anchored: true}}
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 && !slices.Contains(re.Rune, utf8.RuneError) {
			return clipLits([]rtLit{{s: string(re.Rune), exact: true}})
		}
		acc := []rtLit{{exact: true}}
		for _, r := range re.Rune {
			switch {
			case r == utf8.RuneError: // also matches any invalid byte
				acc = concatLits(acc, rtUnknown(), false)
			case re.Flags&syntax.FoldCase != 0:
				acc = concatLits(acc, runeLits(foldOrbit(r)), false)
			default:
				acc = concatLits(acc, runeLits([]rune{r}), false)
			}
		}
		return acc
	case syntax.OpCharClass:
		n := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			n += int(re.Rune[i+1] - re.Rune[i] + 1)
			if n > maxClassLen || re.Rune[i] <= utf8.RuneError && utf8.RuneError <= re.Rune[i+1] {
				return rtUnknown()
			}
		}
		var rs []rune
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				rs = append(rs, r)
			}
		}
		return runeLits(rs)
	case syntax.OpCapture:
		return literalSet(re.Sub[0])
	case syntax.OpQuest:
		return unionLits(literalSet(re.Sub[0]), []rtLit{{exact: true}})
	case syntax.OpPlus:
		return inexact(literalSet(re.Sub[0]))
	case syntax.OpRepeat: // Simplify removes these; kept for safety
		if re.Min == 0 {
			return rtUnknown()
		}
		return inexact(literalSet(re.Sub[0]))
	case syntax.OpConcat:
		acc := []rtLit{{exact: true}}
		for _, sub := range re.Sub {
			acc = concatLits(acc, literalSet(sub), wideStart(sub))
		}
		return acc
	case syntax.OpAlternate:
		var acc []rtLit
		for _, sub := range re.Sub {
			acc = unionLits(acc, literalSet(sub))
		}
		if acc == nil {
			acc = []rtLit{}
		}
		return acc
	}
	return rtUnknown() // OpAnyChar, OpAnyCharNotNL, OpStar, anything new
}

// wideStart reports a regexp whose first character may come from a class
// of more than narrowClass characters (\d, [2-9], .).
func wideStart(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus, syntax.OpQuest, syntax.OpStar, syntax.OpRepeat:
		return wideStart(re.Sub[0])
	case syntax.OpConcat:
		return len(re.Sub) > 0 && wideStart(re.Sub[0])
	case syntax.OpAlternate:
		return slices.ContainsFunc(re.Sub, wideStart)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return true
	case syntax.OpCharClass:
		n := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			n += int(re.Rune[i+1] - re.Rune[i] + 1)
		}
		return n > narrowClass
	}
	return false
}

func runeLits(rs []rune) []rtLit {
	out := make([]rtLit, len(rs))
	for i, r := range rs {
		out[i] = rtLit{s: string(r), exact: true}
	}
	return out
}

func foldOrbit(r rune) []rune {
	rs := []rune{r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		rs = append(rs, f)
	}
	return rs
}

func inexact(ls []rtLit) []rtLit {
	out := make([]rtLit, len(ls))
	for i, l := range ls {
		l.exact = false
		out[i] = l
	}
	return dedupLits(out)
}

func clipLits(ls []rtLit) []rtLit {
	for i := range ls {
		if len(ls[i].s) > maxLitLen {
			ls[i].s = ls[i].s[:maxLitLen]
			ls[i].exact = false
		}
	}
	return dedupLits(ls)
}

func dedupLits(ls []rtLit) []rtLit {
	out := ls[:0]
	for _, l := range ls {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// concatLits is the set for a followed by b; when it would grow past
// maxLits, a's strings simply stop being extended. A wide b only extends
// empty strings.
func concatLits(a, b []rtLit, wide bool) []rtLit {
	out := make([]rtLit, 0, len(a))
	for _, x := range a {
		if !x.exact || wide && x.s != "" {
			x.exact = false
			out = append(out, x)
			continue
		}
		for _, y := range b {
			out = append(out, rtLit{s: x.s + y.s, exact: y.exact, anchored: x.anchored || x.s == "" && y.anchored})
		}
	}
	out = clipLits(out)
	if len(out) > maxLits {
		return inexact(a)
	}
	return out
}

// unionLits is the set for a|b, shortened to at most maxLits strings by
// cutting them to a common shorter length.
func unionLits(a, b []rtLit) []rtLit {
	out := dedupLits(append(slices.Clip(a), b...))
	for cut := maxLitLen; len(out) > maxLits; cut-- {
		for i := range out {
			if len(out[i].s) > cut {
				out[i].s = out[i].s[:cut]
				out[i].exact = false
			}
		}
		out = dedupLits(out)
	}
	return out
}

// lenRange is the length in bytes of the shortest and longest match
// (max < 0: unbounded).
func lenRange(re *syntax.Regexp) (lo, hi int) {
	const big = 1 << 20
	add := func(a, b int) int {
		if a < 0 || b < 0 {
			return -1
		}
		return min(a+b, big)
	}
	switch re.Op {
	case syntax.OpLiteral:
		// Bytes per rune; U+FFFD also matches one invalid byte.
		rlen := func(r rune) (int, int) {
			n := utf8.RuneLen(r)
			if n < 0 {
				n = 3
			}
			if r == utf8.RuneError {
				return 1, n
			}
			return n, n
		}
		for _, r := range re.Rune {
			rl, rh := rlen(r)
			if re.Flags&syntax.FoldCase != 0 {
				for _, f := range foldOrbit(r) {
					fl, fh := rlen(f)
					rl, rh = min(rl, fl), max(rh, fh)
				}
			}
			lo, hi = lo+rl, hi+rh
		}
		return min(lo, big), min(hi, big)
	case syntax.OpCharClass:
		if len(re.Rune) < 2 {
			return 0, 0
		}
		lo, hi = utf8.RuneLen(re.Rune[0]), utf8.RuneLen(re.Rune[len(re.Rune)-1])
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= utf8.RuneError && utf8.RuneError <= re.Rune[i+1] {
				lo = 1 // U+FFFD also matches one invalid byte
			}
		}
		if lo < 1 || hi < 1 { // surrogates
			return 1, 4
		}
		return lo, hi
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1, 4
	case syntax.OpCapture:
		return lenRange(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		sl, sh := lenRange(re.Sub[0])
		mn, mx := 0, -1
		switch re.Op {
		case syntax.OpPlus:
			mn = 1
		case syntax.OpQuest:
			mx = 1
		case syntax.OpRepeat:
			mn, mx = re.Min, re.Max
		}
		lo = min(sl*mn, big)
		switch {
		case sh == 0:
			hi = 0
		case sh < 0 || mx < 0:
			hi = -1
		default:
			hi = min(sh*mx, big)
		}
		return lo, hi
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			sl, sh := lenRange(sub)
			lo, hi = min(lo+sl, big), add(hi, sh)
		}
		return lo, hi
	case syntax.OpAlternate:
		for i, sub := range re.Sub {
			sl, sh := lenRange(sub)
			if i == 0 {
				lo, hi = sl, sh
				continue
			}
			lo = min(lo, sl)
			if hi >= 0 && sh >= 0 {
				hi = max(hi, sh)
			} else {
				hi = -1
			}
		}
		return lo, hi
	}
	return 0, 0 // empty-width operators, OpNoMatch
}

func startAnchored(re *syntax.Regexp) bool {
	ls := literalSet(re)
	if len(ls) == 0 {
		return false
	}
	for _, l := range ls {
		if !l.anchored {
			return false
		}
	}
	return true
}

func endAnchored(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEndText:
		return true
	case syntax.OpCapture:
		return endAnchored(re.Sub[0])
	case syntax.OpConcat:
		return len(re.Sub) > 0 && endAnchored(re.Sub[len(re.Sub)-1])
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !endAnchored(sub) {
				return false
			}
		}
		return len(re.Sub) > 0
	}
	return false
}

// requiredLiteral returns the longest literal that every match contains,
// found on the regexp's concatenation spine, or "".
func requiredLiteral(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 && !slices.Contains(re.Rune, utf8.RuneError) {
			return string(re.Rune)
		}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min > 0 {
			return requiredLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		best := ""
		for _, sub := range re.Sub {
			if l := requiredLiteral(sub); len(l) > len(best) {
				best = l
			}
		}
		return best
	}
	return ""
}

// pureLiteral recognises ^literal$, with literal pieces possibly captured
// (^\*72$, ^(1000)$), and returns the one string it matches with its
// submatch positions.
func pureLiteral(re *syntax.Regexp, nsub int) (string, []int, bool) {
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 ||
		re.Sub[0].Op != syntax.OpBeginText || re.Sub[len(re.Sub)-1].Op != syntax.OpEndText {
		return "", nil, false
	}
	loc := make([]int, 2*(nsub+1))
	for i := range loc {
		loc[i] = -1
	}
	var b strings.Builder
	for _, sub := range re.Sub[1 : len(re.Sub)-1] {
		ci := 0
		if sub.Op == syntax.OpCapture {
			ci = sub.Cap
			sub = sub.Sub[0]
		}
		if sub.Op != syntax.OpLiteral || sub.Flags&syntax.FoldCase != 0 || ci > nsub ||
			slices.Contains(sub.Rune, utf8.RuneError) {
			return "", nil, false
		}
		start := b.Len()
		b.WriteString(string(sub.Rune))
		if ci > 0 {
			loc[2*ci], loc[2*ci+1] = start, b.Len()
		}
	}
	loc[0], loc[1] = 0, b.Len()
	return b.String(), loc, true
}

package callflow

import (
	"fmt"
	"maps"
	"math/rand"
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

type testFlow struct {
	id       string
	numbers  []string
	patterns []string
}

func newTestRouter(t testing.TB, account string, flows ...testFlow) *Router {
	t.Helper()
	r := NewRouter()
	for _, f := range flows {
		if err := r.Put(account, f.id, f.numbers, f.patterns); err != nil {
			t.Fatalf("Put(%s): %v", f.id, err)
		}
	}
	return r
}

func TestRouterRoute(t *testing.T) {
	flows := []testFlow{
		{id: "main", numbers: []string{"+14155551234"}},
		{id: "ext1000", numbers: []string{"1000"}},
		{id: "fwd", numbers: []string{"*72"}, patterns: []string{`^\*72([0-9]*)$`}},
		{id: "sf", patterns: []string{`^\+1415555(\d{4})$`}},
		{id: "sf-long", patterns: []string{`^\+14155(\d{6})$`}},
		{id: "ext2xxx", patterns: []string{`^2\d{3}$`}},
		{id: "ext2-groups", patterns: []string{`^(2)(\d)(\d\d)$`}},
		{id: "uk", patterns: []string{`^\+44(?P<national>\d{10})$`}},
		{id: "intl", patterns: []string{`^\+(?P<cc>3\d)(?P<rest>\d+)$`}},
		{id: "idd", patterns: []string{`^011(\d+)$`}},
		{id: "pairs", patterns: []string{`^#(\d\d)(\d\d)$`}},
		{id: "us", patterns: []string{`^\+?1?(\d{10})$`}},
		{id: "star", patterns: []string{`^\*(\d{1,2})$`}},
		{id: "nomatch", numbers: []string{NoMatchNumber}},
		{id: "vm", patterns: []string{`^#98(\d*)$`}},
		{id: "lit", patterns: []string{`^(12)34$`}},
		{id: "floating", patterns: []string{`999(?P<tail>\d)`}},
	}
	r := newTestRouter(t, "acct", flows...)

	tests := []struct {
		name    string
		dialled string
		allow   bool
		want    Match
		ok      bool
	}{
		{name: "exact e164", dialled: "+14155551234", want: Match{CallflowID: "main", Number: "+14155551234"}, ok: true},
		{name: "exact national", dialled: "4155551234", want: Match{CallflowID: "main", Number: "+14155551234"}, ok: true},
		{name: "exact 1+national", dialled: "14155551234", want: Match{CallflowID: "main", Number: "+14155551234"}, ok: true},
		{name: "exact formatted", dialled: "+1 (415) 555-1234", want: Match{CallflowID: "main", Number: "+14155551234"}, ok: true},
		{name: "exact padded", dialled: "  +14155551234 ", want: Match{CallflowID: "main", Number: "+14155551234"}, ok: true},
		{name: "extension", dialled: "1000", want: Match{CallflowID: "ext1000", Number: "1000"}, ok: true},
		{name: "feature code exact beats pattern", dialled: "*72", want: Match{CallflowID: "fwd", Number: "*72"}, ok: true},
		{name: "feature code pattern", dialled: "*721000", want: Match{CallflowID: "fwd", Number: "*721000", Pattern: `^\*72([0-9]*)$`, CaptureGroup: "1000"}, ok: true},
		{name: "empty group still matches", dialled: "#98", want: Match{CallflowID: "vm", Number: "#98", Pattern: `^#98(\d*)$`, CaptureGroup: ""}, ok: true},
		// sf captures 4 digits, sf-long 6, us 10.
		{name: "longest group wins", dialled: "+14155550000", want: Match{CallflowID: "us", Number: "+14155550000", Pattern: `^\+?1?(\d{10})$`, CaptureGroup: "4155550000"}, ok: true},
		{name: "group length vs whole match", dialled: "2100", want: Match{CallflowID: "ext2xxx", Number: "2100", Pattern: `^2\d{3}$`, CaptureGroup: "2100"}, ok: true},
		{name: "first of equal groups", dialled: "#1234", want: Match{CallflowID: "pairs", Number: "#1234", Pattern: `^#(\d\d)(\d\d)$`, CaptureGroup: "12"}, ok: true},
		{name: "short feature code", dialled: "*5", want: Match{CallflowID: "star", Number: "*5", Pattern: `^\*(\d{1,2})$`, CaptureGroup: "5"}, ok: true},
		{name: "named groups", dialled: "+442079460000", want: Match{CallflowID: "uk", Number: "+442079460000", Pattern: `^\+44(?P<national>\d{10})$`, CaptureGroup: "2079460000", CaptureGroups: map[string]string{"national": "2079460000"}}, ok: true},
		{name: "named groups longest", dialled: "+33123456789", want: Match{CallflowID: "intl", Number: "+33123456789", Pattern: `^\+(?P<cc>3\d)(?P<rest>\d+)$`, CaptureGroup: "123456789", CaptureGroups: map[string]string{"cc": "33", "rest": "123456789"}}, ok: true},
		{name: "pure literal with group", dialled: "1234", want: Match{CallflowID: "lit", Number: "1234", Pattern: `^(12)34$`, CaptureGroup: "12"}, ok: true},
		{name: "unanchored", dialled: "*5*9995#", want: Match{CallflowID: "floating", Number: "*5*9995#", Pattern: `999(?P<tail>\d)`, CaptureGroup: "5", CaptureGroups: map[string]string{"tail": "5"}}, ok: true},
		{name: "raw dialled tried too", dialled: "011442079460000", want: Match{CallflowID: "idd", Number: "+442079460000", Pattern: `^011(\d+)$`, CaptureGroup: "442079460000"}, ok: true},
		{name: "no match without allow", dialled: "+61288888888", ok: false},
		{name: "no_match with allow", dialled: "+61288888888", allow: true, want: Match{CallflowID: "nomatch", Number: "+61288888888"}, ok: true},
		{name: "no_match digits only", dialled: "3999", allow: true, want: Match{CallflowID: "nomatch", Number: "3999"}, ok: true},
		{name: "no_match not for non-digits", dialled: "*5*", allow: true, ok: false},
		{name: "no_match not for sip users", dialled: "alice", allow: true, ok: false},
		{name: "no_match not dialable", dialled: "no_match", allow: true, ok: false},
		{name: "empty", dialled: "  ", allow: true, ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := r.RouteWith("acct", tt.dialled, RouteOptions{AllowNoMatch: tt.allow})
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("RouteWith(%q) = %+v, %v; want %+v, %v", tt.dialled, got, ok, tt.want, tt.ok)
			}
			if !tt.allow {
				got2, ok2 := r.Route("acct", tt.dialled)
				if ok2 != ok || !reflect.DeepEqual(got2, got) {
					t.Errorf("Route(%q) = %+v, %v; RouteWith gave %+v, %v", tt.dialled, got2, ok2, got, ok)
				}
			}
		})
	}
}

func TestRouterExactBeatsPattern(t *testing.T) {
	r := newTestRouter(t, "a",
		testFlow{id: "pat", patterns: []string{`^\+1415555(\d{4})$`, `^1\d{3}$`}},
		testFlow{id: "num", numbers: []string{"+14155551234", "1000"}},
	)
	for _, d := range []string{"+14155551234", "4155551234", "1000"} {
		if m, ok := r.Route("a", d); !ok || m.CallflowID != "num" || m.Pattern != "" {
			t.Errorf("Route(%q) = %+v, %v; want flow num, exact", d, m, ok)
		}
	}
	if m, ok := r.Route("a", "+14155559999"); !ok || m.CallflowID != "pat" || m.CaptureGroup != "9999" {
		t.Errorf("pattern: %+v, %v", m, ok)
	}
}

func TestRouterLongestWins(t *testing.T) {
	r := newTestRouter(t, "a",
		testFlow{id: "four", patterns: []string{`^\+1415555(\d{4})$`}},
		testFlow{id: "six", patterns: []string{`^\+14155(\d{6})$`}},
		testFlow{id: "whole", patterns: []string{`^\+1415555\d{4}$`}},
	)
	check := func(want, group string) {
		t.Helper()
		m, ok := r.Route("a", "+14155550000")
		if !ok || m.CallflowID != want || m.CaptureGroup != group {
			t.Errorf("Route = %+v, %v; want %s %q", m, ok, want, group)
		}
	}
	check("whole", "+14155550000") // no groups: the whole match, 12
	r.Remove("a", "whole")
	check("six", "550000") // the longest group
	r.Remove("a", "six")
	check("four", "0000")
}

func TestRouterTieFirstPutWins(t *testing.T) {
	r := newTestRouter(t, "a",
		testFlow{id: "first", patterns: []string{`^(\d{2})\d\d$`}},
		testFlow{id: "second", patterns: []string{`^\d\d(\d{2})$`}},
	)
	if m, _ := r.Route("a", "1234"); m.CallflowID != "first" || m.CaptureGroup != "12" {
		t.Fatalf("tie: %+v", m)
	}
	// Re-putting first with the same pattern keeps its place.
	if err := r.Put("a", "first", []string{"9"}, []string{`^(\d{2})\d\d$`}); err != nil {
		t.Fatal(err)
	}
	if m, _ := r.Route("a", "1234"); m.CallflowID != "first" {
		t.Fatalf("tie after re-put: %+v", m)
	}
	// A changed pattern is new, so it now comes after second.
	if err := r.Put("a", "first", nil, []string{`^(\d\d)\d{2}$`}); err != nil {
		t.Fatal(err)
	}
	if m, _ := r.Route("a", "1234"); m.CallflowID != "second" {
		t.Fatalf("tie after change: %+v", m)
	}
}

func TestRouterNormalisedForms(t *testing.T) {
	r := newTestRouter(t, "a", testFlow{id: "f", numbers: []string{"+14155551234"}})
	for _, d := range []string{"4155551234", "14155551234", "+1 (415) 555-1234", "+14155551234", "415-555-1234", "1.415.555.1234"} {
		m, ok := r.Route("a", d)
		if !ok || m.CallflowID != "f" || m.Number != "+14155551234" {
			t.Errorf("Route(%q) = %+v, %v", d, m, ok)
		}
	}
	for _, d := range []string{"5551234", "+4155551234", "24155551234"} {
		if m, ok := r.Route("a", d); ok {
			t.Errorf("Route(%q) = %+v, want no match", d, m)
		}
	}
}

func TestRouterAccountsIsolated(t *testing.T) {
	r := NewRouter()
	mustPut(t, r, "a", "fa", []string{"1000"}, []string{`^2\d{3}$`})
	mustPut(t, r, "b", "fb", []string{"1001"}, []string{`^3\d{3}$`})
	for _, tt := range []struct{ acct, d, want string }{
		{"a", "1000", "fa"}, {"a", "2000", "fa"}, {"a", "1001", ""}, {"a", "3000", ""},
		{"b", "1001", "fb"}, {"b", "3000", "fb"}, {"b", "1000", ""}, {"b", "2000", ""},
		{"c", "1000", ""},
	} {
		m, ok := r.Route(tt.acct, tt.d)
		if m.CallflowID != tt.want || ok != (tt.want != "") {
			t.Errorf("Route(%s, %s) = %+v, %v; want %q", tt.acct, tt.d, m, ok, tt.want)
		}
	}
	if r.Len() != 2 {
		t.Errorf("Len = %d", r.Len())
	}
}

func mustPut(t testing.TB, r *Router, acct, id string, numbers, patterns []string) {
	t.Helper()
	if err := r.Put(acct, id, numbers, patterns); err != nil {
		t.Fatalf("Put(%s, %s): %v", acct, id, err)
	}
}

func TestRouterRemoveAndReplace(t *testing.T) {
	r := NewRouter()
	mustPut(t, r, "a", "f1", []string{"1000", "1001"}, []string{`^\*7(\d+)$`})
	mustPut(t, r, "a", "f2", []string{"2000"}, nil)
	if r.Len() != 2 {
		t.Fatalf("Len = %d", r.Len())
	}
	// Replacing f1's numbers and patterns drops the old ones.
	mustPut(t, r, "a", "f1", []string{"1002"}, []string{`^\*8(\d+)$`})
	for d, want := range map[string]string{"1000": "", "1001": "", "1002": "f1", "*71": "", "*81": "f1", "2000": "f2"} {
		if m, _ := r.Route("a", d); m.CallflowID != want {
			t.Errorf("after replace Route(%s) = %q, want %q", d, m.CallflowID, want)
		}
	}
	if r.Len() != 2 {
		t.Fatalf("Len after replace = %d", r.Len())
	}
	r.Remove("a", "f1")
	r.Remove("a", "nope")
	r.Remove("nope", "f1")
	for d, want := range map[string]string{"1002": "", "*81": "", "2000": "f2"} {
		if m, _ := r.Route("a", d); m.CallflowID != want {
			t.Errorf("after remove Route(%s) = %q, want %q", d, m.CallflowID, want)
		}
	}
	if r.Len() != 1 {
		t.Fatalf("Len after remove = %d", r.Len())
	}
	r.Remove("a", "f2")
	if r.Len() != 0 || len(r.accounts) != 0 {
		t.Fatalf("Len after removing all = %d, accounts %d", r.Len(), len(r.accounts))
	}
}

func TestRouterDuplicateNumbers(t *testing.T) {
	r := NewRouter()
	mustPut(t, r, "a", "f1", []string{"1000"}, []string{`^2\d{3}$`})
	mustPut(t, r, "a", "f2", []string{"1000"}, []string{`^2\d{3}$`})
	if m, _ := r.Route("a", "1000"); m.CallflowID != "f2" {
		t.Fatalf("last Put should win: %+v", m)
	}
	if m, _ := r.Route("a", "2000"); m.CallflowID != "f1" {
		t.Fatalf("first pattern should win a tie: %+v", m)
	}
	r.Remove("a", "f1")
	if m, _ := r.Route("a", "1000"); m.CallflowID != "f2" {
		t.Fatalf("removing f1 broke f2: %+v", m)
	}
	if m, _ := r.Route("a", "2000"); m.CallflowID != "f2" {
		t.Fatalf("removing f1 broke f2's pattern: %+v", m)
	}
	mustPut(t, r, "a", "f1", []string{"1000"}, nil)
	r.Remove("a", "f1")
	if m, _ := r.Route("a", "1000"); m.CallflowID != "f2" {
		t.Fatalf("re-put and remove of f1 broke f2: %+v", m)
	}
}

func TestRouterBadPattern(t *testing.T) {
	r := NewRouter()
	mustPut(t, r, "a", "f", []string{"1000"}, []string{`^2\d{3}$`})
	err := r.Put("a", "f", []string{"1001"}, []string{`^3\d{3}$`, `^(unclosed`})
	if err == nil || !strings.Contains(err.Error(), "(unclosed") {
		t.Fatalf("Put with bad pattern: err = %v", err)
	}
	if err := r.Put("a", "g", nil, []string{`[`}); err == nil {
		t.Fatal("Put of a new flow with a bad pattern: no error")
	}
	if r.Len() != 1 {
		t.Fatalf("Len = %d", r.Len())
	}
	for d, want := range map[string]string{"1000": "f", "2000": "f", "1001": "", "3000": ""} {
		if m, _ := r.Route("a", d); m.CallflowID != want {
			t.Errorf("Route(%s) = %q, want %q", d, m.CallflowID, want)
		}
	}
}

func TestRequiredLiteral(t *testing.T) {
	for src, want := range map[string]string{
		`^\+?1?(\d{3}555\d{4})$`: "555",
		`^.*(\d{3})#$`:           "#",
		`^\+1415555(\d{4})$`:     "+1415555",
		`^(?:12)+3$`:             "12",
		`^(?:12)?3$`:             "3",
		`^(?i)ab\d$`:             "",
		`^1|2$`:                  "",
	} {
		p, err := compilePattern(src)
		if err != nil {
			t.Fatal(err)
		}
		if p.needs != want {
			t.Errorf("%s: needs %q, want %q", src, p.needs, want)
		}
	}
}

func TestPatternKeys(t *testing.T) {
	tests := []struct {
		pattern            string
		anchored, floating []string
		always, whole      bool
		minLen, maxLen     int
		literal            bool
	}{
		{pattern: `^\+1415555(\d{4})$`, anchored: []string{"+1415555"}, whole: true, minLen: 12, maxLen: 12},
		{pattern: `^2\d{3}$`, anchored: []string{"2"}, whole: true, minLen: 4, maxLen: 4},
		{pattern: `^\*7(\d+)$`, anchored: []string{"*7"}, whole: true, minLen: 3, maxLen: -1},
		{pattern: `^\+?1?(\d{10})$`, anchored: []string{"+", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, whole: true, minLen: 10, maxLen: 12},
		{pattern: `^(.*)$`, always: true, whole: true, minLen: 0, maxLen: -1},
		{pattern: `^[2-9]\d{9}$`, anchored: []string{"2", "3", "4", "5", "6", "7", "8", "9"}, whole: true, minLen: 10, maxLen: 10},
		{pattern: `^[+1]?(\d{10})$`, anchored: []string{"+", "1", "0", "2", "3", "4", "5", "6", "7", "8", "9"}, whole: true, minLen: 10, maxLen: 11},
		{pattern: `^\+?1?415(\d{7})$`, anchored: []string{"415", "1415", "+415", "+1415"}, whole: true, minLen: 10, maxLen: 12},
		{pattern: `\A(?:911|933)`, anchored: []string{"911", "933"}, minLen: 3, maxLen: 3},
		{pattern: `911`, floating: []string{"911"}, minLen: 3, maxLen: 3},
		{pattern: `(?m)^911$`, floating: []string{"911"}, minLen: 3, maxLen: 3},
		{pattern: `^.*911$`, always: true, whole: true, minLen: 3, maxLen: -1},
		{pattern: `^(1000)$`, anchored: []string{"1000"}, whole: true, minLen: 4, maxLen: 4, literal: true},
		{pattern: `^\*72$`, anchored: []string{"*72"}, whole: true, minLen: 3, maxLen: 3, literal: true},
		{pattern: `^(?i)ab$`, anchored: []string{"AB", "Ab", "aB", "ab"}, whole: true, minLen: 2, maxLen: 2},
		{pattern: `^a|b`, anchored: []string{"a"}, floating: []string{"b"}, minLen: 1, maxLen: 1},
		{pattern: `[^\x00-\x{10FFFF}]`, minLen: 0, maxLen: 0}, // never matches: no key, never tried
	}
	for _, tt := range tests {
		p, err := compilePattern(tt.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		sort.Strings(p.anchoredKeys)
		sort.Strings(p.floatingKeys)
		sort.Strings(tt.anchored)
		if !slices.Equal(p.anchoredKeys, tt.anchored) || !slices.Equal(p.floatingKeys, tt.floating) || p.always != tt.always ||
			p.whole != tt.whole || p.minLen != tt.minLen || p.maxLen != tt.maxLen || p.literal != tt.literal {
			t.Errorf("%s: anchored %q floating %q always %v whole %v len %d..%d literal %v",
				tt.pattern, p.anchoredKeys, p.floatingKeys, p.always, p.whole, p.minLen, p.maxLen, p.literal)
		}
	}
}

// model is the obvious implementation the Router must agree with: every
// number and every pattern tried in turn.
type model struct {
	seq    int
	flows  map[string]*modelFlow // by account+"/"+id
	owners map[string][]string   // account+"/"+number -> flow keys in Put order
}

type modelFlow struct {
	account, id string
	numbers     []string
	patterns    []modelPattern
}

type modelPattern struct {
	re  *regexp.Regexp
	seq int
}

func newModel() *model {
	return &model{flows: map[string]*modelFlow{}, owners: map[string][]string{}}
}

func (m *model) put(acct, id string, numbers, patterns []string) error {
	var pats []modelPattern
	key := acct + "/" + id
	old := m.flows[key]
	for _, src := range patterns {
		if slices.ContainsFunc(pats, func(p modelPattern) bool { return p.re.String() == src }) {
			continue
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return err
		}
		pats = append(pats, modelPattern{re: re})
	}
	for i := range pats {
		pats[i].seq = -1
		if old != nil {
			for _, o := range old.patterns {
				if o.re.String() == pats[i].re.String() {
					pats[i].seq = o.seq
				}
			}
		}
		if pats[i].seq < 0 {
			m.seq++
			pats[i].seq = m.seq
		}
	}
	m.remove(acct, id)
	var nums []string
	for _, n := range numbers {
		if n != "" && !slices.Contains(nums, n) {
			nums = append(nums, n)
			m.owners[acct+"/"+n] = append(m.owners[acct+"/"+n], key)
		}
	}
	m.flows[key] = &modelFlow{account: acct, id: id, numbers: nums, patterns: pats}
	return nil
}

func (m *model) remove(acct, id string) {
	key := acct + "/" + id
	f := m.flows[key]
	if f == nil {
		return
	}
	for _, n := range f.numbers {
		k := acct + "/" + n
		m.owners[k] = slices.DeleteFunc(m.owners[k], func(o string) bool { return o == key })
	}
	delete(m.flows, key)
}

func (m *model) route(acct, dialled string, allow bool) (Match, bool) {
	raw := strings.TrimSpace(dialled)
	norm := Normalize(dialled)
	if raw == "" {
		return Match{}, false
	}
	for _, n := range []string{norm, raw} {
		if o := m.owners[acct+"/"+n]; len(o) > 0 && n != NoMatchNumber {
			return Match{CallflowID: m.flows[o[len(o)-1]].id, Number: norm}, true
		}
	}
	type cand struct {
		f   *modelFlow
		p   modelPattern
		loc []int
		s   string
	}
	var all []cand
	for _, f := range m.flows {
		if f.account == acct {
			for _, p := range f.patterns {
				all = append(all, cand{f: f, p: p})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].p.seq < all[j].p.seq })
	best := -1
	var bc cand
	for _, c := range all {
		for _, s := range []string{norm, raw} {
			loc := c.p.re.FindStringSubmatchIndex(s)
			if loc == nil {
				continue
			}
			// Kazoo: the longest group, else the whole match.
			st, en := loc[0], loc[1]
			if c.p.re.NumSubexp() > 0 {
				bl := -1
				for g := 1; g <= c.p.re.NumSubexp(); g++ {
					gs, ge := max(loc[2*g], 0), max(loc[2*g+1], 0)
					if ge-gs > bl {
						bl, st, en = ge-gs, gs, ge
					}
				}
			}
			if en-st > best {
				best = en - st
				bc = cand{f: c.f, p: c.p, loc: []int{st, en}, s: s}
				bc.loc = append(bc.loc, loc...)
			}
		}
	}
	if best >= 0 {
		res := Match{CallflowID: bc.f.id, Number: norm, Pattern: bc.p.re.String(), CaptureGroup: bc.s[bc.loc[0]:bc.loc[1]]}
		loc := bc.loc[2:]
		for i, name := range bc.p.re.SubexpNames() {
			if name != "" && loc[2*i] >= 0 && loc[2*i+1] > loc[2*i] {
				if res.CaptureGroups == nil {
					res.CaptureGroups = map[string]string{}
				}
				res.CaptureGroups[name] = bc.s[loc[2*i]:loc[2*i+1]]
			}
		}
		return res, true
	}
	if allow && len(strings.TrimPrefix(norm, "+")) > 0 && strings.Trim(strings.TrimPrefix(norm, "+"), "0123456789") == "" {
		if o := m.owners[acct+"/"+NoMatchNumber]; len(o) > 0 {
			return Match{CallflowID: m.flows[o[len(o)-1]].id, Number: norm}, true
		}
	}
	return Match{}, false
}

// randomPattern builds telephony-ish regexps over a small alphabet, so that
// random numbers match often, with every construct the key extraction
// handles.
func randomPattern(rng *rand.Rand) string {
	lits := []string{"1", "2", "12", "21", "0", "3", `\+`, `\*`, "#", "11", "123", "a", "A"}
	var atom func(depth int) string
	atom = func(depth int) string {
		switch k := rng.Intn(20); {
		case k < 7:
			return lits[rng.Intn(len(lits))]
		case k < 9:
			return `\d`
		case k == 9:
			return fmt.Sprintf(`\d{%d}`, 1+rng.Intn(3))
		case k == 10:
			return fmt.Sprintf(`\d{%d,%d}`, rng.Intn(2), 2+rng.Intn(2))
		case k == 11:
			return []string{`[1-3]`, `[0-9+]`, `[^2]`, `.`, `[a1]`, `\w`}[rng.Intn(6)]
		case k == 12:
			return []string{`\b`, `\B`, `$`, `^`, `(?m:^)`}[rng.Intn(5)]
		case k < 16 && depth < 3:
			inner := ""
			for n := 1 + rng.Intn(3); n > 0; n-- {
				inner += atom(depth + 1)
			}
			switch rng.Intn(4) {
			case 0:
				return "(" + inner + ")"
			case 1:
				return fmt.Sprintf("(?P<g%d>%s)", rng.Intn(1000), inner)
			case 2:
				return "(?:" + inner + "|" + atom(depth+1) + ")"
			default:
				return "(?i:" + inner + ")"
			}
		case depth < 3:
			return "(?:" + atom(depth+1) + ")" + []string{"?", "*", "+", "{1,2}", "??"}[rng.Intn(5)]
		}
		return lits[rng.Intn(len(lits))]
	}
	var b strings.Builder
	b.WriteString([]string{"^", "^", "^", "", `\A`, `^\+?1?`, `(?m)^`, `^(`}[rng.Intn(8)])
	open := strings.HasSuffix(b.String(), "(")
	for n := 2 + rng.Intn(4); n > 0; n-- {
		b.WriteString(atom(0))
	}
	if open {
		b.WriteString(")")
	}
	b.WriteString([]string{"$", "$", "", `\z`}[rng.Intn(4)])
	return b.String()
}

func randomNumber(rng *rand.Rand) string {
	const alphabet = "0123123121+*#a "
	b := make([]byte, rng.Intn(13))
	for i := range b {
		b[i] = alphabet[rng.Intn(len(alphabet))]
	}
	switch rng.Intn(6) {
	case 0:
		return "+1" + string(b)
	case 1:
		return "1" + string(b)
	}
	return string(b)
}

// The prefix index must find exactly what trying every pattern finds,
// through puts, re-puts and removes.
func TestRouterMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	var pool []string
	for len(pool) < 400 {
		p := randomPattern(rng)
		if _, err := syntax.Parse(p, syntax.Perl); err == nil {
			pool = append(pool, p)
		}
	}
	numbers := []string{"1000", "1001", "+11", "12", "*1", NoMatchNumber, "+14155551234", "21", "3"}
	r, m := NewRouter(), newModel()
	accounts := []string{"a", "b"}
	checks, hits, keyed := 0, 0, 0
	for round := 0; round < 40; round++ {
		for op := 0; op < 20; op++ {
			acct := accounts[rng.Intn(len(accounts))]
			id := fmt.Sprintf("f%d", rng.Intn(40))
			if rng.Intn(6) == 0 {
				r.Remove(acct, id)
				m.remove(acct, id)
				continue
			}
			var nums, pats []string
			for n := rng.Intn(3); n > 0; n-- {
				nums = append(nums, numbers[rng.Intn(len(numbers))])
			}
			for n := rng.Intn(4); n > 0; n-- {
				pats = append(pats, pool[rng.Intn(len(pool))])
			}
			errR, errM := r.Put(acct, id, nums, pats), m.put(acct, id, nums, pats)
			if (errR == nil) != (errM == nil) {
				t.Fatalf("Put(%v) errors differ: %v vs %v", pats, errR, errM)
			}
		}
		if want := len(m.flows); r.Len() != want {
			t.Fatalf("Len = %d, want %d", r.Len(), want)
		}
		for q := 0; q < 200; q++ {
			acct := accounts[rng.Intn(len(accounts))]
			d := randomNumber(rng)
			allow := rng.Intn(2) == 0
			got, ok := r.RouteWith(acct, d, RouteOptions{AllowNoMatch: allow})
			want, wok := m.route(acct, d, allow)
			checks++
			if wok && want.Pattern != "" {
				hits++
				if p, _ := compilePattern(want.Pattern); !p.always {
					keyed++
				}
			}
			if ok != wok || !reflect.DeepEqual(got, want) {
				t.Fatalf("RouteWith(%s, %q, %v) = %+v, %v; brute force %+v, %v", acct, d, allow, got, ok, want, wok)
			}
		}
	}
	if hits < checks/10 || hits > checks*9/10 || keyed < hits/2 {
		t.Fatalf("%d of %d lookups matched a pattern, %d of them keyed: the test is too weak", hits, checks, keyed)
	}
	t.Logf("%d lookups, %d pattern matches, %d by a pattern with keys", checks, hits, keyed)
}

// For each pattern alone: any match must start with one of its keys, and
// have a length within its bounds.
func TestPatternKeysSound(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 3000; i++ {
		src := randomPattern(rng)
		p, err := compilePattern(src)
		if err != nil {
			continue
		}
		for j := 0; j < 50; j++ {
			s := strings.TrimSpace(randomNumber(rng))
			loc := p.re.FindStringIndex(s)
			if loc == nil {
				if p.literal && s == p.litText {
					t.Fatalf("%s: literal %q but the regexp does not match it", src, p.litText)
				}
				continue
			}
			if p.literal && s != p.litText {
				t.Fatalf("%s: literal %q but matches %q", src, p.litText, s)
			}
			if !strings.Contains(s[loc[0]:loc[1]], p.needs) {
				t.Fatalf("%s on %q: match %v lacks required %q", src, s, loc, p.needs)
			}
			n := loc[1] - loc[0]
			if n < p.minLen || p.maxLen >= 0 && n > p.maxLen || p.whole && (loc[0] != 0 || loc[1] != len(s)) {
				t.Fatalf("%s on %q: match %v outside len %d..%d whole %v", src, s, loc, p.minLen, p.maxLen, p.whole)
			}
			if p.always {
				continue
			}
			found := loc[0] == 0 && slices.ContainsFunc(p.anchoredKeys, func(k string) bool { return strings.HasPrefix(s, k) })
			found = found || slices.ContainsFunc(p.floatingKeys, func(k string) bool { return strings.HasPrefix(s[loc[0]:], k) })
			if !found {
				t.Fatalf("%s on %q: match at %v has no key of %q / %q", src, s, loc, p.anchoredKeys, p.floatingKeys)
			}
		}
	}
}

func TestRouterConcurrent(t *testing.T) {
	r := NewRouter()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				id := fmt.Sprintf("f%d", i%50)
				if i%7 == 0 {
					r.Remove("a", id)
					continue
				}
				_ = r.Put("a", id, []string{fmt.Sprintf("%d", 1000+i%50)}, []string{fmt.Sprintf(`^\*%d(\d*)$`, i%50)})
			}
		}(w)
	}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				if m, ok := r.Route("a", fmt.Sprintf("*%d%d", i%50, w)); ok && m.Pattern == "" {
					t.Errorf("pattern lookup gave an exact match: %+v", m)
				}
				r.RouteWith("a", fmt.Sprintf("%d", 1000+i%50), RouteOptions{AllowNoMatch: true})
				_ = r.Len()
			}
		}(w)
	}
	wg.Wait()
	// The end state must equal a fresh load of the same flows.
	keys := slices.Sorted(maps.Keys(r.accounts["a"].flows))
	fresh := NewRouter()
	for _, k := range keys {
		f := r.accounts["a"].flows[k]
		var pats []string
		for _, p := range f.patterns {
			pats = append(pats, p.src)
		}
		mustPut(t, fresh, "a", k, f.numbers, pats)
	}
	for i := 0; i < 50; i++ {
		for _, d := range []string{fmt.Sprintf("%d", 1000+i), fmt.Sprintf("*%d5", i)} {
			a, aok := r.Route("a", d)
			b, bok := fresh.Route("a", d)
			if aok != bok || a.CallflowID != b.CallflowID {
				t.Errorf("Route(%s): %+v %v vs fresh %+v %v", d, a, aok, b, bok)
			}
		}
	}
}

func TestRouterExactNoAlloc(t *testing.T) {
	r := newTestRouter(t, "a",
		testFlow{id: "f", numbers: []string{"+14155551234", "1000"}},
		testFlow{id: "p", patterns: []string{`^\+1415555(\d{4})$`, `^\*7(\d+)$`}},
	)
	for _, d := range []string{"+14155551234", "4155551234", "+1 (415) 555-1234", "1000", "+4930123456", "5555"} {
		if n := testing.AllocsPerRun(100, func() { r.Route("a", d) }); n != 0 {
			t.Errorf("Route(%q): %v allocs", d, n)
		}
	}
}

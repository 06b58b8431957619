package routing

import (
	"fmt"
	"math/rand"
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"testing"
)

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
	r, m := New(), newModel()
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

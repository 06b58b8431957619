package routing

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
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
	r := New()
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
	r := New()
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
	r := New()
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
	r := New()
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
	r := New()
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

func TestRouterConcurrent(t *testing.T) {
	r := New()
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
	fresh := New()
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

package routing

import (
	"math/rand"
	"slices"
	"sort"
	"strings"
	"testing"
)

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

package routing

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// pattern is one flow's regular expression with what the index learnt of
// it when it was Put (its keys, length bounds, a required literal), so a
// lookup rules most patterns out without running them.
type pattern struct {
	src  string
	re   *regexp.Regexp
	flow *flow
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

// compilePattern compiles a pattern and works out its index keys and length
// bounds.
func compilePattern(src string) (*pattern, error) {
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, err
	}
	tree, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, err
	}
	tree = tree.Simplify()
	p := &pattern{src: src, re: re, nsub: re.NumSubexp(), names: re.SubexpNames()}
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

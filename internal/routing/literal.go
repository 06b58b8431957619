package routing

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Literal-prefix analysis. lit is a string every match (or, anchored,
// every match at the start of the input) may start with; exact means the
// regexp part that produced it matches exactly that string, so what follows
// can be appended.
type lit struct {
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

// unknownLits is the set that says nothing: matches start with "".
func unknownLits() []lit { return []lit{{}} }

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

func literalSet(re *syntax.Regexp) []lit {
	switch re.Op {
	case syntax.OpNoMatch:
		return []lit{}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []lit{{exact: true}}
	case syntax.OpBeginText:
		return []lit{{exact: true, anchored: true}}
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 && !slices.Contains(re.Rune, utf8.RuneError) {
			return clipLits([]lit{{s: string(re.Rune), exact: true}})
		}
		acc := []lit{{exact: true}}
		for _, r := range re.Rune {
			switch {
			case r == utf8.RuneError: // also matches any invalid byte
				acc = concatLits(acc, unknownLits(), false)
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
				return unknownLits()
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
		return unionLits(literalSet(re.Sub[0]), []lit{{exact: true}})
	case syntax.OpPlus:
		return inexact(literalSet(re.Sub[0]))
	case syntax.OpRepeat: // Simplify removes these; kept for safety
		if re.Min == 0 {
			return unknownLits()
		}
		return inexact(literalSet(re.Sub[0]))
	case syntax.OpConcat:
		acc := []lit{{exact: true}}
		for _, sub := range re.Sub {
			acc = concatLits(acc, literalSet(sub), wideStart(sub))
		}
		return acc
	case syntax.OpAlternate:
		var acc []lit
		for _, sub := range re.Sub {
			acc = unionLits(acc, literalSet(sub))
		}
		if acc == nil {
			acc = []lit{}
		}
		return acc
	}
	return unknownLits() // OpAnyChar, OpAnyCharNotNL, OpStar, anything new
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

func runeLits(rs []rune) []lit {
	out := make([]lit, len(rs))
	for i, r := range rs {
		out[i] = lit{s: string(r), exact: true}
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

func inexact(ls []lit) []lit {
	out := make([]lit, len(ls))
	for i, l := range ls {
		l.exact = false
		out[i] = l
	}
	return dedupLits(out)
}

func clipLits(ls []lit) []lit {
	for i := range ls {
		if len(ls[i].s) > maxLitLen {
			ls[i].s = ls[i].s[:maxLitLen]
			ls[i].exact = false
		}
	}
	return dedupLits(ls)
}

func dedupLits(ls []lit) []lit {
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
func concatLits(a, b []lit, wide bool) []lit {
	out := make([]lit, 0, len(a))
	for _, x := range a {
		if !x.exact || wide && x.s != "" {
			x.exact = false
			out = append(out, x)
			continue
		}
		for _, y := range b {
			out = append(out, lit{s: x.s + y.s, exact: y.exact, anchored: x.anchored || x.s == "" && y.anchored})
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
func unionLits(a, b []lit) []lit {
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

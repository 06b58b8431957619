package routing

import (
	"slices"
	"strings"
)

// candidate is a pattern to try against the normalised (which 0) or the raw
// (which 1) dialled number.
type candidate struct {
	p     *pattern
	which uint8
}

func (a *account) collect(s string, which uint8, out []candidate) []candidate {
	out = a.anchored.collect(s, which, out)
	if a.floating.count > 0 {
		for i := 0; i < len(s); i++ {
			out = a.floating.collect(s[i:], which, out)
		}
	}
	return out
}

func (a *account) matchPatterns(norm, raw string, same bool) (Match, bool) {
	var cbuf [32]candidate
	c := a.collect(norm, 0, cbuf[:0])
	if !same {
		c = a.collect(raw, 1, c)
	}
	for _, p := range a.always {
		c = append(c, candidate{p, 0})
		if !same {
			c = append(c, candidate{p, 1})
		}
	}
	if len(c) == 0 {
		return Match{}, false
	}
	if len(c) > 1 {
		slices.SortFunc(c, func(x, y candidate) int {
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
	var bp *pattern
	var bloc []int
	var bstr string
	var prev candidate
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

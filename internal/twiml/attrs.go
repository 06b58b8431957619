package twiml

import (
	"encoding/xml"
	"errors"
	"strconv"
	"strings"
	"time"
)

// names is a set of attribute names as Twilio spells them.
type names map[string]struct{}

func nameSet(list ...string) names {
	s := make(names, len(list))
	for _, n := range list {
		s[n] = struct{}{}
	}
	return s
}

// ignoredAttr is a namespace declaration or an xml:* attribute: never
// reported, never kept.
func ignoredAttr(n xml.Name) bool {
	return n.Space == "xmlns" || n.Space == "xml" || (n.Space == "" && n.Local == "xmlns")
}

// attrs reads the attributes of one element, warning about the ones that
// cannot be used.
type attrs struct {
	p    *parser
	verb string
	m    map[string]string
}

// attrs collects the attributes of se into a map, warning (12200) about
// names not in known and about repeated names (the first one wins).
func (p *parser) attrs(verb string, se xml.StartElement, known names) attrs {
	a := attrs{p: p, verb: verb}
	if len(se.Attr) == 0 {
		return a
	}
	a.m = make(map[string]string, len(se.Attr))
	for _, at := range se.Attr {
		if ignoredAttr(at.Name) {
			continue
		}
		key := qname(at.Name)
		if _, dup := a.m[key]; dup {
			p.warn(CodeSchema, verb, key, "attribute %q repeated on <%s>; the first one is used", key, verb)
			continue
		}
		a.m[key] = at.Value
		if _, ok := known[key]; !ok {
			p.warn(CodeSchema, verb, key, "unknown attribute %q on <%s> ignored", key, verb)
		}
	}
	if len(a.m) == 0 {
		a.m = nil
	}
	return a
}

func (a attrs) warn(code int, name, format string, args ...any) {
	a.p.warn(code, a.verb, name, format, args...)
}

// value is the attribute's value with surrounding whitespace removed, and
// whether it was given.
func (a attrs) value(name string) (string, bool) {
	v, ok := a.m[name]
	if !ok {
		return "", false
	}
	return strings.TrimSpace(v), true
}

// str is the trimmed value, "" when absent.
func (a attrs) str(name string) string {
	v, _ := a.value(name)
	return v
}

// method is GET or POST, case-insensitively; POST when absent, empty or
// invalid (with a warning of code).
func (a attrs) method(name string, code int) string {
	v, _ := a.value(name)
	switch {
	case v == "", strings.EqualFold(v, "POST"):
		return "POST"
	case strings.EqualFold(v, "GET"):
		return "GET"
	}
	a.warn(code, name, "invalid %s %q on <%s>: must be GET or POST; using POST", name, v, a.verb)
	return "POST"
}

// boolean is true or false, case-insensitively; def when absent, empty or
// invalid (with a warning of code).
func (a attrs) boolean(name string, def bool, code int) bool {
	v, _ := a.value(name)
	switch {
	case v == "":
		return def
	case strings.EqualFold(v, "true"):
		return true
	case strings.EqualFold(v, "false"):
		return false
	}
	a.warn(code, name, "invalid %s %q on <%s>: must be true or false; using %t", name, v, a.verb, def)
	return def
}

// enum is one of allowed (lower-case), compared case-insensitively; def
// when absent or empty, and with a warning of code when invalid.
func (a attrs) enum(name, def string, code int, allowed ...string) string {
	v, _ := a.value(name)
	if v == "" {
		return def
	}
	for _, x := range allowed {
		if strings.EqualFold(v, x) {
			return x
		}
	}
	a.warn(code, name, "invalid %s %q on <%s>: must be one of %s; using %q", name, v, a.verb, strings.Join(allowed, ", "), def)
	return def
}

// integer is a decimal integer in [min, max]: def when absent or empty;
// def with a warning of code when not a number or negative; clamped into
// range with a warning when out of it.
func (a attrs) integer(name string, def, min, max, code int) int {
	v, _ := a.value(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		a.warn(code, name, "invalid %s %q on <%s>: not an integer; using %d", name, v, a.verb, def)
		return def
	}
	switch {
	case n < 0:
		a.warn(code, name, "invalid %s %q on <%s>: negative; using %d", name, v, a.verb, def)
		return def
	case n < min:
		a.warn(code, name, "%s %q on <%s> is below %d; using %d", name, v, a.verb, min, min)
		return min
	case n > max:
		a.warn(code, name, "%s %q on <%s> is above %d; using %d", name, v, a.verb, max, max)
		return max
	}
	return n
}

// seconds is integer as a duration in seconds.
func (a attrs) seconds(name string, def, min, max, code int) time.Duration {
	return time.Duration(a.integer(name, def, min, max, code)) * time.Second
}

// loop is a Say/Play loop count: 1 by default, 0 = repeat up to the cap,
// at most MaxLoop.
func (a attrs) loop(code int) int {
	return a.integer("loop", 1, 0, MaxLoop, code)
}

// keys is a finishOnKey value: def when absent; "" when empty (no key);
// the keys when all are among 0-9 * #; otherwise def with a warning.
func (a attrs) keys(name, def string, code int) string {
	v, ok := a.value(name)
	if !ok {
		return def
	}
	if !onlyChars(v, "0123456789*#") {
		a.warn(code, name, "invalid %s %q on <%s>: keys are 0-9, * and #; using %q", name, v, a.verb, def)
		return def
	}
	return v
}

// onlyChars reports whether every byte of s is in set.
func onlyChars(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

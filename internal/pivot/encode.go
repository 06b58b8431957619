package pivot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Param is one request parameter. Value may be:
//
//   - string (sent as is, empty strings included: Twilio sends FromCity="" and
//     the like), bool (true/false), any integer or float type, json.Number,
//     fmt.Stringer;
//   - map[string]any or map[string]string: a nested object, sent in a form as
//     Key[Sub]=v (Kazoo's Digits[default]=1234, Custom-SIP-Headers[X-Foo]=bar)
//     and in JSON as an object; its keys are sorted so requests are
//     reproducible;
//   - []string or []any: a list, sent in a form as Key[]=a&Key[]=b and in JSON
//     as an array;
//   - nil: the parameter is dropped (Kazoo never sends undefined values).
type Param struct {
	Key   string
	Value any
}

// Params is an ordered parameter list, so that the same call sends the same
// bytes. When a key repeats, the last value wins and keeps the position of
// the first (the request is a JSON object in Kazoo, which has no duplicates).
type Params = []Param

// pair is one flattened form field, unescaped (as the server decodes it).
type pair struct{ key, value string }

// dedupe returns ps without nil values and with repeated keys collapsed.
// A list with neither (the usual request) is returned as it is, without a
// copy; short lists are searched in place of a map, which costs more than
// the search for the twenty-odd parameters of a call.
func dedupe(ps Params) Params {
	if clean(ps) {
		return ps
	}
	const linear = 32 // beyond this many keys, a map
	var seen map[string]int
	out := make(Params, 0, len(ps))
	for _, p := range ps {
		if p.Value == nil {
			continue
		}
		i := -1
		if seen != nil {
			if j, ok := seen[p.Key]; ok {
				i = j
			}
		} else {
			for j := range out {
				if out[j].Key == p.Key {
					i = j
					break
				}
			}
		}
		if i >= 0 {
			out[i].Value = p.Value
			continue
		}
		out = append(out, p)
		switch {
		case seen != nil:
			seen[p.Key] = len(out) - 1
		case len(out) == linear:
			seen = make(map[string]int, len(ps))
			for j, q := range out {
				seen[q.Key] = j
			}
		}
	}
	return out
}

// clean reports whether ps has no nil value and no repeated key.
func clean(ps Params) bool {
	if len(ps) > 64 {
		return false // not worth the quadratic look: dedupe's map decides
	}
	for i, p := range ps {
		if p.Value == nil {
			return false
		}
		for _, q := range ps[:i] {
			if q.Key == p.Key {
				return false
			}
		}
	}
	return true
}

// flatten turns params into form fields: nested objects become Key[Sub],
// lists Key[].
func flatten(ps Params) []pair {
	return flattenInto(make([]pair, 0, len(ps)+4), ps)
}

// flattenInto is flatten appending to out.
func flattenInto(out []pair, ps Params) []pair {
	for _, p := range ps {
		out = flattenValue(out, p.Key, p.Value)
	}
	return out
}

// pairBufs keeps the form fields of finished requests for the next ones:
// a request's fields live only while it is sent.
var pairBufs = sync.Pool{New: func() any { b := make([]pair, 0, 32); return &b }}

// maxPooledPairs bounds the fields a pooled buffer keeps.
const maxPooledPairs = 256

func getPairs() *[]pair { return pairBufs.Get().(*[]pair) }

// putPairs gives b back, holding no strings.
func putPairs(b *[]pair) {
	if cap(*b) > maxPooledPairs {
		return
	}
	clear((*b)[:cap(*b)])
	*b = (*b)[:0]
	pairBufs.Put(b)
}

func flattenValue(out []pair, key string, v any) []pair {
	switch x := v.(type) {
	case nil:
		return out
	case string:
		return append(out, pair{key, x})
	case map[string]any:
		for _, k := range sortedKeys(x) {
			out = flattenValue(out, key+"["+k+"]", x[k])
		}
		return out
	case map[string]string:
		for _, k := range sortedKeys(x) {
			out = append(out, pair{key + "[" + k + "]", x[k]})
		}
		return out
	case []string:
		for _, s := range x {
			out = append(out, pair{key + "[]", s})
		}
		return out
	case []any:
		for _, e := range x {
			out = flattenValue(out, key+"[]", e)
		}
		return out
	default:
		return append(out, pair{key, scalarString(v)})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int8:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint:
		return strconv.FormatUint(uint64(x), 10)
	case uint8:
		return strconv.FormatUint(uint64(x), 10)
	case uint16:
		return strconv.FormatUint(uint64(x), 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return string(x)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(v)
	}
}

// encodeForm writes fields the way Kazoo's kz_http_util:json_to_querystring
// does: keys unescaped except for the characters that would break the query
// (escapeKey), values URL-encoded with '+' for space.
// The form is written in a pooled buffer, then copied once into its
// string: the request body and the call log's copy of it are that string.
func encodeForm(fields []pair) string {
	bp := formBufs.Get().(*[]byte)
	b := appendForm((*bp)[:0], fields)
	s := string(b)
	if cap(b) <= maxPooledForm {
		*bp = b
		formBufs.Put(bp)
	}
	return s
}

// formBufs keeps encodeForm's scratch buffers.
var formBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledForm bounds the buffer a large form leaves in formBufs.
const maxPooledForm = 16 << 10

// appendForm is encodeForm appended to b.
func appendForm(b []byte, fields []pair) []byte {
	n := 0
	for _, f := range fields {
		n += len(f.key) + len(f.value) + 2
	}
	b = slices.Grow(b, n+n/4)
	for i, f := range fields {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendKey(b, f.key)
		b = append(b, '=')
		b = appendQueryEscape(b, f.value)
	}
	return b
}

// appendQueryEscape appends s escaped byte for byte as url.QueryEscape
// does (letters, digits and -_.~ as they are, space as '+', every other
// byte as %XX in upper case), without its string per value.
func appendQueryEscape(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}

// EncodeKey escapes a form key as Switchboard sends it: only '&', '=', '#',
// '+', '%', space, control characters and non-ASCII bytes are escaped, so
// Digits[default] and Custom-SIP-Headers[X-Foo] go out verbatim.
func EncodeKey(k string) string {
	return string(appendKey(nil, k))
}

func appendKey(b []byte, k string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '&' || c == '=' || c == '#' || c == '+' || c == '%' || c <= ' ' || c >= 0x7f:
			b = append(b, '%', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return b
}

// EncodeParams returns the form/query encoding of ps (without a leading '?').
func EncodeParams(ps Params) string { return encodeForm(flatten(dedupe(ps))) }

// encodeJSON writes params as one JSON object in their order; nested nils are
// dropped like top-level ones.
func encodeJSON(ps Params) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(p.Key); err != nil {
			return nil, err
		}
		trimNewline(&buf)
		buf.WriteByte(':')
		if err := enc.Encode(jsonValue(p.Value)); err != nil {
			return nil, fmt.Errorf("param %q: %w", p.Key, err)
		}
		trimNewline(&buf)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func trimNewline(b *bytes.Buffer) {
	if n := b.Len(); n > 0 && b.Bytes()[n-1] == '\n' {
		b.Truncate(n - 1)
	}
}

// jsonValue drops nils inside objects and lists; other values go to
// encoding/json unchanged (map keys come out sorted).
func jsonValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if e != nil {
				m[k] = jsonValue(e)
			}
		}
		return m
	case []any:
		l := make([]any, 0, len(x))
		for _, e := range x {
			if e != nil {
				l = append(l, jsonValue(e))
			}
		}
		return l
	case []string:
		if x == nil {
			return []string{}
		}
		return x
	case json.Number:
		return x
	case fmt.Stringer:
		if _, ok := v.(json.Marshaler); ok {
			return v
		}
		return x.String()
	default:
		return v
	}
}

// appendQuery adds an encoded query to a URL that may already have one.
func appendQuery(u, q string) string {
	if q == "" {
		return u
	}
	switch {
	case !strings.Contains(u, "?"):
		return u + "?" + q
	case strings.HasSuffix(u, "?") || strings.HasSuffix(u, "&"):
		return u + q
	default:
		return u + "&" + q
	}
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	cut := n
	for cut > 0 && cut > n-utf8.UTFMax && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut])
}

package schema

import "strings"

// EscapeKey escapes a literal dot in an object key as Kazoo does ("1.5"
// becomes "1%2E5"), so a dotted FieldError path stays unambiguous.
func EscapeKey(k string) string { return strings.ReplaceAll(k, ".", "%2E") }

// JoinPath appends keys to a dotted path, each escaped (EscapeKey): the one
// way every checker builds the Path of a FieldError.
func JoinPath(prefix string, keys ...string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, k := range keys {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(EscapeKey(k))
	}
	return b.String()
}

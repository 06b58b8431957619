package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// invalidUTF8Path finds the first string of a JSON body holding bytes that
// are not UTF-8 and returns its path ("data.numbers.0"). encoding/json would
// silently turn them into U+FFFD, so "80\xff" would be stored as another
// number than the one sent: such a body is refused instead.
func invalidUTF8Path(body []byte) (string, bool) {
	off := firstInvalidUTF8(body)
	if off < 0 {
		return "", false
	}
	// One frame per open container: the key or index of the value being
	// read in it.
	type frame struct {
		object    bool
		expectKey bool
		key       string
		index     int
	}
	var stack []*frame
	name := func(f *frame) string {
		if f.object {
			return f.key
		}
		return strconv.Itoa(f.index)
	}
	path := func(extra ...string) string {
		parts := make([]string, 0, len(stack)+1)
		for _, f := range stack {
			parts = append(parts, name(f))
		}
		return strings.Join(append(parts, extra...), ".")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return path(), true
		}
		inBadToken := dec.InputOffset() > int64(off)
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].expectKey = true
			}
			continue
		}
		if top != nil && top.object && top.expectKey { // a key
			top.key, _ = tok.(string)
			top.expectKey = false
			if inBadToken {
				return path(), true
			}
			continue
		}
		if top != nil && !top.object { // a value starts in an array
			top.index++
		}
		if inBadToken {
			return path(), true
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, &frame{object: d == '{', expectKey: d == '{', index: -1})
			continue
		}
		if top != nil && top.object { // a scalar value completes
			top.expectKey = true
		}
	}
}

// firstInvalidUTF8 is the offset of the first byte that does not start a
// valid UTF-8 sequence, or -1.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// Package xmlscantest holds the XML inputs that the scanner's parity tests
// and twiml's parser tests both run, so that the two read one list.
package xmlscantest

import (
	_ "embed"
	"strconv"
	"strings"
	"testing"
)

//go:embed seeds.txt
var seeds string

// Seeds are the inputs of seeds.txt (one Go-quoted string a line, # for a
// comment): XML at the edges of its syntax.
func Seeds(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for _, line := range strings.Split(seeds, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := strconv.Unquote(line)
		if err != nil {
			tb.Fatalf("seeds.txt: %q: %v", line, err)
		}
		out = append(out, s)
	}
	return out
}

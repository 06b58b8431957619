package xmlscan

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Seeds are the inputs of testdata/seeds.txt: XML at the edges of its
// syntax (twiml's parser parity test reads the same file).
func Seeds(tb testing.TB) []string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "seeds.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
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

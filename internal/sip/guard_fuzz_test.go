package sip

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"
)

// tortureDir finds shared/reference/rfc4475 beside the repository (CI has
// shared/ there). Missing, the test is skipped locally and fails in CI.
func tortureDir(t testing.TB) string { return findTorture(t, false) }

// findTorture is tortureDir; optional, it returns "" when the messages
// are missing rather than skipping.
func findTorture(t testing.TB, optional bool) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
	rfc := filepath.Join(dir, "..", "shared", "reference", "rfc4475")
	if _, err := os.Stat(rfc); err != nil && optional {
		return ""
	} else if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("RFC 4475 messages missing at %s", rfc)
		}
		tortureMissing.Do(func() {
			fmt.Fprintf(os.Stderr, "\n!!! SKIPPED: RFC 4475 torture tests: %s is missing (../shared is not part of this clone; CI=true makes this fatal); FuzzGuard runs on its own corpus only\n\n", rfc)
		})
		t.Skipf("RFC 4475 messages not found at %s", rfc)
	}
	return rfc
}

// tortureMissing prints the loud line about missing messages once.
var tortureMissing sync.Once

// tortureIfPresent are the RFC 4475 messages, or none when ../shared is
// missing: a fuzz target seeds from them but does not need them
// (testdata/fuzz/FuzzGuard is its own corpus).
func tortureIfPresent(f *testing.F) map[string][]byte {
	dir := findTorture(f, true)
	if dir == "" {
		return nil
	}
	return torture(f)
}

// torture are the RFC 4475 messages.
func torture(t testing.TB) map[string][]byte {
	files, _ := filepath.Glob(filepath.Join(tortureDir(t), "*.dat"))
	out := map[string][]byte{}
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			out[filepath.Base(p)] = b
		}
	}
	return out
}

// TestAddRport: every request that parses, with a plain top Via and no
// rport, still parses after the rewrite, with rport on its top Via (RFC
// 4475's folded and spaced headers included), in place as in a copy; one
// whose top Via has rport or is not plain is left alone: the guard's
// decision on the raw bytes is the parser's.
func TestAddRport(t *testing.T) {
	msgs := torture(t)
	msgs["two vias on a line"] = []byte("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx , SIP/2.0/UDP g\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n")
	msgs["trailing semicolon"] = []byte("OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/TCP h:5;\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n")
	msgs["rport already"] = []byte("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx;rport=5\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n")
	msgs["rport on the second"] = []byte("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx, SIP/2.0/UDP g;rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n")
	parser := sipmsg.NewParser()
	n := 0
	for name, data := range msgs {
		msg, err := parser.ParseSIP(data)
		if err != nil {
			continue
		}
		req, ok := msg.(*sipmsg.Request)
		if !ok || req.Via() == nil {
			continue
		}
		// The guard decides on the raw bytes what the parse says.
		want := !req.Via().Params.Has("rport") && wellFormed(req.Via())
		out := addRport(data)
		if !want {
			if out != nil {
				t.Errorf("%s: rport added to the top Via %q", name, req.Via().Value())
			}
			continue
		}
		if out == nil {
			t.Errorf("%s: no rport added to the top Via %q", name, req.Via().Value())
			continue
		}
		n++
		in := append(bytes.Clone(data), make([]byte, 16)...)[:len(data)]
		if got := addRportInPlace(in); !bytes.Equal(got, out) || &got[0] != &in[0] {
			t.Errorf("%s: in place %q, copied %q", name, got, out)
		}
		m2, err := parser.ParseSIP(out)
		if err != nil {
			t.Errorf("%s: the rewrite does not parse: %v\n%q", name, err, out)
			continue
		}
		// (sipgo keeps the space before a comma in the last parameter's
		// name: "rport ", hence Contains.)
		if v := m2.(*sipmsg.Request).Via(); !strings.Contains(v.Value(), ";rport") || v.Host != req.Via().Host {
			t.Errorf("%s: top Via after the rewrite: %s", name, v.Value())
		}
	}
	if n < 20 {
		t.Errorf("only %d messages rewritten", n)
	}
}

// FuzzGuard feeds arbitrary datagrams to what the UDP guard does before
// sipgo: the stateless 400 and the rport rewrite never panic, and the
// rewrite only inserts "rport".
func FuzzGuard(f *testing.F) {
	for _, b := range tortureIfPresent(f) {
		f.Add(b)
	}
	parser := sipmsg.NewParser()
	f.Fuzz(func(t *testing.T, data []byte) {
		if n, ok := contentLength(data); ok && n < 0 {
			t.Fatalf("negative Content-Length %d", n)
		}
		if msg, err := parser.ParseSIP(data); err == nil {
			if req, ok := msg.(*sipmsg.Request); ok && req.Via() != nil && req.From() != nil {
				_ = checkHeaders(req) // never panics on what the parser took
			}
		}
		if res := badRequest(data); res != nil && !bytes.HasPrefix(res, []byte("SIP/2.0 400 ")) {
			t.Fatalf("400 starts %q", res[:min(len(res), 20)])
		}
		// The read-time shedding's raw reads never panic either, and its 503
		// is one.
		_, _, _ = rawToTag(data), isInvite(data), startURI(data)
		_ = rawUser(rawHeader(data, "from", "f"))
		if res := statelessResponse(data, "503 Service Unavailable", "Retry-After: 5", "x"); res != nil &&
			(!bytes.HasPrefix(res, []byte("SIP/2.0 503 ")) || !bytes.HasSuffix(res, []byte("\r\n\r\n"))) {
			t.Fatalf("503 %q", res)
		}
		if in := bytes.Clone(data); addRportInPlace(in) == nil != (addRport(data) == nil) {
			t.Fatalf("in place and copied rewrites disagree on %q", data)
		}
		out := addRport(data)
		if out == nil {
			return
		}
		i := 0
		for i < len(data) && data[i] == out[i] {
			i++
		}
		added := string(out[i : i+len(out)-len(data)])
		if (added != ";rport" && added != "rport") || !bytes.Equal(out[i+len(added):], data[i:]) {
			t.Fatalf("the rewrite changed more than rport: %q -> %q", data, out)
		}
	})
}

package sdp

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// parseBoth reads body with parseFast (when it takes it) and with pion.
func parseBoth(t *testing.T, body []byte) (fast *Description, fastErr error, took bool, slow *Description, slowErr error) {
	t.Helper()
	var raw rawDescription
	if took = parseFast(string(body), &raw); took {
		fast, fastErr = raw.description()
	}
	var praw rawDescription
	if slowErr = parsePion(body, &praw); slowErr == nil {
		slow, slowErr = praw.description()
	}
	return fast, fastErr, took, slow, slowErr
}

// samePath fails when parseFast took body and its result differs from
// pion's: accepted by one and refused by the other, a different refusal,
// or different media, formats, addresses, directions or ports.
func samePath(t *testing.T, body []byte) (took bool) {
	t.Helper()
	fast, fastErr, took, slow, slowErr := parseBoth(t, body)
	if !took {
		return false
	}
	if (fastErr == nil) != (slowErr == nil) {
		t.Fatalf("parseFast err = %v, pion err = %v for %q", fastErr, slowErr, body)
	}
	if fastErr != nil {
		if fastErr.Error() != slowErr.Error() {
			t.Fatalf("parseFast err = %v, pion err = %v for %q", fastErr, slowErr, body)
		}
		return true
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("parseFast = %+v\npion      = %+v\nfor %q", fast, slow, body)
	}
	fc, fe := fast.Select()
	sc, se := slow.Select()
	if !errors.Is(fe, se) && (fe == nil || se == nil || fe.Error() != se.Error()) || !reflect.DeepEqual(fc, sc) {
		t.Fatalf("Select: parseFast %+v, %v; pion %+v, %v for %q", fc, fe, sc, se, body)
	}
	return true
}

// rfc4566Example is the example of RFC 4566 §5 (with a= lines pion's
// grammar accepts after t=).
const rfc4566Example = "v=0\r\n" +
	"o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n" +
	"s=SDP Seminar\r\n" +
	"i=A Seminar on the session description protocol\r\n" +
	"u=http://www.example.com/seminars/sdp.pdf\r\n" +
	"e=j.doe@example.com (Jane Doe)\r\n" +
	"c=IN IP4 224.2.17.12/127\r\n" +
	"t=2873397496 2873404696\r\n" +
	"a=recvonly\r\n" +
	"m=audio 49170 RTP/AVP 0\r\n" +
	"m=video 51372 RTP/AVP 99\r\n" +
	"a=rtpmap:99 h263-1998/90000\r\n"

// rfc3264Offers are the offers of RFC 3264 §10 and RFC 4317's examples,
// the shapes a phone sends.
var rfc3264Offers = []string{
	"v=0\r\no=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\r\ns=\r\nc=IN IP4 host.atlanta.example.com\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 97\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:97 iLBC/8000\r\nm=video 51372 RTP/AVP 31 32\r\na=rtpmap:31 H261/90000\r\na=rtpmap:32 MPV/90000\r\n",
	"v=0\r\no=bob 2808844564 2808844564 IN IP4 192.0.2.2\r\ns=\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 49174 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\nm=video 0 RTP/AVP 32\r\na=rtpmap:32 MPV/90000\r\n",
	"v=0\r\no=alice 2890844526 2890844527 IN IP4 192.0.2.1\r\ns=\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=sendonly\r\n",
	"v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::2\r\nb=AS:64\r\nt=0 0\r\nm=audio 5004 RTP/AVP 8 101\r\nb=TIAS:64000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=rtcp:5009 IN IP6 2001:db8::2\r\na=ptime:20\r\na=inactive\r\n",
	"v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\nc=IN IP4 10.0.0.9\n",
}

func seeds(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	names, err := filepath.Glob("testdata/*.sdp")
	if err != nil || len(names) == 0 {
		tb.Fatalf("testdata offers: %v %v", names, err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	out = append(out, []byte(rfc4566Example))
	for _, s := range rfc3264Offers {
		out = append(out, []byte(s))
	}
	return out
}

// TestParseFastTakesTheUsualOffers: the offers of sipp, baresip and the
// RFCs are read by parseFast (not handed to pion), with pion's result.
func TestParseFastTakesTheUsualOffers(t *testing.T) {
	for i, b := range seeds(t) {
		if string(b) == rfc4566Example { // u= and e= are left to pion
			if samePath(t, b) {
				t.Errorf("parseFast took the RFC 4566 example (u=, e=)")
			}
			continue
		}
		if !samePath(t, b) {
			t.Errorf("seed %d not taken by parseFast:\n%s", i, b)
		}
	}
}

// TestParseFastDeclines: what is not written the usual way is left to pion
// (which refuses or reads it), never guessed at.
func TestParseFastDeclines(t *testing.T) {
	base := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
	for _, body := range []string{
		base + "m=audio 4000 RTP/AVP 0",                                                     // no line end
		base + "m=audio 4000 RTP/AVP 0\r\n\r\n",                                             // empty line
		base + "m=audio 4000  RTP/AVP 0\r\n",                                                // two spaces
		base + "m=audio 4000 RTP/AVP 0 \r\n",                                                // trailing space
		base + "m=audio 4000/2 RTP/AVP 0\r\n",                                               // port range
		base + "m=audio 65536 RTP/AVP 0\r\n",                                                // port too big
		base + "m=audio +400 RTP/AVP 0\r\n",                                                 // sign
		base + "m=audio 4000 RTP/XYZ 0\r\n",                                                 // unknown proto
		base + "m=voice 4000 RTP/AVP 0\r\n",                                                 // unknown media
		base + "m=audio 4000 RTP/AVP 0\r\nk=clear:x\r\n",                                    // k=
		base + "m=audio 4000 RTP/AVP 0\r\ni=x\r\n",                                          // media i=
		base + "z=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",                                        // z=
		base + "a=x\r\nt=0 0\r\n",                                                           // t= after a=
		"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nb=AS:1\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n", // c= after b=
		"v=0\r\no=- 99999999999999999999 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n",             // overflows
		"v=0\r\no=- 1 1 IN IP4\r\ns=-\r\nt=0 0\r\n",                                         // o= short
		"v=0\r\no=- 1 1 IN IP5 10.0.0.1\r\ns=-\r\nt=0 0\r\n",                                // IP5
		"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 a b\r\nt=0 0\r\n",                // c= long
		"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nb=X-YZ:1\r\nt=0 0\r\n",                    // experimental b=
		"v=0\r\no=- 1\t1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n",                               // tab
		"v=0\r\no=- 1 1 IN IP4 10.0.0.1\rs=-\r\nt=0 0\r\n",                                  // stray CR
		" v=0\r\n",
		"v=1\r\n",
	} {
		if samePath(t, []byte(body)) {
			t.Errorf("parseFast took %q", body)
		}
	}
}

// FuzzParseMatchesPion: for any body, Parse gives pion's result: when
// parseFast takes a body, its description (media, formats, addresses,
// directions, ports), its Select choice and its refusal are pion's; when
// it declines, pion reads the body anyway. Run it with
// `go test -fuzz FuzzParseMatchesPion ./internal/media/sdp/`.
func FuzzParseMatchesPion(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		samePath(t, body)
		// And Parse itself never panics and refuses with ErrMalformed.
		if _, err := Parse(body); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("Parse err = %v", err)
		}
	})
}

// BenchmarkParse reads sipp's offer (the bench's caller) the way Parse
// does; BenchmarkParsePion the way it did before parseFast.
func BenchmarkParse(b *testing.B) {
	body, err := os.ReadFile("testdata/sipp_pcma.sdp")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePion(b *testing.B) {
	body, err := os.ReadFile("testdata/sipp_pcma.sdp")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var raw rawDescription
		if err := parsePion(body, &raw); err != nil {
			b.Fatal(err)
		}
		if _, err := raw.description(); err != nil {
			b.Fatal(err)
		}
	}
}

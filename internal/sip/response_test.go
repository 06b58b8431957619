package sip

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"
)

// responseCases are requests whose responses test newResponse: what a
// sipp or phone INVITE looks like, Record-Route and several Vias, compact
// forms, rport, a Timestamp, a REGISTER and an ACK (no Record-Route
// copied), a To tag already there.
var responseCases = map[string]string{
	"sipp invite": "INVITE sip:1000@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1-0\r\n" +
		"From: sipp <sip:sipp@127.0.0.1:5070>;tag=1\r\nTo: <sip:1000@127.0.0.1:5060>\r\nCall-ID: 1-1@127.0.0.1\r\n" +
		"CSeq: 1 INVITE\r\nContact: sip:sipp@127.0.0.1:5070\r\nMax-Forwards: 70\r\nSubject: Performance Test\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n",
	"routed": "INVITE sip:1000@10.0.0.1 SIP/2.0\r\nRecord-Route: <sip:p1.example;lr>\r\nVia: SIP/2.0/UDP p1.example;branch=z9hG4bKa\r\n" +
		"v: SIP/2.0/UDP 10.0.0.9:5062;rport;branch=z9hG4bKb\r\nrecord-route: <sip:p2.example;lr>, <sip:p3.example;lr>\r\n" +
		"f: <sip:a@b>;tag=x\r\nt: \"Bob\" <sip:1000@b>\r\ni: abc\r\nCSeq: 7 INVITE\r\nm: <sip:a@10.0.0.9:5062>\r\n" +
		"Timestamp: 54\r\nX-Custom: 1\r\nl: 0\r\n\r\n",
	"rport top": "OPTIONS sip:b SIP/2.0\r\nVIA: SIP/2.0/UDP 10.0.0.9:5062;branch=z9hG4bKc;rport\r\nFrom: <sip:a@b>;tag=1\r\n" +
		"To: <sip:b>\r\nCall-ID: o1\r\nCSeq: 2 OPTIONS\r\nTimestamp: 1.5 0.2\r\nContent-Length: 0\r\n\r\n",
	"register": "REGISTER sip:b SIP/2.0\r\nRecord-Route: <sip:p1;lr>\r\nVia: SIP/2.0/TCP 10.0.0.9;branch=z9hG4bKd\r\n" +
		"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: r1\r\nCSeq: 3 REGISTER\r\nContact: <sip:a@10.0.0.9>\r\nContent-Length: 0\r\n\r\n",
	"ack": "ACK sip:b SIP/2.0\r\nRecord-Route: <sip:p1;lr>\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKe\r\n" +
		"From: <sip:a@b>;tag=1\r\nTo: <sip:b>;tag=2\r\nCall-ID: a1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
	"bye tagged": "BYE sip:b SIP/2.0\r\nRecord-Route: <sip:p1;lr>\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKf;received=1.2.3.4\r\n" +
		"From: <sip:a@b>;tag=1\r\nTo: <sip:b>;tag=2\r\nCall-ID: b1\r\nCSeq: 4 BYE\r\nContent-Length: 0\r\n\r\n",
}

var uuidTag = regexp.MustCompile(`;tag=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// TestNewResponseMatchesSipgo holds newResponse to sipgo's
// NewResponseFromRequest: the same bytes (a To tag sipgo makes up is
// random in both, so only its form is compared), transport and
// destination, for the cases above and every RFC 4475 request that
// parses, at each kind of status code.
func TestNewResponseMatchesSipgo(t *testing.T) {
	msgs := map[string][]byte{}
	for name, m := range responseCases {
		msgs[name] = []byte(m)
	}
	if dir := findTorture(t, true); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "*.dat"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			msgs["rfc4475 "+filepath.Base(f)] = b
		}
	}
	parser := sipmsg.NewParser()
	compared := 0
	for name, raw := range msgs {
		m, err := parser.ParseSIP(raw)
		if err != nil {
			continue
		}
		req, ok := m.(*sipmsg.Request)
		if !ok {
			continue
		}
		req.SetSource("10.0.0.9:5062")
		req.SetTransport("UDP")
		for _, code := range []int{100, 180, 183, 200, 202, 302, 403, 486, 503} {
			want := sipmsg.NewResponseFromRequest(req, code, "R", nil)
			got := newResponse(req, nil, code, "R")
			ws, gs := want.String(), got.String()
			if uuidTag.MatchString(ws) {
				if !uuidTag.MatchString(gs) {
					t.Errorf("%s %d: no made-up To tag in\n%s", name, code, gs)
				}
				ws, gs = uuidTag.ReplaceAllString(ws, ";tag=T"), uuidTag.ReplaceAllString(gs, ";tag=T")
			}
			if gs != ws {
				t.Errorf("%s %d:\n got %q\nwant %q", name, code, gs, ws)
			}
			if got.Destination() != want.Destination() || got.Transport() != want.Transport() {
				t.Errorf("%s %d: to %s over %s, want %s over %s", name, code,
					got.Destination(), got.Transport(), want.Destination(), want.Transport())
			}
			compared++
			if req.To() == nil || req.To().Params.Has("tag") {
				continue
			}
			// An INVITE's responses: our tag on its To, given apart.
			want = sipmsg.NewResponseFromRequest(copyWithToTag(req, "ours"), code, "R", nil)
			got = newResponse(req, taggedTo(req, "ours"), code, "R")
			if gs, ws := got.String(), want.String(); gs != ws {
				t.Errorf("%s %d, tagged:\n got %q\nwant %q", name, code, gs, ws)
			}
		}
	}
	if compared < len(responseCases)*9 {
		t.Fatalf("compared %d responses", compared)
	}
}

// BenchmarkNewResponse gives a sipp INVITE our To tag and builds its 200,
// the way before (a copy of the INVITE, sipgo's NewResponseFromRequest)
// and ours.
func BenchmarkNewResponse(b *testing.B) {
	m, err := sipmsg.NewParser().ParseSIP([]byte(responseCases["sipp invite"]))
	if err != nil {
		b.Fatal(err)
	}
	req := m.(*sipmsg.Request)
	req.SetSource("127.0.0.1:5070")
	b.Run("sipgo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sipmsg.NewResponseFromRequest(copyWithToTag(req, "abc"), 200, "OK", nil)
		}
	})
	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			newResponse(req, taggedTo(req, "abc"), 200, "OK")
		}
	})
}

// copyWithToTag is how the INVITE got our tag before taggedTo: a copy of
// it with a new To header, the rest shared.
func copyWithToTag(req *sipmsg.Request, tag string) *sipmsg.Request {
	out := sipmsg.NewRequest(req.Method, req.Recipient)
	out.SipVersion = req.SipVersion
	for _, h := range req.Headers() {
		if to, ok := h.(*sipmsg.ToHeader); ok && to == req.To() {
			h = taggedTo(req, tag)
		}
		out.AppendHeader(h)
	}
	out.SetBody(req.Body())
	out.SetTransport(req.Transport())
	out.SetSource(req.Source())
	out.SetDestination(req.Destination())
	return out
}

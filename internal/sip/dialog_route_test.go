package sip

import (
	"slices"
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"
)

// TestRequestRouting: requests we send in a dialog follow its route set,
// the 2xx's Record-Route reversed for a UAC (RFC 3261 §12.1.2); a loose
// router is the next hop, a strict one takes the Request-URI and the
// remote target goes last in the Route (§12.2.1.1).
func TestRequestRouting(t *testing.T) {
	s := &Server{cfg: Config{Host: "192.0.2.10"}.withDefaults()}
	for _, tc := range []struct {
		name             string
		recordRoute      []string // in the 2xx, as the callee's side lists them
		wantURI, wantDst string
		wantRoute        []string
	}{
		{"direct", nil, "sip:bob@192.0.2.20:5062", "192.0.2.20:5062", nil},
		{"loose", []string{"<sip:p2.example.net;lr>", "<sip:p1.example.net;lr>"},
			"sip:bob@192.0.2.20:5062", "p1.example.net:5060",
			[]string{"<sip:p1.example.net;lr>", "<sip:p2.example.net;lr>"}},
		{"strict", []string{"<sip:p2.example.net;lr>", "<sip:p1.example.net>"},
			"sip:p1.example.net", "p1.example.net:5060",
			[]string{"<sip:p2.example.net;lr>", "<sip:bob@192.0.2.20:5062>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			invite := sipmsg.NewRequest(sipmsg.INVITE, sipmsg.Uri{Scheme: "sip", User: "bob", Host: "192.0.2.20"})
			from := &sipmsg.FromHeader{Address: sipmsg.Uri{Scheme: "sip", Host: "192.0.2.10"}, Params: sipmsg.NewParams()}
			from.Params.Add("tag", "ours")
			cid := sipmsg.CallIDHeader("route-test")
			invite.AppendHeader(from)
			invite.AppendHeader(&sipmsg.ToHeader{Address: invite.Recipient, Params: sipmsg.NewParams()})
			invite.AppendHeader(&cid)
			invite.AppendHeader(&sipmsg.CSeqHeader{SeqNo: 7, MethodName: sipmsg.INVITE})
			invite.AppendHeader(s.contact(nil, "udp"))
			s.prepare(invite, "udp")
			ok := sipmsg.NewResponseFromRequest(invite, 200, "OK", nil)
			ok.To().Params.Add("tag", "theirs")
			ok.AppendHeader(&sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: "bob", Host: "192.0.2.20", Port: 5062}})
			for _, rr := range tc.recordRoute {
				ok.AppendHeader(sipmsg.NewHeader("Record-Route", rr))
			}
			var d dialog
			d.s = s
			d.initUAC(invite, ok, nil)

			bye := d.newRequest(sipmsg.BYE)
			var routes []string
			for _, h := range bye.GetHeaders("Route") {
				routes = append(routes, h.Value())
			}
			if got := bye.Recipient.String(); got != tc.wantURI {
				t.Errorf("Request-URI %s, want %s", got, tc.wantURI)
			}
			if !slices.Equal(routes, tc.wantRoute) {
				t.Errorf("Route %q, want %q", routes, tc.wantRoute)
			}
			if got := bye.Destination(); got != tc.wantDst {
				t.Errorf("sent to %s, want %s", got, tc.wantDst)
			}
			if bye.CSeq().SeqNo != 8 || toTag(bye) != "theirs" || fromTag(bye) != "ours" {
				t.Errorf("CSeq %d, tags %s/%s", bye.CSeq().SeqNo, fromTag(bye), toTag(bye))
			}
		})
	}
}

package sip

import (
	"context"
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
)

// TestReplacedCallBoundaries: a Replaces finds only a call of the same
// account that the REFER's sender is in (its caller, or the callee it
// answered), written with the tags either way round; everything else
// gets the same refusal.
func TestReplacedCallBoundaries(t *testing.T) {
	s := &Server{}
	bridgeOf := func(account, source, id string) *bridging {
		l := &inLeg{info: call.Info{AccountID: account}}
		l.id, l.source, l.transport = id, source, "udp"
		br := &bridging{s: s, caller: l, callee: &outLeg{}, ctx: context.Background()}
		br.callee.ctx, br.callee.peer, br.callee.transport = context.Background(), source, "udp"
		br.callee.id = id + "-callee"
		s.bridges.Store(id, br)
		s.bridges.Store(br.callee.id, br)
		return br
	}
	const phone = "10.0.0.1:5060"
	mine := bridgeOf("acct-1", "192.0.2.50:5060", dialogID("c1", "ours1", "a-tag"))
	consult := bridgeOf("acct-1", phone, dialogID("c2", "ours2", "b-tag"))
	bridgeOf("acct-1", "10.0.0.9:5060", dialogID("c3", "ours3", "x-tag")) // another phone's call
	bridgeOf("acct-2", phone, dialogID("c4", "ours4", "y-tag"))           // same address, other account
	for _, tc := range []struct {
		name, replaces, source string
		want                   *bridging
		callerThere            bool
	}{
		{"the consultation call", "c2;to-tag=ours2;from-tag=b-tag", phone, consult, true},
		{"tags the other way round", "c2;from-tag=ours2;to-tag=b-tag", phone, consult, true},
		{"from another port", "c2;to-tag=ours2;from-tag=b-tag", "10.0.0.1:5062", nil, false},
		{"another phone's call", "c3;to-tag=ours3;from-tag=x-tag", phone, nil, false},
		{"another account's call", "c4;to-tag=ours4;from-tag=y-tag", phone, nil, false},
		{"the call the REFER is in", "c1;to-tag=ours1;from-tag=a-tag", "192.0.2.50:5060", nil, false},
		{"no such call", "c9;to-tag=a;from-tag=b", phone, nil, false},
		{"no tags", "c2", phone, nil, false},
		{"the called side of a call the sender answered", "callee", phone, consult, false},
		{"the called side of a call another phone answered", "callee", "10.0.0.9:5060", nil, false},
	} {
		if tc.replaces == "callee" { // the callee's dialog id, as a Replaces
			tc.replaces = "c2-callee;to-tag=x;from-tag=y"
			s.bridges.Store(dialogID("c2-callee", "x", "y"), consult)
			consult.callee.id = dialogID("c2-callee", "x", "y")
		}
		got, callerThere, why := s.replacedCall(mine, tc.source, tc.replaces)
		if got != tc.want || callerThere != tc.callerThere || (got == nil) == (why == "") {
			t.Errorf("%s: %v %v %q", tc.name, got, callerThere, why)
		}
	}
	// Every refusal of a call that is not the sender's reads the same.
	_, _, a := s.replacedCall(mine, phone, "c3;to-tag=ours3;from-tag=x-tag")
	_, _, b := s.replacedCall(mine, phone, "c9;to-tag=a;from-tag=b")
	_, _, c := s.replacedCall(mine, phone, "c4;to-tag=ours4;from-tag=y-tag")
	if a != b || b != c {
		t.Errorf("refusals differ: %q %q %q", a, b, c)
	}
}

// TestReferTo reads Refer-To values as phones write them.
func TestReferTo(t *testing.T) {
	for _, tc := range []struct{ in, user, replaces string }{
		{"<sip:2202@10.0.0.5:5060>", "2202", ""},
		{"sip:2202@10.0.0.5;transport=udp", "2202", ""},
		{`"Carol" <sip:carol@example.com;user=phone>;x=y`, "carol", ""},
		{"<sip:c@h?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>", "c", "abc@h;to-tag=1;from-tag=2"},
		{"<sip:c@h?replaces=abc%40h%3bto-tag%3d1%3bfrom-tag%3d2&Require=replaces>", "c", "abc@h;to-tag=1;from-tag=2"},
	} {
		req := newRequestWith(t, "Refer-To", tc.in)
		u, r, err := referTo(req)
		if err != nil || u.User != tc.user || r != tc.replaces {
			t.Errorf("%s: %v %q %v", tc.in, u, r, err)
		}
	}
	for _, bad := range []string{"", "<sip:c@h", "<tel:+15551234>", "<http://x/>", "<sip:c@h?Replaces=%zz>"} {
		req := newRequestWith(t, "Refer-To", bad)
		if _, _, err := referTo(req); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// newRequestWith is a REFER with one header.
func newRequestWith(t *testing.T, name, value string) *sipmsg.Request {
	t.Helper()
	req := sipmsg.NewRequest(sipmsg.REFER, sipmsg.Uri{Scheme: "sip", User: "sb", Host: "192.0.2.1"})
	if value != "" {
		req.AppendHeader(sipmsg.NewHeader(name, value))
	}
	return req
}

// FuzzReferTo: no Refer-To value takes the server down, and one that is
// accepted names a sip: or sips: URI with a host.
func FuzzReferTo(f *testing.F) {
	for _, s := range []string{"<sip:2202@10.0.0.5:5060>", "sip:a@b;x=y", `"C" <sip:c@h?Replaces=a%40b%3Bto-tag%3D1%3Bfrom-tag%3D2>`,
		"<sip:c@h?Replaces=%", "<sips:x@[::1]:5061;transport=tls>", "<", ">", "<sip:@>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		req := newRequestWith(t, "Refer-To", v)
		u, _, err := referTo(req)
		if err == nil && (u.Host == "" || (u.Scheme != "sip" && u.Scheme != "sips" && u.Scheme != "SIP" && u.Scheme != "SIPS")) {
			t.Errorf("%q accepted as %v", v, u)
		}
		_, _ = referTarget(v)
		_ = sipfragStatus([]byte(v))
	})
}

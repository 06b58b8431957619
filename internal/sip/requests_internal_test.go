package sip

import (
	"strings"
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"
)

// TestRepeatedHeader: a header a request may carry once is found repeated
// whatever the case or form of its name, and the refusal names the first
// of them in singleHeaders' order, as GetHeaders per name did.
func TestRepeatedHeader(t *testing.T) {
	base := []string{
		"INVITE sip:1000@127.0.0.1 SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1",
		"From: <sip:a@127.0.0.1>;tag=1",
		"To: <sip:1000@127.0.0.1>",
		"Call-ID: c1",
		"CSeq: 1 INVITE",
		"Max-Forwards: 70",
	}
	tests := []struct {
		extra []string
		want  string
	}{
		{nil, ""},
		{[]string{"Contact: <sip:a@127.0.0.1>", "Contact: <sip:b@127.0.0.1>"}, ""}, // may repeat
		{[]string{"call-id: c2"}, "Call-ID"},
		{[]string{"i: c2"}, "Call-ID"}, // compact form
		{[]string{"MAX-FORWARDS: 1"}, "Max-Forwards"},
		{[]string{"t: <sip:x@127.0.0.1>", "cseq: 2 INVITE"}, "To"}, // To before CSeq in the list
		{[]string{"Content-Type: application/sdp", "c: text/plain"}, "Content-Type"},
	}
	for _, tt := range tests {
		lines := append(append(append([]string{}, base...), tt.extra...), "Content-Length: 0", "", "")
		msg, err := sipmsg.ParseMessage([]byte(strings.Join(lines, "\r\n")))
		if err != nil {
			t.Fatalf("%v: %v", tt.extra, err)
		}
		req, ok := msg.(*sipmsg.Request)
		if !ok {
			t.Fatalf("%v: not a request", tt.extra)
		}
		if got := repeatedHeader(req); got != tt.want {
			t.Errorf("%v: repeatedHeader = %q, want %q", tt.extra, got, tt.want)
		}
	}
}

// TestHeaderValues: the values of the named headers, split at commas,
// trimmed and lower-cased, in the order of the names given, then of the
// headers; names matched whatever their case.
func TestHeaderValues(t *testing.T) {
	raw := strings.Join([]string{
		"INVITE sip:1000@127.0.0.1 SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1",
		"From: <sip:a@127.0.0.1>;tag=1",
		"To: <sip:1000@127.0.0.1>",
		"Call-ID: c1",
		"CSeq: 1 INVITE",
		"k: 100rel",
		"Supported: Timer , replaces,,",
		"SUPPORTED: path",
		"Require: timer",
		"Content-Length: 0",
		"", "",
	}, "\r\n")
	msg, err := sipmsg.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	got := headerValues(msg.(*sipmsg.Request), "Supported", "k")
	if want := []string{"timer", "replaces", "path", "100rel"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("headerValues(Supported, k) = %q, want %q", got, want)
	}
	if got := headerValues(msg.(*sipmsg.Request), "Allow"); got != nil {
		t.Errorf("headerValues(Allow) = %q, want none", got)
	}
}

package sip

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// TestParseFailedByOwnParse: whatever sipgo's error line says, a datagram
// it carries is answered 400 when our parse of it fails, and a line whose
// data parses (not a parse failure) is logged as a warning and answered
// nothing. The line's wording is never matched.
func TestParseFailedByOwnParse(t *testing.T) {
	srv, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	peer, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	var logged bytes.Buffer
	s := &Server{parser: sipmsg.NewParser(), udp: srv, log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}
	lib := slog.New(demote{h: slog.NewTextHandler(&logged, nil), parseFailed: s.parseFailed})

	// A request whose Content-Length is longer than its body: it has the
	// headers a 400 needs, but does not parse.
	request := func(callID, length string) string {
		return "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-" + callID + "\r\n" +
			"From: <sip:a@127.0.0.1>;tag=pf\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: " + callID + "\r\nCSeq: 1 OPTIONS\r\n" +
			"Content-Length: " + length + "\r\n\r\nshort"
	}
	if _, err := s.parser.ParseSIP([]byte(request("x", "9999"))); err == nil {
		t.Fatal("the bad request parses: the test needs another")
	}
	// The line whose data parses comes first: a 400 it drew would be read
	// before the next case's (each 400 names its Call-ID), so no case
	// waits for silence.
	for _, tc := range []struct {
		name, msg, data string
		want400         bool
	}{
		{"data that parses", "failed to parse", request("pf-good", "5"), false},
		{"sipgo's wording", "failed to parse", request("pf-sipgo", "9999"), true},
		{"another wording", "datagram rejected by parser", request("pf-other", "9999"), true},
	} {
		s.lastRead.note(peer.LocalAddr(), []byte(tc.data))
		logged.Reset()
		lib.Error(tc.msg, "data", tc.data, "error", "whatever")
		if tc.want400 {
			peer.SetReadDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 2048)
			n, _, err := peer.ReadFrom(buf)
			if err != nil {
				t.Fatalf("%s: no 400: %v", tc.name, err)
			}
			callID := tc.data[strings.Index(tc.data, "Call-ID: ")+9:]
			callID = callID[:strings.Index(callID, "\r")]
			if got := string(buf[:n]); !strings.HasPrefix(got, "SIP/2.0 400 ") || !strings.Contains(got, "Call-ID: "+callID+"\r\n") {
				t.Errorf("%s: answered %q, want a 400 to Call-ID %s", tc.name, got, callID)
			}
		}
		if wantLog := !tc.want400; strings.Contains(logged.String(), tc.msg) != wantLog {
			t.Errorf("%s: sipgo's line logged %v, want %v: %q", tc.name, !wantLog, wantLog, logged.String())
		}
	}
}

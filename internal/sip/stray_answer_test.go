package sip_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// TestForgedAnswerReleasesNothing: a stranger's 200 to an INVITE the
// server never sent (or never CANCELled) gets neither ACK nor BYE, else
// one forged datagram would make the server send requests, with their
// retransmissions, to the Contact and source of the forger's choosing.
// (The 200 that does cross a CANCEL of ours is released:
// e2e TestRingGroupAnswerOverCancel.)
func TestForgedAnswerReleasesNothing(t *testing.T) {
	ts := newServer(t, sip.Config{})
	peer := newUDPPeer(t)
	local := peer.conns[0].LocalAddr().String()
	srv, err := net.ResolveUDPAddr("udp", ts.Addr())
	if err != nil {
		t.Fatal(err)
	}
	for i, cseq := range []string{"1 INVITE", "2 INVITE"} {
		msg := "SIP/2.0 200 OK\r\n" +
			"Via: SIP/2.0/UDP " + ts.Addr() + ";branch=z9hG4bKforged" + fmt.Sprint(i) + "\r\n" +
			"From: <sip:victim@" + ts.Addr() + ">;tag=guess" + fmt.Sprint(i) + "\r\n" +
			"To: <sip:x@" + local + ">;tag=forger\r\n" +
			"Call-ID: forged-" + fmt.Sprint(i) + "@" + local + "\r\n" +
			"CSeq: " + cseq + "\r\n" +
			"Contact: <sip:x@" + local + ">\r\n" +
			"Content-Length: 0\r\n\r\n"
		before := sip.StrayResponses(ts.Server)
		if _, err := peer.conns[0].WriteTo([]byte(msg), srv); err != nil {
			t.Fatal(err)
		}
		// Once the server has handled it, anything it sent for it is
		// already in the peer's socket (the release writes before it
		// returns).
		waitfor.True(t, 10*time.Second, "the forged 200 handled", func() bool {
			return sip.StrayResponses(ts.Server) > before
		})
	}
	// A request of the peer's own after both: its answer comes after
	// anything the server sent for them (one socket, read in order).
	id := fmt.Sprintf("after-%d", time.Now().UnixNano())
	opts := "OPTIONS sip:" + ts.Addr() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK" + id + "\r\n" +
		"From: <sip:check@127.0.0.1>;tag=" + id + "\r\nTo: <sip:" + ts.Addr() + ">\r\n" +
		"Call-ID: " + id + "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := peer.conns[0].WriteTo([]byte(opts), srv); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case b := <-peer.got:
			m := string(b)
			if strings.HasPrefix(m, "ACK ") || strings.HasPrefix(m, "BYE ") {
				t.Fatalf("the server answered a forged 200 with:\n%s", m)
			}
			if strings.HasPrefix(m, "SIP/2.0 200") && strings.Contains(m, id) {
				return
			}
		case <-deadline:
			t.Fatal("no answer to OPTIONS")
		}
	}
}

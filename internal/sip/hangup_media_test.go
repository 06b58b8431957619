package sip_test

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// TestMediaStopsAtHangupBeforeAck: a flow that hangs up a call whose ACK
// has not come stops its media at once; the BYE still waits for the ACK
// (RFC 3261 §15), but the caller gets no silence meanwhile (up to 32 s of
// it, for every call whose ACK a loaded server lost).
func TestMediaStopsAtHangupBeforeAck(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{})
	u := newUDPPeer(t)
	peer := u.conns[0].LocalAddr().String()
	addr, _ := net.ResolveUDPAddr("udp", ts.Addr())
	if _, err := u.conns[0].WriteTo(rawInvite(peer, ts.Addr(), "answer-hangup", "noack1", nil), addr); err != nil {
		t.Fatal(err)
	}
	if code := firstFinal(u.got, "noack1", 10*time.Second); code != 200 {
		t.Fatalf("INVITE answered %d, want 200", code)
	}
	// No ACK is sent: the flow pauses 200 ms and hangs up.
	waitfor.True(t, 10*time.Second, "the call's media closed", func() bool { return ts.media.open() == 0 })
	for {
		select {
		case b := <-u.got:
			if bytes.HasPrefix(b, []byte("BYE ")) {
				t.Fatal("BYE sent before the ACK came")
			}
		default:
			return
		}
	}
}

package media

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// TestBridgeInbandDigits: phones without telephone-event, bridged. The
// caller's in-band keys reach the callee as audio (its own detector hears
// them), and the bridged leg that relays them queues no digit of its own:
// detection is off while bridged, so a later Gather on that leg does not
// find keys meant for the far party.
func TestBridgeInbandDigits(t *testing.T) {
	t.Parallel()
	m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: 20000, PortMax: 29999}, nil)
	if err != nil {
		t.Fatal(err)
	}
	session := func(id string) *Session {
		s, err := m.NewSession(t.Context(), "acct", id)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	noTE := func(port int, c codec.Codec) []byte {
		return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %d\r\n", port, c)
	}
	pair := func(phone, leg *Session, c codec.Codec) {
		if _, err := leg.Answer(noTE(phone.LocalPort(), c)); err != nil {
			t.Fatal(err)
		}
		if _, err := phone.Answer(noTE(leg.LocalPort(), c)); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*Session{leg, phone} {
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
		}
	}
	caller, legA, legB, callee := session("caller"), session("leg-a"), session("leg-b"), session("callee")
	pair(caller, legA, codec.PCMU)
	pair(callee, legB, codec.PCMA)

	done := make(chan error, 1)
	go func() { done <- legA.Bridge(t.Context(), legB) }()
	waitfor.True(t, 5*time.Second, "the legs bridged", func() bool { return legA.link.Load() != nil && legB.link.Load() != nil })

	go func() { _ = caller.SendDigits(t.Context(), "5#") }()
	got, err := callee.Gather(t.Context(), call.GatherOptions{FinishOnKey: "#", Timeout: 10 * time.Second})
	if err != nil || got != "5" {
		t.Fatalf("callee heard %q, %v; want 5 (in-band, through the relay)", got, err)
	}
	legA.digits.mu.Lock()
	queued := string(legA.digits.q)
	legA.digits.mu.Unlock()
	if queued != "" {
		t.Errorf("the bridged leg queued %q for itself", queued)
	}
	legB.Close()
	if err := <-done; err != nil {
		t.Errorf("Bridge = %v", err)
	}
}

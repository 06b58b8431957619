package media_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/mediatest"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// TestBridge: caller phone ⇄ leg A (PCMU) ⇄ bridge ⇄ leg B (PCMA) ⇄
// callee phone. Audio crosses both ways (transcoded), digits pass.
func TestBridge(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	caller := mediatest.Session(t, m, "caller")
	legA := mediatest.Session(t, m, "leg-a")
	legB := mediatest.Session(t, m, "leg-b")
	callee := mediatest.Session(t, m, "callee")
	mediatest.Connect(t, caller, legA) // caller offers PCMU first
	pcmaOnly := func(port int) []byte {
		return []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
			itoa(port) + " RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n")
	}
	legB.Offer()
	if err := legB.SetAnswer(pcmaOnly(callee.LocalPort())); err != nil { // callee speaks PCMA only
		t.Fatal(err)
	}
	if _, err := callee.Answer(pcmaOnly(legB.LocalPort())); err != nil {
		t.Fatal(err)
	}
	legB.Start()
	callee.Start()
	if legA.Stats().Codec != "PCMU" || legB.Stats().Codec != "PCMA" {
		t.Fatalf("codecs %s / %s", legA.Stats().Codec, legB.Stats().Codec)
	}

	ctx, cancel := context.WithCancel(t.Context())
	bridged := make(chan error, 1)
	go func() { bridged <- legA.Bridge(ctx, legB) }()

	// Caller → callee: 1 kHz.
	tone := mediatest.WriteWAV(t, "1k.wav", mediatest.Sine(1000, 1, 10000, 8000), 8000)
	type res struct {
		rec call.Recording
		err error
	}
	got := make(chan res, 1)
	go func() {
		r, err := callee.Record(t.Context(), call.RecordOptions{MaxLength: 4 * time.Second, Timeout: 700 * time.Millisecond, Trim: true})
		got <- res{r, err}
	}()
	waitfor.True(t, 5*time.Second, "both legs bridged and the callee recording", func() bool {
		return media.Bridged(legA) && media.Bridged(legB) && media.Recording(callee)
	})
	rep0, drop0 := media.RelayAdjust(legB)
	if err := caller.Play(t.Context(), call.PlayOptions{URL: tone, Loop: 1}); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	audio := mediatest.ReadWAV(t, r.rec.Path)
	if d, slack := mediatest.Voiced(audio.Samples, 8000), relaySlack(legB, rep0, drop0); math.Abs(d-1) > 0.06+slack {
		t.Errorf("callee heard %.2f s, want 1 s (± %.2f s of re-pacing)", d, slack)
	}
	if f := mediatest.Frequency(audio.Samples, 8000); math.Abs(f-1000) > 20 {
		t.Errorf("callee heard %.0f Hz, want 1000", f)
	}

	// Callee → caller: 500 Hz.
	tone2 := mediatest.WriteWAV(t, "500.wav", mediatest.Sine(500, 0.6, 10000, 8000), 8000)
	go func() {
		r, err := caller.Record(t.Context(), call.RecordOptions{MaxLength: 4 * time.Second, Timeout: 700 * time.Millisecond, Trim: true})
		got <- res{r, err}
	}()
	waitfor.True(t, 5*time.Second, "the caller recording", func() bool { return media.Recording(caller) })
	rep0, drop0 = media.RelayAdjust(legA)
	if err := callee.Play(t.Context(), call.PlayOptions{URL: tone2, Loop: 1}); err != nil {
		t.Fatal(err)
	}
	r = <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	audio = mediatest.ReadWAV(t, r.rec.Path)
	if d, slack := mediatest.Voiced(audio.Samples, 8000), relaySlack(legA, rep0, drop0); math.Abs(d-0.6) > 0.06+slack {
		t.Errorf("caller heard %.2f s, want 0.6 s (± %.2f s of re-pacing)", d, slack)
	}
	if f := mediatest.Frequency(audio.Samples, 8000); math.Abs(f-500) > 15 {
		t.Errorf("caller heard %.0f Hz, want 500", f)
	}

	// Digits pass through.
	go caller.SendDigits(t.Context(), "9#")
	digits, err := callee.Gather(t.Context(), call.GatherOptions{FinishOnKey: "#", Timeout: 3 * time.Second})
	if err != nil || digits != "9" {
		t.Errorf("callee got %q, %v; want 9", digits, err)
	}

	// The bridge ends with its context…
	cancel()
	if err := <-bridged; err == nil {
		t.Error("Bridge returned nil on cancel")
	}
	// …or when a side closes.
	go func() { bridged <- legA.Bridge(t.Context(), legB) }()
	waitfor.True(t, 5*time.Second, "the legs bridged again", func() bool { return media.Bridged(legA) && media.Bridged(legB) })
	legB.Close()
	select {
	case err := <-bridged:
		if err != nil {
			t.Errorf("Bridge on close = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Bridge did not end when a side closed")
	}
	if err := legA.Bridge(t.Context(), legA); err == nil {
		t.Error("bridged a session to itself")
	}
	_ = media.ErrBridged
}

// relaySlack is how much a tone relayed out of leg since RelayAdjust gave
// rep0, drop0 may have been stretched or shortened by re-pacing: 20 ms for
// each frame repeated (audio came late, under load) or let go (the queue
// stayed deeper than needed).
func relaySlack(leg *media.Session, rep0, drop0 int) float64 {
	rep, drop := media.RelayAdjust(leg)
	return 0.02 * float64(rep-rep0+drop-drop0)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
